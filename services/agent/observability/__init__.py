"""A worker's own metrics and its health and metrics HTTP port."""
