"""The dashboard's Arms tab: production and challenger side by side, with a verdict."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest

from monitoring.arms import (
    arm_versions,
    comparison_table,
    format_estimate,
    offline_side_by_side,
    relative_changes,
)
from monitoring.models import load_registry_view
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord
from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.online import CHALLENGER, PRODUCTION, WORSE, Estimate, compare_arms, empty_outcomes
from readcrumbs.registry import Registry
from tests.monitoring.conftest import MODEL
from tests.monitoring.helpers import feedback, prediction
from tests.monitoring.test_app import _fresh_process_state, minutes_ago, point_at, run_page  # noqa: F401


def arm_records(
    readers: int, arm: str, version: str, likes: int
) -> tuple[list[PredictionRecord], list[FeedbackRecord]]:
    """One request of 10 books per reader; each reader likes the first ``likes`` and dislikes the last."""
    predictions, votes = [], []
    for reader in range(readers):
        request_id = f"{arm}-{reader}"
        userid = f"{arm}-reader-{reader}"
        shown = list(range(100, 110))
        record = prediction(
            request_id, 0, userid, item_ids=[1, 2, 3], prediction_ids=shown, model_version=version
        )
        predictions.append(dataclasses.replace(record, ts=minutes_ago(30), arm=arm))
        for rank, book in enumerate(shown[:likes]):
            votes.append(
                dataclasses.replace(
                    feedback(f"{request_id}-{rank}", 0, request_id, book, 1, userid), ts=minutes_ago(29)
                )
            )
        votes.append(
            dataclasses.replace(
                feedback(f"{request_id}-x", 0, request_id, shown[-1], -1, userid), ts=minutes_ago(29)
            )
        )
    return predictions, votes


def seed_arms(path: Path, challenger_readers: int = 150, challenger_likes: int = 1) -> None:
    """150 production readers liking 5 of 10 books (version 2); challenger readers (version 1) fewer."""
    store = SqliteEventStore(path)
    for readers, arm, version, likes in (
        (150, PRODUCTION, "2", 5),
        (challenger_readers, CHALLENGER, "1", challenger_likes),
    ):
        records, votes = arm_records(readers, arm, version, likes)
        store.write_predictions(records)
        store.write_feedback(votes)
    store.close()


@pytest.fixture
def with_challenger(registry_folder: Path) -> Path:
    Registry(FolderBlobStore(registry_folder)).set_alias(MODEL, CHALLENGER, 1)
    return registry_folder


def frame_with(page, column: str) -> pd.DataFrame:
    frames = [df.value for df in page.dataframe if column in df.value.columns]
    assert frames, f"no table with a {column!r} column"
    return frames[0]


def test_a_worse_challenger_is_called_worse_beside_both_manifests(
    monkeypatch, tmp_path: Path, with_challenger: Path
):
    seed_arms(tmp_path / "events.db")
    point_at(monkeypatch, tmp_path / "events.db", with_challenger)
    page = run_page()
    assert "Arms" in [tab.label for tab in page.tabs]
    assert any(WORSE in box.value for box in page.error)
    table = frame_with(page, "verdict")
    rows = table.set_index("metric")
    assert rows.loc["Like rate", "production"].startswith("50.0% [")
    assert rows.loc["Like rate", "challenger"].startswith("10.0% [")
    assert rows.loc["Like rate", "verdict"] == WORSE
    assert rows.loc["Like rate", "test"] == "two-proportion z-test"
    assert rows.loc["MRR", "test"] == "bootstrap over readers"
    served = frame_with(page, "model_versions").set_index("arm")
    assert served.loc[PRODUCTION, "readers"] == 150 and served.loc[CHALLENGER, "model_versions"] == "1"
    offline = next(df.value for df in page.dataframe if "production v2" in df.value.columns)
    assert offline.set_index("metric").loc["fav3 recall@10"].tolist() == [0.20, 0.10]
    definitions = " ".join(md.value for md in page.markdown)
    assert "two-proportion z-test" in definitions and "bootstrap over readers" in definitions


def test_too_few_readers_give_no_verdict(monkeypatch, tmp_path: Path, with_challenger: Path):
    seed_arms(tmp_path / "events.db", challenger_readers=20)
    point_at(monkeypatch, tmp_path / "events.db", with_challenger)
    page = run_page()
    assert any(
        "not yet distinguishable" in box.value and "needs 100 readers" in box.value for box in page.info
    )
    assert set(frame_with(page, "verdict")["verdict"]) == {"not yet distinguishable"}


def test_the_reader_threshold_is_the_operators_choice(monkeypatch, tmp_path: Path, with_challenger: Path):
    seed_arms(tmp_path / "events.db", challenger_readers=20)
    point_at(monkeypatch, tmp_path / "events.db", with_challenger)
    page = run_page(min_readers=10)
    assert any(WORSE in box.value for box in page.error)


def test_without_challenger_traffic_the_tab_says_how_to_start_one(
    monkeypatch, tmp_path: Path, registry_folder: Path
):
    store = SqliteEventStore(tmp_path / "events.db")
    records, votes = arm_records(5, PRODUCTION, "2", 3)
    store.write_predictions(records)
    store.write_feedback(votes)
    store.close()
    point_at(monkeypatch, tmp_path / "events.db", registry_folder)
    page = run_page()
    assert any("No challenger traffic" in box.value for box in page.info)
    assert frame_with(page, "model_versions")["arm"].tolist() == [PRODUCTION]


def test_arm_versions_lists_each_arms_versions_oldest_first():
    recent = pd.DataFrame(
        {"ts": ["b", "a", "c"], "arm": [PRODUCTION, PRODUCTION, CHALLENGER], "model_version": ["2", "1", "3"]}
    )
    assert arm_versions(recent) == {CHALLENGER: ["3"], PRODUCTION: ["1", "2"]}
    assert arm_versions(recent.iloc[:0]) == {}


def test_offline_metrics_follow_the_aliases_or_the_newest_version_served(registry_folder: Path):
    view = load_registry_view(f"file://{registry_folder}", MODEL)
    assert view.challenger is None and view.production == 2
    table = offline_side_by_side(view, {PRODUCTION: ["2"], CHALLENGER: ["1"]})
    assert list(table.columns) == ["metric", "production v2", "challenger v1"]
    assert list(offline_side_by_side(view, {}).columns) == ["metric", "production v2"]


def test_estimates_are_written_with_their_interval():
    assert format_estimate(Estimate(0.325, 0.3, 0.35), "percent") == "32.5% [30.0%, 35.0%]"
    assert format_estimate(Estimate(0.012, -0.01, 0.03), "percent", signed=True) == "+1.2% [-1.0%, 3.0%]"
    assert format_estimate(Estimate(math.nan, math.nan, math.nan), "number") == "—"
    assert format_estimate(Estimate(4.25, math.nan, math.nan), "ms") == "4.2"


def test_relative_changes_leave_out_what_production_cannot_scale():
    comparison = compare_arms(empty_outcomes(PRODUCTION), empty_outcomes(CHALLENGER), min_readers=1)
    assert relative_changes(comparison).empty
    assert comparison_table(comparison)["production"].tolist() == ["—"] * 5


def test_relative_changes_cover_the_quality_metrics_only():
    from tests.readcrumbs.test_online import synthetic_arm

    comparison = compare_arms(
        synthetic_arm(PRODUCTION, 200, 0.3, seed=1),
        synthetic_arm(CHALLENGER, 200, 0.3, seed=2, latency_ms=9.0),
    )
    changes = relative_changes(comparison)
    assert changes["metric"].tolist() == ["Like rate", "Hit rate", "MRR", "Recall@K (later favourites)"]
    like = comparison.metric("like_rate")
    assert changes["change"].iloc[0] == pytest.approx(like.difference.value / like.production.value)
    assert comparison_table(comparison).columns[1] == "verdict"


def test_shadow_mode_compares_the_logged_lists_by_recall(monkeypatch, tmp_path: Path, with_challenger: Path):
    store = SqliteEventStore(tmp_path / "events.db")
    records = []
    for reader in range(3):
        userid = f"reader-{reader}"
        first = prediction(f"s{reader}a", 0, userid, item_ids=[1], prediction_ids=[10, 11], model_version="2")
        later = prediction(f"s{reader}b", 0, userid, item_ids=[1, 21], prediction_ids=[12], model_version="2")
        for record, minutes, would_show in ((first, 30, [20, 21]), (later, 20, [22])):
            records.append(
                dataclasses.replace(
                    record,
                    ts=minutes_ago(minutes),
                    arm="shadow",
                    shadow_version="1",
                    shadow_prediction_ids=would_show,
                    shadow_scores=[0.5] * len(would_show),
                )
            )
    store.write_predictions(records)
    store.close()
    point_at(monkeypatch, tmp_path / "events.db", with_challenger)
    page = run_page(min_readers=1)
    assert any("Shadow mode" in caption.value for caption in page.caption)
    served = frame_with(page, "model_versions").set_index("arm")
    assert served.loc[PRODUCTION, "model_versions"] == "2" and served.loc["shadow", "model_versions"] == "1"
    rows = frame_with(page, "verdict").set_index("metric")
    assert rows.loc["Recall@K (later favourites)", "production"].startswith("0.0%")
    assert rows.loc["Recall@K (later favourites)", "challenger"].startswith("100.0%")
    assert rows.loc["Like rate", "challenger"] == "—"
    assert arm_versions(pd.DataFrame({"ts": [], "arm": [], "model_version": []})) == {}


def test_the_version_filter_names_both_aliases(monkeypatch, tmp_path: Path, with_challenger: Path):
    seed_arms(tmp_path / "events.db", challenger_readers=5)
    point_at(monkeypatch, tmp_path / "events.db", with_challenger)
    page = run_page()
    assert page.sidebar.multiselect[0].label == "Model versions (production: 2, challenger: 1)"
