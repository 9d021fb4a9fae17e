"""Shared settings refuse bad values at start-up and derive the default store URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from readcrumbs.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_put_every_store_under_home(tmp_path: Path) -> None:
    chosen = settings(home=tmp_path)
    assert chosen.resolved_registry_url == f"file://{tmp_path.resolve()}/registry"
    assert chosen.resolved_events_url == f"sqlite:///{tmp_path.resolve()}/readcrumbs.db"


def test_environment_variables_use_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", "s3://bucket/prefix")
    monkeypatch.setenv("READCRUMBS_EVENTS_URL", "dynamodb://readcrumbs")
    chosen = settings()
    assert chosen.resolved_registry_url == "s3://bucket/prefix"
    assert chosen.resolved_events_url == "dynamodb://readcrumbs"


@pytest.mark.parametrize(
    "values",
    [
        {"registry_url": "ftp://nowhere"},
        {"events_url": "postgres://db"},
        {"like_threshold": 6},
        {"train_threshold": 0},
        {"like_threshold": 3, "train_threshold": 4},
    ],
)
def test_bad_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(**values)
