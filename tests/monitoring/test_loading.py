from pathlib import Path

import pandas as pd
import pytest

from monitoring.loading import load_window, only_versions
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
    assert len(data.requests) == 5 and len(data.recent) == 5
    assert not data.sampled
    assert list(data.requests.columns) == ["time", "userid", "latency_ms", "model_version"]
    assert str(data.requests["time"].dtype) == "datetime64[ms, UTC]"
    assert data.recent["prediction_ids"].iloc[0] == [2, 3, 4]
    assert data.feedback["feedback_id"].tolist() == ["f0", "f4"]


def test_sample_keeps_most_recent_predictions_and_their_feedback(store):
    data = load_window(store, Window(None, None), sample_size=2)
    assert data.sampled
    assert len(data.requests) == 5
    assert data.recent["request_id"].tolist() == ["p3", "p4"]
    assert data.feedback["feedback_id"].tolist() == ["f4"]


def test_window_bounds(store):
    data = load_window(store, Window(ts(1), ts(3)), sample_size=100)
    assert data.recent["request_id"].tolist() == ["p1", "p2"]
    assert data.feedback.empty


def test_empty_window(store):
    data = load_window(store, Window(ts(100), None), sample_size=100)
    assert data.requests.empty and data.recent.empty and data.feedback.empty
    assert not data.sampled


def test_only_versions(store):
    data = only_versions(load_window(store, Window(None, None), sample_size=100), ["2"])
    assert data.recent["request_id"].tolist() == ["p3", "p4"]
    assert len(data.requests) == 2


def test_sample_size_must_be_positive(store):
    with pytest.raises(ValueError, match="sample_size"):
        load_window(store, Window(None, None), sample_size=0)


def test_empty_store_frames_have_columns():
    data = load_window(MemoryEventStore(), Window(None, None), sample_size=10)
    assert "prediction_ids" in data.recent.columns
    assert isinstance(data.feedback, pd.DataFrame)
