"""The ChatKit body limit leaves room for a dictation clip only when dictation is on."""

from __future__ import annotations

from services.gateway.app import chatkit_body_limit
from shared.settings import Settings

BASE = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1/taskchat",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GEMINI_API_KEY": "k",
    "JWT_SECRET": "unit-test-secret-that-is-32-bytes-long",
}


def test_body_limit() -> None:
    assert chatkit_body_limit(Settings.from_env(BASE)) == 1024 * 1024
    dictation = Settings.from_env({**BASE, "TRANSCRIPTION_ENABLED": "true"})
    assert chatkit_body_limit(dictation) > 5 * 1024 * 1024 * 4 // 3
