"""BackendSettings refuse bad values at start-up, naming the variable."""

from __future__ import annotations

import pydantic
import pytest

from backend.settings import BackendSettings
from tests.backend.conftest import make_settings


def test_defaults(tmp_path):
    settings = BackendSettings(_env_file=None, home=tmp_path)
    assert settings.admin_token is None
    assert settings.model_poll_s == 0
    assert settings.cors_origins == ()
    assert settings.spool_dir == tmp_path / "spool"
    assert settings.event_flush_s <= 1.0


def test_environment_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("READCRUMBS_CORS_ORIGINS", "http://a.example, https://b.example/")
    monkeypatch.setenv("READCRUMBS_ADMIN_TOKEN", "t" * 16)
    monkeypatch.setenv("READCRUMBS_MODEL_POLL_S", "30")
    monkeypatch.setenv("READCRUMBS_LOG_LEVEL", "debug")
    settings = BackendSettings(_env_file=None, home=tmp_path)
    assert settings.cors_origins == ("http://a.example", "https://b.example")
    assert settings.admin_token is not None and settings.admin_token.get_secret_value() == "t" * 16
    assert "t" * 16 not in repr(settings)  # the token never shows in logs
    assert settings.model_poll_s == 30
    assert settings.log_level == "DEBUG"


def test_an_empty_token_disables_admin(tmp_path):
    assert make_settings(tmp_path, admin_token="").admin_token is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("admin_token", "short", "READCRUMBS_ADMIN_TOKEN"),
        ("model_poll_s", 0.5, "READCRUMBS_MODEL_POLL_S"),
        ("model_poll_s", -1, "greater than or equal"),
        ("cors_origins", "localhost:8501", "READCRUMBS_CORS_ORIGINS"),
        ("log_level", "LOUD", "READCRUMBS_LOG_LEVEL"),
        ("event_flush_s", 2.0, "less than or equal"),
        ("event_queue_size", 0, "greater than or equal"),
        ("title_match_threshold", 10, "greater than or equal"),
    ],
)
def test_bad_values_are_refused(tmp_path, field, value, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        make_settings(tmp_path, **{field: value})
