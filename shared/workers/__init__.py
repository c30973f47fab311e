"""Which agent workers are alive, as seen through Redis."""
