"""Settings: every problem reported at once, with a message naming the variable."""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from shared.settings import Settings, SettingsError
from shared.settings.declaration import declared
from shared.settings.loading import GROUPS
from shared.settings.reference import stale

BASE = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1/taskchat",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GEMINI_API_KEY": "k",
    "JWT_SECRET": "unit-test-secret-that-is-32-bytes-long",
}


def test_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings.gemini.model == "gemini-3.8-flash"
    assert settings.gemini.base_url == "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert settings.auth.cookie_name == "auth_token"
    assert (settings.gateway.host, settings.gateway.port) == ("127.0.0.1", 8000)
    assert settings.agent.max_tool_rounds == 10
    assert settings.gemini.allowed_models == ("gemini-3.8-flash",)


def test_every_problem_is_reported_together() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"GATEWAY_PORT": "eighty", "GEMINI_TEMPERATURE": "7"})
    text = str(caught.value)
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "GEMINI_API_KEY",
        "JWT_SECRET",
        "GATEWAY_PORT",
        "GEMINI_TEMPERATURE",
    ):
        assert name in text


def test_gateway_does_not_need_a_model_key() -> None:
    env = {k: v for k, v in BASE.items() if k != "GEMINI_API_KEY"}
    assert Settings.from_env(env, needs_model=False).gemini.api_key == ""


def test_wildcard_cors_with_cookies_is_refused() -> None:
    with pytest.raises(SettingsError, match="ALLOWED_ORIGINS"):
        Settings.from_env({**BASE, "ALLOWED_ORIGINS": "*"})


def test_reasoning_effort_and_thinking_budget_exclude_each_other() -> None:
    with pytest.raises(SettingsError, match="GEMINI_REASONING_EFFORT"):
        Settings.from_env({**BASE, "GEMINI_REASONING_EFFORT": "low", "GEMINI_THINKING_BUDGET": "5"})


def test_allowed_models_always_include_the_default() -> None:
    settings = Settings.from_env({**BASE, "GEMINI_ALLOWED_MODELS": "gemini-2.5-pro, gemini-3-pro"})
    assert settings.gemini.allowed_models == ("gemini-3.8-flash", "gemini-2.5-pro", "gemini-3-pro")


def test_missing_prompt_file_is_reported() -> None:
    with pytest.raises(SettingsError, match="SYSTEM_PROMPT_FILE"):
        Settings.from_env({**BASE, "SYSTEM_PROMPT_FILE": "/nonexistent/prompt.txt"})


def test_attachment_and_dictation_settings() -> None:
    settings = Settings.from_env({**BASE, "GATEWAY_PORT": "9000"})
    assert settings.attachments.max_bytes == 10 * 1024 * 1024
    assert settings.attachments.public_base_url == "http://127.0.0.1:9000"
    assert settings.transcription.enabled is False
    with pytest.raises(SettingsError, match="ATTACHMENT_DIR"):
        Settings.from_env({**BASE, "ATTACHMENT_STORAGE": "directory"})
    gateway_env = {k: v for k, v in BASE.items() if k != "GEMINI_API_KEY"}
    with pytest.raises(SettingsError, match="TRANSCRIPTION_ENABLED"):
        Settings.from_env({**gateway_env, "TRANSCRIPTION_ENABLED": "true"}, needs_model=False)


def test_observability_settings() -> None:
    defaults = Settings.from_env(BASE).observability
    assert (defaults.log_level, defaults.log_format, defaults.otlp_endpoint) == (
        "INFO",
        "text",
        None,
    )
    assert defaults.worker_health_port == 0  # off: several workers may share a laptop
    configured = Settings.from_env(
        {
            **BASE,
            "LOG_LEVEL": "debug",
            "LOG_FORMAT": "json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
            "OTEL_SERVICE_NAME": "chat-gw",
            "WORKER_HEALTH_PORT": "8001",
            "WORKER_HEALTH_HOST": "0.0.0.0",
        }
    ).observability
    assert configured.log_level == "DEBUG"
    assert configured.log_format == "json"
    assert configured.otlp_endpoint == "http://otel-collector:4318"
    assert (configured.service_name, configured.worker_health_port) == ("chat-gw", 8001)


def test_bad_observability_settings_are_named() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                **BASE,
                "LOG_LEVEL": "loud",
                "LOG_FORMAT": "xml",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "otel:4318",
                "WORKER_HEALTH_PORT": "70000",
            }
        )
    problems = "\n".join(caught.value.problems)
    for name in ("LOG_LEVEL", "LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT", "WORKER_HEALTH_PORT"):
        assert name in problems


def test_the_reference_is_generated_from_the_declarations() -> None:
    root = Path(__file__).resolve().parents[2]
    assert stale(root) == [], "run `python -m shared.settings` to regenerate them"


def test_every_declared_default_is_the_default_that_applies() -> None:
    """The declarations' defaults are what `from_env` gives when nothing is set (the reference
    shows the same values)."""
    settings = Settings.from_env(BASE)
    for group in GROUPS:
        loaded = next(value for value in vars_of(settings) if isinstance(value, group))
        for each, declaration in declared(group):
            if each.default is MISSING or declaration.shown_default is not None:
                continue
            assert getattr(loaded, each.name) == each.default, declaration.env


def vars_of(settings: Settings) -> list[object]:
    return [getattr(settings, each.name) for each in fields(settings)]


def test_a_setting_reads_its_own_variable_only() -> None:
    names = [declaration.env for group in GROUPS for _, declaration in declared(group)]
    assert len(names) == len(set(names)), "a variable is declared twice"


def test_model_settings_are_checked_per_model_family() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                **BASE,
                "GEMINI_MODEL": "gemini-3.8-flash",
                "GEMINI_ALLOWED_MODELS": "gemini-2.5-flash",
                "GEMINI_REASONING_EFFORT": "minimal",
            }
        )
    assert raised.value.problems == [
        "GEMINI_REASONING_EFFORT=minimal is not accepted by gemini-3.8-flash "
        "(it takes low, medium, high)",
        "GEMINI_REASONING_EFFORT=minimal is not accepted by gemini-2.5-flash "
        "(it takes none, low, medium, high)",
    ]
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**BASE, "GEMINI_THINKING_BUDGET": "512"})
    assert raised.value.problems == [
        "GEMINI_THINKING_BUDGET is for Gemini 2.5 models; gemini-3.8-flash takes a thinking "
        "level: set GEMINI_REASONING_EFFORT (low, medium, high) instead"
    ]
    budget = Settings.from_env({**BASE, "GEMINI_MODEL": "gemini-2.5-flash",
                                "GEMINI_THINKING_BUDGET": "512"})  # fmt: skip
    assert budget.gemini.thinking_budget == 512
    # A model we do not know (a tuned one) is not second-guessed.
    tuned = Settings.from_env({**BASE, "GEMINI_MODEL": "tuned-x", "GEMINI_REASONING_EFFORT": "low"})
    assert tuned.gemini.reasoning_effort == "low"
