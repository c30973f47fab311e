"""Gemini emulator: an offline stand-in for Gemini's OpenAI-compatible endpoint.

It reproduces the wire quirks our agent worker must cope with (tool calls delivered whole and
without an `index`, thought signatures on the first parallel call, `usage` on every chunk,
`finish_reason: "stop"` after tool calls, errors as a JSON array; each can be switched, see
`behaviour.py`), refuses current-turn tool calls sent back without their thought signature as
Gemini 3 does (`signatures.py`), sends thought summaries inside the content when asked for them,
tagged only when a `thought_tag_marker` is given (`thoughts.py`), and can fail on demand
(`429`, `500`, `503`, `cut`, `hang`, `length`) so retries and timeouts can be tested over real
HTTP. Start it with `python -m services.gemini_emulator`; build it with
`services.gemini_emulator.app.create_app`; run it inside a test with
`services.gemini_emulator.server.running_emulator`.
"""
