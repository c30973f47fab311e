"""Start-up notices for models Google shuts down."""

from __future__ import annotations

import datetime as dt

import pytest

from services.agent.model import warn_about_retiring_models
from shared.gemini_models import retirement_notice
from shared.settings import DEFAULT_GEMINI_MODEL, GeminiSettings


def test_a_model_near_or_past_its_shutdown_date_is_named() -> None:
    assert retirement_notice("gemini-2.5-flash", dt.date(2026, 8, 1)) is None
    soon = retirement_notice("gemini-2.5-flash", dt.date(2026, 11, 30))
    assert soon == "gemini-2.5-flash is shut down by Google on 2026-12-01: choose a current model"
    gone = retirement_notice("models/gemini-2.0-flash", dt.date(2026, 11, 30))
    assert gone is not None and "was shut down by Google on 2026-06-01" in gone
    assert retirement_notice(DEFAULT_GEMINI_MODEL, dt.date(2026, 11, 30)) is None


def test_the_worker_warns_once_per_retiring_model(caplog: pytest.LogCaptureFixture) -> None:
    settings = GeminiSettings(
        api_key="k", allowed_models=(DEFAULT_GEMINI_MODEL, "gemini-2.5-pro", "gemini-3-pro-preview")
    )
    with caplog.at_level("WARNING"):
        notices = warn_about_retiring_models(settings, dt.date(2026, 11, 30))
    assert len(notices) == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"{n} (GEMINI_MODEL / GEMINI_ALLOWED_MODELS)" for n in notices
    ]
