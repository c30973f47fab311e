"""Abuse limits kept in Redis, so every gateway replica sees the same counts and they survive
restarts: daily messages per user, concurrent streams per user, anonymous requests per IP."""
