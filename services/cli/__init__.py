"""`taskchat`: one console script to run, operate and try out TaskChat locally."""
