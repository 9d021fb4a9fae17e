"""The checks and frame layout that every event store shares."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from readcrumbs.events import codec
from readcrumbs.events.records import FeedbackRecord, PredictionRecord, to_iso, utc_now_iso
from tests.readcrumbs.events.conftest import T0, make_feedback, make_prediction


def test_field_lists_follow_the_records() -> None:
    # Pins the tables to the dataclasses: a field added to a record must be added to the stores.
    assert [f.name for f in fields(PredictionRecord)] == list(codec.PREDICTION_FIELDS)
    assert [f.name for f in fields(FeedbackRecord)] == list(codec.FEEDBACK_FIELDS)
    assert set(codec.PREDICTION_DTYPES) == set(codec.PREDICTION_FIELDS)
    assert set(codec.FEEDBACK_DTYPES) == set(codec.FEEDBACK_FIELDS)
    assert set(codec.PREDICTION_FIELDS) > codec.PREDICTION_LIST_FIELDS


@pytest.mark.parametrize("ts", [to_iso(T0), utc_now_iso(), "1999-01-01T00:00:00.000Z"])
def test_record_timestamps_are_accepted(ts: str) -> None:
    assert codec.check_ts(ts) == ts


@pytest.mark.parametrize(
    "ts", ["2026-11-28T17:13:59Z", "2026-11-28T17:13:59.123+00:00", "2026-11-28 17:13:59.123Z", "", None]
)
def test_other_timestamp_forms_are_refused(ts: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        codec.check_ts(ts)


@pytest.mark.parametrize("bound", [None, "2026-11-28", "2026-11-28T17", "2026-11-28T17:13:59.123Z"])
def test_bounds_need_only_a_leading_date(bound: str | None) -> None:
    assert codec.check_bound(bound) == bound


def test_in_window_is_start_inclusive_end_exclusive() -> None:
    assert codec.in_window("b", "b", "c") and not codec.in_window("c", "b", "c")
    assert codec.in_window("a", None, None) and not codec.in_window("a", "b", None)


def test_normalize_turns_numpy_values_into_plain_python() -> None:
    record = make_prediction(
        1, items=list(np.array(["Dune", "Emma"])), item_ids=list(np.arange(2)), k=np.int32(5)
    )
    clean = codec.normalize_prediction(record)
    assert clean == make_prediction(1, items=["Dune", "Emma"], item_ids=[0, 1], k=5)
    assert all(type(t) is str for t in clean.items) and type(clean.k) is int
    feedback = codec.normalize_feedback(make_feedback(1, book_id=np.int64(7), position=np.int8(2)))
    assert type(feedback.book_id) is int and type(feedback.position) is int


def test_normalize_copies_the_lists() -> None:
    record = make_prediction(1)
    clean = codec.normalize_prediction(record)
    assert clean == record and clean.items is not record.items and clean.scores is not record.scores


@pytest.mark.parametrize(
    "bad",
    [
        {"userid": None},
        {"model_version": 3},
        {"unknown": [None]},
        {"prediction_ids": ["12"]},
        {"latency_ms": float("-inf")},
        {"k": 2.0},
    ],
)
def test_malformed_predictions_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        codec.normalize_prediction(make_prediction(1, **bad))


@pytest.mark.parametrize("bad", [{"value": 2}, {"feedback_id": ""}, {"request_id": ""}, {"title": None}])
def test_malformed_feedback_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        codec.normalize_feedback(make_feedback(1, **bad))


def test_empty_frame_keeps_columns_and_dtypes() -> None:
    frame = codec.predictions_frame([], ["k", "scores", "ts"])
    assert list(frame.columns) == ["k", "scores", "ts"]
    assert [str(t) for t in frame.dtypes] == ["int64", "object", "str"]
