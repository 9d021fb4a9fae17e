from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from monitoring.loading import load_traffic, load_window, only_versions, span_between
from monitoring.windows import Window
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.sqlite import SqliteEventStore
from tests.monitoring.helpers import feedback, prediction, ts


@pytest.fixture(params=["sqlite", "memory"])
def store(request, tmp_path: Path):
    """A store holding predictions p0..p4 one minute apart and feedback on p0 and p4."""
    events = SqliteEventStore(tmp_path / "events.db") if request.param == "sqlite" else MemoryEventStore()
    events.write_predictions(
        [prediction(f"p{i}", i, userid=f"u{i % 2}", model_version="1" if i < 3 else "2") for i in range(5)]
    )
    events.write_feedback([feedback("f0", 0.5, "p0", 2, 1), feedback("f4", 4.5, "p4", 3, -1)])
    yield events
    events.close()


def test_whole_window_without_sampling(store):
    data = load_window(store, Window(None, None), sample_size=100)
    assert data.traffic.requests == 5 and len(data.recent) == 5
    assert not data.sampled
    assert data.bucket == "1min"  # 4 minutes between the first and last prediction
    assert data.traffic.bucket_s == 60 and data.traffic.users == 2
    assert data.traffic.model_versions == ["1", "2"]
    assert str(data.recent["time"].dtype) == "datetime64[ms, UTC]"
    assert data.recent["prediction_ids"].iloc[0] == [2, 3, 4]
    assert data.feedback["feedback_id"].tolist() == ["f0", "f4"]


def test_sample_keeps_most_recent_predictions_and_their_feedback(store):
    data = load_window(store, Window(None, None), sample_size=2)
    assert data.sampled
    assert data.traffic.requests == 5
    assert data.recent["request_id"].tolist() == ["p3", "p4"]
    assert data.feedback["feedback_id"].tolist() == ["f4"]


def test_a_sample_as_large_as_the_window_keeps_all_its_feedback(store):
    data = load_window(store, Window(None, None), sample_size=5)
    assert not data.sampled
    assert data.feedback["feedback_id"].tolist() == ["f0", "f4"]


def test_window_bounds(store):
    data = load_window(store, Window(ts(1), ts(3)), sample_size=100)
    assert data.recent["request_id"].tolist() == ["p1", "p2"]
    assert data.traffic.requests == 2
    assert data.feedback.empty


def test_empty_window(store):
    data = load_window(store, Window(ts(100), None), sample_size=100)
    assert data.traffic.requests == 0 and data.recent.empty and data.feedback.empty
    assert data.traffic.cells.empty and data.bucket == "1min"
    assert not data.sampled


def test_only_versions(store):
    data = load_window(store, Window(None, None), sample_size=100)
    narrowed = only_versions(data, ["2"], load_traffic(store, Window(None, None), data.bucket, ["2"]))
    assert narrowed.recent["request_id"].tolist() == ["p3", "p4"]
    assert narrowed.traffic.requests == 2 and narrowed.traffic.users == 2
    assert narrowed.feedback.equals(data.feedback)


def test_only_versions_refuses_a_summary_of_other_buckets(store):
    data = load_window(store, Window(None, None), sample_size=100)
    hourly = load_traffic(store, Window(None, None), "1h", ["2"])
    with pytest.raises(ValueError, match="buckets"):
        only_versions(data, ["2"], hourly)


def test_load_traffic_refuses_an_unknown_bucket(store):
    with pytest.raises(ValueError, match="unknown bucket"):
        load_traffic(store, Window(None, None), "2h")


def test_sample_size_must_be_positive(store):
    with pytest.raises(ValueError, match="sample_size"):
        load_window(store, Window(None, None), sample_size=0)


def test_span_between():
    assert span_between(None) == timedelta(0)
    assert span_between((ts(0), ts(90))) == timedelta(minutes=90)


def test_empty_store_frames_have_columns():
    data = load_window(MemoryEventStore(), Window(None, None), sample_size=10)
    assert "prediction_ids" in data.recent.columns
    assert isinstance(data.feedback, pd.DataFrame)
    assert data.traffic.requests == 0 and data.traffic.users == 0
