"""Simulated ChatKit users against a running gateway (`taskchat load`, `python -m bench`)."""
