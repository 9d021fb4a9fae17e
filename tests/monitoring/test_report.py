import math
from pathlib import Path

import pytest

from monitoring import traffic
from monitoring.loading import load_traffic, load_window, only_versions
from monitoring.models import RegistryView, load_registry_view
from monitoring.report import ReportOptions, build_report
from monitoring.windows import Window
from readcrumbs.events.memory import MemoryEventStore
from tests.monitoring.conftest import MODEL
from tests.monitoring.helpers import feedback, prediction


@pytest.fixture
def registry(registry_folder: Path) -> RegistryView:
    return load_registry_view(f"file://{registry_folder}", MODEL)


def seeded_store() -> MemoryEventStore:
    """u1 asks twice (v1 then v2) and adds book 3, which v1 had recommended; u2 asks once."""
    store = MemoryEventStore()
    store.write_predictions(
        [
            prediction(
                "a", 0, "u1", item_ids=[1], prediction_ids=[2, 3, 4], latency_ms=10, model_version="1"
            ),
            prediction(
                "b", 30, "u1", item_ids=[1, 3], prediction_ids=[5, 6], latency_ms=30, model_version="2"
            ),
            prediction(
                "c",
                60,
                "u2",
                item_ids=[6],
                prediction_ids=[],
                latency_ms=80,
                model_version="2",
                unknown=["Nope"],
            ),
        ]
    )
    store.write_feedback([feedback("f1", 1, "a", 3, +1), feedback("f2", 31, "b", 6, -1, userid="u1")])
    return store


def test_report_over_a_seeded_window(registry: RegistryView):
    data = load_window(seeded_store(), Window(None, None), sample_size=100)
    report = build_report(data, registry, ReportOptions(slo_ms=50.0, recall_k=10))
    assert (report.requests, report.users, report.recent_requests, report.sampled) == (3, 2, 3, False)
    # Histogram estimates: in the bin of the request at that rank (30 ms, 80 ms), within its width.
    assert report.latency.p50 == pytest.approx(30.0, rel=traffic.LATENCY_BIN_WIDTH)
    assert report.latency.p99 == pytest.approx(80.0, rel=traffic.LATENCY_BIN_WIDTH)
    assert report.slo_breach == pytest.approx(1 / 3)  # no request shares a bin with the 50 ms SLO
    assert report.bucket == "1min" and report.users_over_time["users"].sum() == 3  # u1, u1, u2
    assert report.degraded_share == pytest.approx(1 / 3)  # c: an unknown title and no recommendation
    assert report.requests_over_time["requests"].sum() == 3
    # Rated: a (1 like of 3 shown) and b (1 dislike of 2 shown).
    assert report.feedback_quality.like_rate == pytest.approx(1 / 5)
    assert report.feedback_quality.hit_rate == pytest.approx(1 / 2)
    assert report.feedback_quality.mrr == pytest.approx((1 / 2 + 0) / 2)
    assert (report.favourite_recall.added, report.favourite_recall.hits) == (1, 1)
    # Recommended 2, 3, 4, 5, 6 out of a catalogue of 6 books.
    assert report.catalogue_size == 6
    assert report.coverage == pytest.approx(5 / 6)
    assert report.top_requested["book_id"].iloc[0] == 1
    assert report.top_requested["title"].iloc[0] == "Title 1"
    assert report.popularity_drift is not None and report.genre_drift is not None
    assert report.unknown_over_time["requests"].sum() == 3


def test_version_table_sets_online_beside_offline(registry: RegistryView):
    data = load_window(seeded_store(), Window(None, None), sample_size=100)
    table = build_report(data, registry, ReportOptions()).versions.set_index("model_version")
    assert table.loc["1", "requests"] == 1 and table.loc["2", "requests"] == 2
    assert table.loc["1", "like_rate"] == pytest.approx(1 / 3)
    assert table.loc["1", "recall@10"] == 1.0
    assert table.loc["1", "offline fav3 recall@10"] == pytest.approx(0.1)
    assert table.loc["2", "offline fav3 recall@10"] == pytest.approx(0.2)
    assert bool(table.loc["2", "production"])


def test_version_table_p95_is_estimated_per_version(registry: RegistryView):
    data = load_window(seeded_store(), Window(None, None), sample_size=100)
    table = build_report(data, registry, ReportOptions()).versions.set_index("model_version")
    # Version 2 served 30 and 80 ms: the request of rank ceil(0.95 * 2) = 2 took 80 ms.
    assert table.loc["1", "p95_ms"] == pytest.approx(10.0, rel=traffic.LATENCY_BIN_WIDTH)
    assert table.loc["2", "p95_ms"] == pytest.approx(80.0, rel=traffic.LATENCY_BIN_WIDTH)


def test_version_filter(registry: RegistryView):
    store = seeded_store()
    data = load_window(store, Window(None, None), sample_size=100)
    narrowed = only_versions(data, ["2"], load_traffic(store, Window(None, None), data.bucket, ["2"]))
    report = build_report(narrowed, registry, ReportOptions())
    assert report.requests == 2 and report.users == 2
    assert report.feedback_quality.rated_requests == 1
    assert report.feedback_quality.like_rate == 0.0


def test_empty_store_without_registry():
    data = load_window(MemoryEventStore(), Window(None, None), sample_size=100)
    report = build_report(data, RegistryView(problem="none"), ReportOptions())
    assert report.requests == 0 and report.users == 0
    assert math.isnan(report.latency.p95) and math.isnan(report.feedback_quality.like_rate)
    assert report.catalogue_size is None and math.isnan(report.coverage)
    assert report.popularity_drift is None and report.popularity_bias is None
    assert report.versions.empty


def test_empty_store_lists_registered_versions(registry: RegistryView):
    data = load_window(MemoryEventStore(), Window(None, None), sample_size=100)
    report = build_report(data, registry, ReportOptions())
    assert report.versions["model_version"].tolist() == ["1", "2"]
    assert report.popularity_drift is not None and report.popularity_drift.level == "no data"


def test_one_record(registry: RegistryView):
    store = MemoryEventStore()
    store.write_predictions([prediction("only", 0)])
    report = build_report(load_window(store, Window(None, None), 100), registry, ReportOptions())
    assert report.requests == 1
    assert report.latency.p99 == pytest.approx(10.0, rel=traffic.LATENCY_BIN_WIDTH)
    assert report.latency_histogram["requests"].sum() == pytest.approx(1)
    assert report.favourite_recall.added == 0
