"""The app's settings refuse bad values at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from frontend.settings import FrontendSettings, get_settings


def test_defaults() -> None:
    settings = FrontendSettings(_env_file=None)

    assert settings.api_url == "http://localhost:8000"
    assert settings.request_timeout_s == 10.0


def test_environment_is_read_and_url_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READCRUMBS_API_URL", "https://api.example.org/readcrumbs/")
    monkeypatch.setenv("READCRUMBS_REQUEST_TIMEOUT_S", "2.5")

    settings = get_settings()

    assert settings.api_url == "https://api.example.org/readcrumbs"
    assert settings.request_timeout_s == 2.5
    assert get_settings() is settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("READCRUMBS_API_URL", "localhost:8000"),
        ("READCRUMBS_REQUEST_TIMEOUT_S", "0"),
        ("READCRUMBS_SEARCH_LIMIT", "0"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        FrontendSettings(_env_file=None)
