"""Logs, metrics helpers and traces shared by the gateway and the workers."""
