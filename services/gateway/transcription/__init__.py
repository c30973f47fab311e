"""Dictation (`input.transcribe`) through Gemini's OpenAI-compatible endpoint."""
