"""The model and the agent: Gemini's endpoint, what one turn may do, other MCP servers' tools.

Each setting is declared once, here; `docs/configuration.md` and `.env.example` follow from it
(`python -m shared.settings`).
"""

from __future__ import annotations

from shared.settings.declaration import setting, settings_group
from shared.settings.mcp import McpServers, McpServerSettings
from shared.settings.parsers import (
    Choice,
    Csv,
    ExistingFile,
    Flag,
    Integer,
    Number,
    Seconds,
    Text,
    Url,
)
from shared.settings.redaction import Redacted

DEFAULT_GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
DEFAULT_GEMINI_MODEL = "gemini-3.8-flash"


@settings_group
class GeminiSettings(Redacted):
    """The model: Gemini's OpenAI-compatible endpoint (or the emulator)."""

    api_key: str = setting(
        "GEMINI_API_KEY",
        Text(),
        default="",
        doc="key for Gemini's OpenAI-compatible endpoint; required by workers (and by the gateway "
        "with dictation on); any value works with the emulator",
        shown_default="required by workers",
        secret=True,
    )
    base_url: str = setting(
        "GEMINI_BASE_URL",
        Url("http", "https"),
        default=DEFAULT_GEMINI_BASE_URL,
        doc="the OpenAI-compatible endpoint (under compose, empty means its emulator)",
        read_by="worker",
    )
    model: str = setting(
        "GEMINI_MODEL",
        Text(),
        default=DEFAULT_GEMINI_MODEL,
        doc="model name (current models: docs/gemini.md)",
        read_by="worker",
    )
    request_timeout_s: float = setting(
        "GEMINI_TIMEOUT_S", Seconds(), default=120.0, doc="per model request", read_by="worker"
    )
    allowed_models: tuple[str, ...] = setting(
        "GEMINI_ALLOWED_MODELS",
        Csv(),
        default=(),
        doc="models a request may choose through ChatKit's `inference_options` "
        "(comma-separated; `GEMINI_MODEL` is always allowed)",
        shown_default="`GEMINI_MODEL`",
    )
    temperature: float | None = setting(
        "GEMINI_TEMPERATURE",
        Number(0.0, 2.0),
        default=None,
        doc="sampling temperature (0-2)",
        shown_default="the model's",
        read_by="worker",
    )
    max_output_tokens: int | None = setting(
        "GEMINI_MAX_OUTPUT_TOKENS",
        Integer(minimum=1),
        default=None,
        doc="cap on tokens per model call",
        shown_default="the model's",
        read_by="worker",
    )
    reasoning_effort: str | None = setting(
        "GEMINI_REASONING_EFFORT",
        Choice("none", "minimal", "low", "medium", "high"),
        default=None,
        doc="`none`, `minimal`, `low`, `medium` or `high` (not with the thinking budget); "
        "checked per model at start-up (docs/gemini.md)",
        read_by="worker",
    )
    thinking_budget: int | None = setting(
        "GEMINI_THINKING_BUDGET",
        Integer(minimum=-1),
        default=None,
        doc="tokens of thinking (-1 = dynamic), sent as `extra_body.google.thinking_config` "
        "(Gemini 2.5 only; Gemini 3 takes a thinking level)",
        read_by="worker",
    )
    include_thoughts: bool = setting(
        "GEMINI_INCLUDE_THOUGHTS",
        Flag(),
        default=False,
        doc="ask for thought summaries (in `thinking_config`, tagged with `thought_tag_marker`); "
        "shown as a thought workflow, collapsed when the answer starts, never as answer text",
        read_by="worker",
    )
    max_retries: int = setting(
        "GEMINI_MAX_RETRIES",
        Integer(),
        default=3,
        doc="retries of a 429/5xx before the answer's first token",
        read_by="worker",
    )
    retry_max_delay_s: float = setting(
        "GEMINI_RETRY_MAX_DELAY_S",
        Seconds(),
        default=10.0,
        doc="longest single wait between retries (`Retry-After` included)",
        read_by="worker",
    )


@settings_group
class AgentSettings(Redacted):
    """The agent: what one turn may do."""

    max_tool_rounds: int = setting(
        "AGENT_MAX_TOOL_ROUNDS",
        Integer(minimum=1),
        default=10,
        doc="model calls per turn before the turn stops with a message",
        read_by="worker",
    )
    history_items: int = setting(
        "AGENT_HISTORY_ITEMS",
        Integer(minimum=1),
        default=50,
        doc="newest thread items sent to the model (the window starts at a user message); "
        "bounds a turn's cost",
        read_by="worker",
    )
    system_prompt_file: str | None = setting(
        "SYSTEM_PROMPT_FILE",
        ExistingFile(),
        default=None,
        doc="a file whose text replaces the built-in system prompt (`{today}` in it becomes "
        "today's date)",
        shown_default="the built-in prompt",
        read_by="worker",
    )


@settings_group
class McpClientSettings(Redacted):
    """Tools from other MCP servers."""

    servers: tuple[McpServerSettings, ...] = setting(
        "MCP_SERVERS",
        McpServers(),
        default=(),
        doc='other MCP servers for the agent: a JSON list of (or one) `{"url", "headers", '
        '"name"}` objects, or comma-separated URLs',
        shown_default="none",
        read_by="worker",
    )
    timeout_s: float = setting(
        "MCP_SERVER_TIMEOUT_S",
        Seconds(),
        default=10.0,
        doc="longest wait to connect to one, and for each of its tool calls",
        read_by="worker",
    )
