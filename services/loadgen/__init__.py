"""Simulated ChatKit users against a running gateway: the engine under `taskchat load` and the
benchmarks (`python -m bench`), below both so the console script never imports `bench`."""
