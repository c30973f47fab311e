"""Log lines: JSON or text, with the turn, thread and hashed user of the running task."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from shared.observability.log_context import bind_log_context, hash_user_id, log_context
from shared.observability.logging_setup import JsonFormatter, TextFormatter


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("taskchat.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_json_line_names_the_turn_thread_and_hashed_user() -> None:
    with log_context(turn_id="turn-1", thread_id="thr_1", user_id="alice@example.com"):
        line = JsonFormatter().format(record("turn %s started after %d ms", "turn-1", 7))
    parsed = json.loads(line)
    assert parsed.pop("time").endswith("+00:00")
    assert parsed == {
        "level": "WARNING",
        "logger": "taskchat.test",
        "message": "turn turn-1 started after 7 ms",
        "turn_id": "turn-1",
        "thread_id": "thr_1",
        "user": hash_user_id("alice@example.com"),
    }
    assert "alice" not in line
    assert "\n" not in line


def test_outside_a_turn_there_are_no_ids_and_the_context_is_restored() -> None:
    with log_context(turn_id="turn-1"):
        pass
    parsed = json.loads(JsonFormatter().format(record("idle")))
    assert "turn_id" not in parsed and "user" not in parsed


def test_exceptions_stay_on_the_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        line = JsonFormatter().format(record("failed", exc=exc))
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_text_lines_carry_the_same_ids() -> None:
    with log_context(turn_id="turn-9", user_id="bob"):
        text = TextFormatter().format(record("hello"))
    assert text.endswith(f"taskchat.test: hello [turn_id=turn-9 user={hash_user_id('bob')}]")


async def test_ids_bound_in_a_task_stay_in_that_task() -> None:
    import asyncio

    async def turn() -> str:
        bind_log_context(turn_id="inside")
        return JsonFormatter().format(record("x"))

    inside = json.loads(await asyncio.create_task(turn()))
    outside = json.loads(JsonFormatter().format(record("y")))
    assert inside["turn_id"] == "inside"
    assert "turn_id" not in outside


def test_a_process_logs_chatkit_lines_once_as_json() -> None:
    # chatkit attaches its own handler at import when LOG_LEVEL is set (lines came out twice).
    script = (
        "import logging\n"
        "from shared.observability.logging_setup import configure_logging\n"
        "from shared.settings import ObservabilitySettings\n"
        "configure_logging(ObservabilitySettings(log_level='INFO', log_format='json'))\n"
        "logging.getLogger('chatkit').info('from chatkit')\n"
        "logging.getLogger('arq.worker').info('job args would be here')\n"
        "logging.getLogger('taskchat').debug('below the level')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"LOG_LEVEL": "INFO", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stderr.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["from chatkit"], done.stderr
