"""Choosing an event store by URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from readcrumbs.errors import ConfigError
from readcrumbs.events import open_event_store
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.sqlite import SqliteEventStore
from tests.readcrumbs.events.conftest import make_prediction


def test_memory_url_gives_a_fresh_memory_store() -> None:
    first, second = open_event_store("memory://"), open_event_store("memory://")
    assert isinstance(first, MemoryEventStore)
    first.write_predictions([make_prediction(1)])
    assert second.predictions() == []


def test_sqlite_url_takes_an_absolute_path(tmp_path: Path) -> None:
    store = open_event_store(f"sqlite:///{tmp_path / 'var' / 'rc.db'}")
    assert isinstance(store, SqliteEventStore)
    store.write_predictions([make_prediction(1)])
    assert (tmp_path / "var" / "rc.db").is_file()
    store.close()


def test_sqlite_url_with_three_slashes_is_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_event_store("sqlite:///var/rc.db")
    store.ping()
    assert (tmp_path / "var" / "rc.db").is_file()
    store.close()


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        ("dynamodb://shop-events", "shop-events"),
        ("dynamodb://", "readcrumbs"),
        ("dynamodb://a.b_c/", "a.b_c"),
    ],
)
def test_dynamodb_url_takes_a_table_prefix(monkeypatch: pytest.MonkeyPatch, url: str, prefix: str) -> None:
    pytest.importorskip("boto3")
    from readcrumbs.events import dynamodb

    opened: list[str] = []
    # Only the URL's parsing is under test: a stand-in avoids building a boto3 client.
    monkeypatch.setattr(dynamodb, "DynamoEventStore", lambda table_prefix: opened.append(table_prefix))
    open_event_store(url)
    assert opened == [prefix]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://localhost/rc",
        "sqlite://relative.db",
        "sqlite:///",
        "sqlite:///:memory:",
        "sqlite:///var/",
        "memory://named",
        "dynamodb://bad prefix!",
        "",
    ],
)
def test_a_bad_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        open_event_store(url)
