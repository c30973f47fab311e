"""`taskchat` argument parsing, request building and the dev env file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.chatkit_client.requests import build_request, chatkit_endpoint
from services.cli.__main__ import build_parser, main
from services.cli.commands.emulator import emulator_argv
from services.cli.devenv import (
    NoJwtSecretError,
    ensure_dev_jwt_secret,
    find_jwt_secret,
    read_env_file,
)
from services.gateway.auth.verifier import HS256, StaticKey, TokenVerifier, VerificationKey


def test_dev_defaults_and_workers() -> None:
    args = build_parser().parse_args(["dev"])
    assert args.workers == 1
    assert args.state_dir == Path(".taskchat")
    assert build_parser().parse_args(["dev", "--workers", "3"]).workers == 3


@pytest.mark.parametrize(
    "argv",
    [
        ["dev", "--workers", "0"],
        ["token"],
        ["token", "--user", "a", "--ttl", "-5"],
        ["chat"],
        ["chat", "--user", "a", "--token", "t"],
        [],
    ],
)
def test_invalid_arguments_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_chat_options() -> None:
    args = build_parser().parse_args(
        ["chat", "--user", "alice", "--url", "http://h:1/", "--thread", "thr_9"]
    )
    assert (args.user, args.token, args.url, args.thread) == ("alice", None, "http://h:1/", "thr_9")
    assert chatkit_endpoint(args.url) == "http://h:1/chatkit"


def test_emulator_forwards_only_given_options() -> None:
    assert emulator_argv(build_parser().parse_args(["emulator"])) == []
    args = build_parser().parse_args(["emulator", "--host", "0.0.0.0", "--port", "9"])
    assert emulator_argv(args) == ["--host", "0.0.0.0", "--port", "9"]


def test_first_line_creates_a_thread_then_messages_are_added() -> None:
    created = build_request("hi", None)
    assert created["type"] == "threads.create"
    assert created["params"]["input"]["content"] == [{"type": "input_text", "text": "hi"}]
    added = build_request("more", "thr_1")
    assert added["type"] == "threads.add_user_message"
    assert added["params"]["thread_id"] == "thr_1"
    assert added["params"]["input"]["attachments"] == []


def test_dev_secret_is_generated_once_and_reused(tmp_path: Path) -> None:
    env_file = tmp_path / "state" / "dev.env"
    secret = ensure_dev_jwt_secret(env_file)
    assert len(secret) >= 32
    assert ensure_dev_jwt_secret(env_file) == secret
    assert read_env_file(env_file) == {"JWT_SECRET": secret}
    assert env_file.stat().st_mode & 0o077 == 0  # owner-only: it is a secret


def test_jwt_secret_comes_from_env_then_file(tmp_path: Path) -> None:
    env_file = tmp_path / "dev.env"
    with pytest.raises(NoJwtSecretError, match="taskchat dev"):
        find_jwt_secret({}, env_file)
    env_file.write_text("# comment\nJWT_SECRET=from-file\n")
    assert find_jwt_secret({}, env_file) == "from-file"
    assert find_jwt_secret({"JWT_SECRET": "from-env"}, env_file) == "from-env"


def test_token_command_prints_a_verifiable_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JWT_SECRET", "unit-test-secret-long-enough-for-hs256!")
    with pytest.raises(SystemExit) as exc:
        main(["token", "--user", "alice", "--ttl", "60"])
    assert exc.value.code == 0
    token = capsys.readouterr().out.strip()
    verifier = TokenVerifier(
        StaticKey(VerificationKey("unit-test-secret-long-enough-for-hs256!", HS256))
    )
    assert asyncio.run(verifier.verify(token)) == "alice"


def test_token_without_any_secret_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.taskchat/dev.env here
    with pytest.raises(SystemExit) as exc:
        main(["token", "--user", "alice"])
    assert exc.value.code == 2
    assert "JWT_SECRET is not set" in capsys.readouterr().err


def test_usage_dates() -> None:
    from datetime import date

    from services.cli.commands.usage import date_range

    today = date(2026, 5, 10)
    assert date_range(None, None, today) == (date(2026, 5, 4), today)
    assert date_range(date(2026, 5, 1), None, today) == (date(2026, 5, 1), today)
    with pytest.raises(ValueError, match="after"):
        date_range(date(2026, 5, 11), today, today)
    args = build_parser().parse_args(["usage", "--from", "2026-01-01", "--user", "u", "--json"])
    assert (args.first_day, args.last_day, args.user, args.json) == (
        date(2026, 1, 1),
        None,
        "u",
        True,
    )


@pytest.mark.parametrize(
    "argv", [["usage", "--from", "yesterday"], ["usage", "--to", "2026-13-01"]]
)
def test_usage_rejects_bad_dates(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert "is not a date (YYYY-MM-DD)" in capsys.readouterr().err
