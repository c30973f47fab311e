"""`taskchat chat`: a terminal ChatKit client (SSE parsing and rendering are pure and tested)."""
