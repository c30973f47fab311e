"""Agent worker: runs queued ChatKit turns with an Agents SDK agent on Gemini."""
