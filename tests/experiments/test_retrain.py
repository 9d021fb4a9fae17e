"""``make retrain``: feedback merged, the production type retrained, submitted as challenger or promoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import retrain
from experiments.config import load_config
from experiments.data import prepare_dataset
from experiments.pipeline import run_pipeline
from experiments.retrain import RetrainSettings
from readcrumbs.errors import ConfigError
from readcrumbs.events.records import FeedbackRecord, new_id, utc_now_iso
from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.registry import CHALLENGER, PRODUCTION, STAGING, open_registry
from tests.tiny_goodbooks import write_tiny_goodbooks

NAME = "readcrumbs"


@pytest.fixture
def loop_settings(tmp_path: Path) -> RetrainSettings:
    """A tiny goodbooks source, and itemknn v1 trained on it in production."""
    write_tiny_goodbooks(tmp_path / "source")
    settings = RetrainSettings(
        _env_file=None, home=tmp_path / "home", data_source=str(tmp_path / "source"), seed=7
    )
    run_pipeline(settings, prepare_dataset(settings), load_config(None), models=["itemknn"])
    return settings


def _vote(settings: RetrainSettings, userid: str, books: list[int]) -> None:
    store = SqliteEventStore(settings.home / "readcrumbs.db")
    try:
        store.write_feedback(
            [
                FeedbackRecord(new_id(), utc_now_iso(), userid, None, book, f"Book Number {book}", None, 1)
                for book in books
            ]
        )
    finally:
        store.close()


def test_retrain_submits_a_challenger_trained_with_the_feedback(loop_settings, capsys) -> None:
    assert loop_settings.resolved_events_url == f"sqlite:///{loop_settings.home / 'readcrumbs.db'}"
    _vote(loop_settings, "new-reader", [1, 2, 21, 22])

    assert retrain.main([], settings=loop_settings) == 0
    out = capsys.readouterr().out
    registry = open_registry(loop_settings)
    assert registry.alias(NAME, PRODUCTION) == 1
    assert registry.alias(NAME, CHALLENGER) == registry.alias(NAME, STAGING) == 2
    manifest = registry.manifest(NAME, 2)
    assert manifest.model_type == "itemknn"  # production's type, retrained
    assert manifest.data_version != registry.manifest(NAME, 1).data_version
    assert "feedback merged: 4 likes" in out and "v2 is now challenger" in out


def test_a_second_run_without_new_feedback_trains_nothing_new(loop_settings, capsys) -> None:
    _vote(loop_settings, "new-reader", [1, 2])
    assert retrain.main([], settings=loop_settings) == 0
    assert retrain.main([], settings=loop_settings) == 0
    registry = open_registry(loop_settings)
    assert registry.versions(NAME) == [1, 2] and registry.alias(NAME, CHALLENGER) == 2
    assert "(reused)" in capsys.readouterr().out


def test_submit_promote_goes_through_the_pipelines_gate(loop_settings, capsys) -> None:
    _vote(loop_settings, "new-reader", [3, 4])
    assert retrain.main(["--submit", "promote", "--models", "popularity"], settings=loop_settings) == 0
    out = capsys.readouterr().out
    registry = open_registry(loop_settings)
    assert registry.alias(NAME, STAGING) == 2 and registry.manifest(NAME, 2).model_type == "popularity"
    assert registry.alias(NAME, CHALLENGER) is None
    # Either way the gate spoke: popularity beat itemknn on the split, or it was refused.
    assert ("promoted" in out and registry.alias(NAME, PRODUCTION) == 2) or (
        "refused" in out and registry.alias(NAME, PRODUCTION) == 1
    )


def test_settings_refuse_an_unknown_model_type_and_submit_mode(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("READCRUMBS_RETRAIN_MODELS", "ease, nope")
    with pytest.raises(ConfigError):
        RetrainSettings(_env_file=None, home=tmp_path)
    monkeypatch.setenv("READCRUMBS_RETRAIN_MODELS", "ease,itemknn")
    assert RetrainSettings(_env_file=None, home=tmp_path).retrain_models == ("ease", "itemknn")
    monkeypatch.setenv("READCRUMBS_RETRAIN_SUBMIT", "yolo")
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path))
    retrain.get_retrain_settings.cache_clear()
    try:
        assert retrain.main([]) == 2
    finally:
        retrain.get_retrain_settings.cache_clear()
