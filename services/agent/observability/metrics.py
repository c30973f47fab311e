"""A worker's Prometheus metrics: what only the worker sees (model calls, tokens, tool calls).

Served on the worker's health port (`WORKER_HEALTH_PORT`); the gateway's `/metrics` has the
cluster-wide figures (queue depth, live workers, turn latencies).
"""

from __future__ import annotations

from prometheus_client import Counter

MODEL_ERRORS = Counter(
    "taskchat_model_errors",
    "Failed model calls by HTTP status (retried ones too), `connection` for network errors and "
    "timeouts, `stream_cut` for answers that stopped without a finish reason.",
    ["status"],
)
TOKENS = Counter(
    "taskchat_tokens", "Tokens used by turns, by model and kind (input, output).", ["model", "kind"]
)
TOOL_CALLS = Counter(
    "taskchat_tool_calls",
    "Task tool calls by tool and outcome (ok, error: the tool told the model it failed).",
    ["tool", "outcome"],
)
TURN_USAGE_NOT_RECORDED = Counter(
    "taskchat_turn_usage_not_recorded",
    "Turns whose usage could not be stored (the answer was still delivered).",
)


def record_model_error(status: int | str | None) -> None:
    MODEL_ERRORS.labels(status=str(status) if status is not None else "unknown").inc()


def record_tokens(model: str, input_tokens: int, output_tokens: int) -> None:
    TOKENS.labels(model=model, kind="input").inc(input_tokens)
    TOKENS.labels(model=model, kind="output").inc(output_tokens)


def record_tool_call(tool: str, *, failed: bool) -> None:
    TOOL_CALLS.labels(tool=tool, outcome="error" if failed else "ok").inc()
