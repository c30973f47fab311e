"""Logging for a whole process, configured once at start-up from `ObservabilitySettings`.

`json`: one JSON object per line (time, level, logger, message, turn_id, thread_id, hashed user,
exception), what log collectors index. `text`: the same fields, readable in a terminal. Only these
fields are written, never a record's other attributes, so arguments that happen to hold a token or
a message body do not leak through a generic dump.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from shared.observability.log_context import configure_pseudonyms, current_log_fields
from shared.settings import ObservabilitySettings

QUIET_LOGGERS = {
    # arq logs each job's arguments at INFO: here that is the user's message.
    "arq.worker": logging.WARNING,
    # One line per HTTP request to the model endpoint (the openai client's HTTP library logs
    # as httpx or httpx2); the turn log says what matters.
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_log_fields(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = current_log_fields()
        if not fields:
            return text
        first, newline, rest = text.partition("\n")
        context = " ".join(f"{k}={v}" for k, v in fields.items())
        return f"{first} [{context}]{newline}{rest}"


def configure_logging(settings: ObservabilitySettings) -> None:
    """Route every logger (ours, chatkit's, uvicorn's, arq's) through one stderr handler."""
    configure_pseudonyms(settings.log_pseudonym_secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # chatkit adds its own handler to its logger at import when LOG_LEVEL is set, so each of its
    # lines came out twice (once there, once from the root). Import it now and keep only the root.
    import chatkit.logger

    for name in ("chatkit", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for existing in list(logger.handlers):
            logger.removeHandler(existing)
        logger.propagate = True
    chatkit.logger.logger.setLevel(settings.log_level)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(level, logging.getLevelName(settings.log_level)))
