"""Starting a whole TaskChat on one machine: embedded PostgreSQL/Redis, the Gemini emulator,
migrations, the gateway and N workers, waiting until it is ready; and stopping it in order.

One launcher for `taskchat dev`, the benchmarks and the end-to-end tests. Every child dies with
the process that started it (see `lifetime`).
"""
