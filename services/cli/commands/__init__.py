"""One module per `taskchat` subcommand; each exposes `register(subparsers)` and `run(args)`."""
