"""The dashboard rendered by Streamlit's AppTest on real SQLite stores and a folder registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from monitoring import loading
from monitoring.settings import get_settings
from readcrumbs.errors import StoreError
from readcrumbs.events.records import to_iso
from readcrumbs.events.sqlite import SqliteEventStore
from tests.monitoring.helpers import feedback, prediction

APP_PATH = Path(__file__).resolve().parents[2] / "monitoring" / "app.py"


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test reads its own settings and nothing cached by an earlier test."""
    for name in ("READCRUMBS_EVENTS_URL", "READCRUMBS_REGISTRY_URL", "READCRUMBS_MODEL_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the working folder
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def point_at(monkeypatch: pytest.MonkeyPatch, events: Path, registry: Path) -> None:
    monkeypatch.setenv("READCRUMBS_EVENTS_URL", f"sqlite:///{events}")
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", f"file://{registry}")


def minutes_ago(minutes: float) -> str:
    return to_iso(datetime.now(UTC) - timedelta(minutes=minutes))


def seed(path: Path) -> None:
    """Three predictions in the last hour (versions 1 and 2), one like and one dislike."""
    store = SqliteEventStore(path)
    records = [
        prediction("a", 0, "u1", item_ids=[1], prediction_ids=[2, 3, 4], latency_ms=12.0, model_version="1"),
        prediction("b", 0, "u1", item_ids=[1, 3], prediction_ids=[5, 6], latency_ms=30.0, model_version="2"),
        prediction(
            "c",
            0,
            "<b>u2</b>",
            item_ids=[6],
            prediction_ids=[],
            latency_ms=90.0,
            model_version="2",
            unknown=["**Not a book**"],
        ),
    ]
    store.write_predictions(
        [dataclasses.replace(r, ts=minutes_ago(40 - 10 * i)) for i, r in enumerate(records)]
    )
    store.write_feedback(
        [
            dataclasses.replace(feedback("f1", 0, "a", 3, +1), ts=minutes_ago(29)),
            dataclasses.replace(feedback("f2", 0, "b", 6, -1), ts=minutes_ago(19)),
        ]
    )
    store.close()


def run_page(**state: object) -> AppTest:
    page = AppTest.from_file(str(APP_PATH), default_timeout=60)
    for key, value in state.items():
        page.session_state[key] = value
    page.run()
    assert not page.exception, page.exception
    return page


def metric(page: AppTest, label: str) -> str:
    values = [m.value for m in page.metric if m.label == label]
    assert values, f"no metric {label!r} among {[m.label for m in page.metric]}"
    return str(values[0])


def test_empty_store_and_empty_registry(monkeypatch, tmp_path: Path):
    point_at(monkeypatch, tmp_path / "events.db", tmp_path / "no-registry")
    page = run_page()
    infos = " ".join(box.value for box in page.info)
    assert "No version of model 'readcrumbs' is registered yet" in infos
    assert "No predictions in this window yet" in infos
    assert not page.tabs


def test_default_home_with_nothing_in_it():
    page = run_page()
    assert any("No predictions" in box.value for box in page.info)


def test_empty_store_still_lists_registered_versions(monkeypatch, tmp_path: Path, registry_folder: Path):
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page()
    assert not page.info or all("No version" not in box.value for box in page.info)
    table = page.dataframe[0].value
    assert table["version"].tolist() == [1, 2]


def test_seeded_store_renders_every_section(monkeypatch, tmp_path: Path, registry_folder: Path):
    seed(tmp_path / "events.db")
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page()
    assert [tab.label for tab in page.tabs] == [
        "Traffic & latency",
        "Quality from feedback",
        "Arms",
        "Catalogue health",
        "Drift",
    ]
    assert metric(page, "Requests") == "3"
    assert metric(page, "Unique users") == "2"
    assert metric(page, "Degraded answers") == "33.3%"
    # a: 1 like of 3 shown; b: 1 dislike of 2 shown.
    assert metric(page, "Like rate") == "20.0%"
    assert metric(page, "Hit rate") == "50.0%"
    assert metric(page, "Recall@10 (favourites)") == "100.0%"
    assert metric(page, "Coverage") == "83.3%"  # books 2-6 of a 6-book catalogue
    versions = next(df.value for df in page.dataframe if "offline fav3 recall@10" in df.value.columns)
    assert versions["model_version"].tolist() == ["1", "2"]
    assert versions["requests"].tolist() == [1, 2]
    drift_lines = " ".join(md.value for md in page.markdown)
    assert "PSI" in drift_lines and "KS D" in drift_lines
    assert "p50/p95/p99 are histogram estimates" in drift_lines  # the traffic tab's definitions
    # Data from readers is shown as data, never interpreted as HTML.
    assert all("<b>u2</b>" not in md.value for md in page.markdown)


def test_one_record_without_registry(monkeypatch, tmp_path: Path):
    store = SqliteEventStore(tmp_path / "events.db")
    store.write_predictions([dataclasses.replace(prediction("only", 0), ts=minutes_ago(1))])
    store.close()
    point_at(monkeypatch, tmp_path / "events.db", tmp_path / "no-registry")
    page = run_page()
    assert metric(page, "Requests") == "1"
    assert metric(page, "Like rate") == "—"
    assert metric(page, "Coverage") == "—"
    assert any("No training catalogue" in box.value for box in page.info)


def test_version_filter_narrows_every_number(monkeypatch, tmp_path: Path, registry_folder: Path):
    seed(tmp_path / "events.db")
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page()
    page.multiselect(key="versions").set_value(["2"]).run()
    assert not page.exception
    assert metric(page, "Requests") == "2"
    assert metric(page, "Like rate") == "0.0%"


def test_a_store_failing_on_the_version_filter_is_an_error_box(
    monkeypatch, tmp_path: Path, registry_folder: Path
):
    seed(tmp_path / "events.db")
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page()

    def unreachable(*args: object, **kwargs: object) -> None:
        raise StoreError("the disk went away")

    monkeypatch.setattr(loading, "load_traffic", unreachable)
    page.multiselect(key="versions").set_value(["2"]).run()
    assert not page.exception
    assert page.error and "the disk went away" in page.error[0].value


def test_window_without_traffic(monkeypatch, tmp_path: Path, registry_folder: Path):
    seed(tmp_path / "events.db")
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page(window="Custom range")
    page.date_input(key="days").set_value((datetime(2020, 1, 1).date(), datetime(2020, 1, 2).date())).run()
    assert not page.exception
    assert any("No predictions in this window" in box.value for box in page.info)


def test_sample_is_announced(monkeypatch, tmp_path: Path, registry_folder: Path):
    seed(tmp_path / "events.db")
    store = SqliteEventStore(tmp_path / "events.db")
    store.write_predictions(
        [
            dataclasses.replace(prediction(f"x{i}", 0, f"reader{i}"), ts=minutes_ago(5 - i / 100))
            for i in range(120)
        ]
    )
    store.close()
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page(sample_size=100)
    assert metric(page, "Requests") == "123"
    assert any("the 100 most recent predictions of the window (of 123)" in c.value for c in page.caption)
    page.number_input(key="sample_size").set_value(1000).run()
    assert any("all 123 predictions" in c.value for c in page.caption)


def test_slo_and_auto_refresh_controls(monkeypatch, tmp_path: Path, registry_folder: Path):
    seed(tmp_path / "events.db")
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page(slo=20.0, auto_refresh=True)
    assert metric(page, "Slower than 20 ms") == "66.7%"


def test_unreadable_store_is_an_error_box(monkeypatch, tmp_path: Path, registry_folder: Path):
    folder = tmp_path / "a-folder-not-a-database"
    folder.mkdir()
    point_at(monkeypatch, folder, registry_folder)
    page = run_page()
    assert page.error and "cannot be read" in page.error[0].value
    assert page.dataframe  # the registry's versions are still shown
