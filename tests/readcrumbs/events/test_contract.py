"""The contract every event store keeps, run against memory, SQLite and DynamoDB (moto)."""

from __future__ import annotations

import random
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from readcrumbs.errors import StoreError
from readcrumbs.events.base import EventStore
from readcrumbs.events.codec import FEEDBACK_FIELDS, PREDICTION_FIELDS
from tests.readcrumbs.events.conftest import at, make_feedback, make_prediction

SCALARS = ["ts", "latency_ms", "userid", "model_version"]


def test_prediction_round_trips_every_field(store: EventStore) -> None:
    odd = make_prediction(
        1,
        userid="lectrice-ü-🙂",
        items=["Ἰλιάς", 'quote " and \\ backslash', "line\nbreak\ttab", "", "99"],
        item_ids=[],
        prediction=["Cien años de soledad", "東京", "e\u0301"],
        prediction_ids=[10_000, 1, 2**40],
        scores=[0.1, 1 / 3, -2.5e-7, 1e-9, 123456.789],
        latency_ms=0.000123,
        model_version="als-2026.11.28+ab12",
        unknown=["nothing like it", "ß"],
        k=100,
    )
    plain = make_prediction(2, scores=[], prediction=[], prediction_ids=[], items=[], unknown=[])
    store.write_predictions([odd, plain])

    assert store.get_prediction(odd.request_id) == odd
    assert store.get_prediction(plain.request_id) == plain
    assert store.predictions() == [odd, plain]


def test_feedback_round_trips_every_field_and_missing_optionals(store: EventStore) -> None:
    tied = make_feedback(1, title="Der Zauberberg — Band 1", position=9, value=-1)
    untied = make_feedback(2, request_id=None, position=None, value=1)
    store.write_feedback([tied, untied])

    assert store.feedback() == [tied, untied]


def test_numpy_scalars_come_back_as_plain_python(store: EventStore) -> None:
    record = make_prediction(
        1,
        item_ids=list(np.array([5, 6], dtype=np.int64)),
        scores=list(np.array([0.5, 0.25], dtype=np.float32)),
        latency_ms=np.float64(2.5),
        k=np.int64(2),
    )
    store.write_predictions([record])
    (back,) = store.predictions()
    assert back.item_ids == [5, 6] and all(type(i) is int for i in back.item_ids)
    assert back.scores == [0.5, 0.25] and all(type(s) is float for s in back.scores)
    assert type(back.latency_ms) is float and type(back.k) is int


def test_rewriting_records_is_idempotent(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(4)]
    feedback = [make_feedback(n) for n in range(4)]
    store.write_predictions(predictions[:3])
    store.write_predictions(predictions)  # a replay that overlaps the first batch
    store.write_predictions([predictions[0], predictions[0]])  # a duplicate inside one batch
    store.write_feedback(feedback)
    store.write_feedback(feedback)

    assert store.predictions() == predictions
    assert store.feedback() == feedback


def test_empty_batches_are_accepted(store: EventStore) -> None:
    store.write_predictions([])
    store.write_feedback([])
    assert store.predictions() == [] and store.feedback() == []


def test_window_includes_start_and_excludes_end(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(6)]  # one a minute, crossing midnight at n=2
    feedback = [make_feedback(n) for n in range(6)]
    store.write_predictions(predictions)
    store.write_feedback(feedback)

    assert store.predictions(predictions[1].ts, predictions[4].ts) == predictions[1:4]
    assert store.predictions(start=predictions[2].ts) == predictions[2:]
    assert store.predictions(end=predictions[2].ts) == predictions[:2]
    assert store.predictions(at(-1), at(10_000)) == predictions
    assert store.feedback(feedback[1].ts, feedback[4].ts) == feedback[1:4]
    assert store.feedback(start=feedback[5].ts) == feedback[5:]
    assert store.feedback(end=feedback[0].ts) == []


def test_window_bounds_may_be_dates(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(4)]  # n=0,1 on the 28th, n=2,3 on the 29th
    store.write_predictions(predictions)

    assert store.predictions("2026-11-29", "2026-11-30") == predictions[2:]
    assert store.predictions("2026-11-28", "2026-11-29") == predictions[:2]


def test_empty_or_reversed_window_is_empty(store: EventStore) -> None:
    store.write_predictions([make_prediction(n) for n in range(3)])
    assert store.predictions(at(60), at(60)) == []
    assert store.predictions(at(120), at(0)) == []
    assert store.predictions(at(5_000)) == []


def test_bad_bound_is_refused(store: EventStore) -> None:
    with pytest.raises(ValueError, match="not ISO-8601"):
        store.predictions(start="yesterday")
    with pytest.raises(ValueError, match="not ISO-8601"):
        store.feedback(end="28/11/2026")


def test_records_come_back_oldest_first_then_by_id(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(8)]
    same_moment = [make_prediction(n, seconds=150, request_id=f"tie-{n}") for n in (3, 1, 2)]
    shuffled = predictions + same_moment
    random.Random(7).shuffle(shuffled)
    for record in shuffled:  # one record a batch, in random order
        store.write_predictions([record])

    got = store.predictions()
    assert [r.request_id for r in got] == [
        r.request_id for r in sorted(predictions + same_moment, key=lambda r: (r.ts, r.request_id))
    ]


def test_get_prediction_of_unknown_id_is_none(store: EventStore) -> None:
    assert store.get_prediction("never-logged") is None
    store.write_predictions([make_prediction(1)])
    assert store.get_prediction("never-logged") is None
    assert store.get_prediction("") is None


def test_random_prediction_of_empty_store_is_none(store: EventStore) -> None:
    assert store.random_prediction() is None


def test_random_prediction_is_one_of_the_logged(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(5)]
    store.write_predictions(predictions)
    for _ in range(10):
        assert store.random_prediction() in predictions


def test_predictions_frame_holds_every_field_by_default(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(4)]
    store.write_predictions(predictions)

    frame = store.predictions_frame()
    assert list(frame.columns) == list(PREDICTION_FIELDS)
    assert frame.to_dict("records") == [asdict(r) for r in predictions]


def test_predictions_frame_reads_only_the_asked_columns_in_the_window(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(5)]
    store.write_predictions(predictions)

    frame = store.predictions_frame(predictions[1].ts, predictions[4].ts, columns=SCALARS)
    assert list(frame.columns) == SCALARS
    assert frame["ts"].tolist() == [r.ts for r in predictions[1:4]]
    assert frame["latency_ms"].tolist() == [r.latency_ms for r in predictions[1:4]]
    lists = store.predictions_frame(columns=["scores", "request_id"])
    assert list(lists.columns) == ["scores", "request_id"]
    assert lists["scores"].tolist() == [r.scores for r in predictions]


@pytest.mark.parametrize("columns", [["nope"], ["ts", "ts"], [], "ts"])
def test_predictions_frame_refuses_bad_columns(store: EventStore, columns: list[str]) -> None:
    with pytest.raises(ValueError, match="column"):
        store.predictions_frame(columns=columns)


def test_empty_frames_have_the_columns_and_dtypes_of_full_ones(store: EventStore) -> None:
    empty_predictions = store.predictions_frame()
    empty_scalars = store.predictions_frame(columns=SCALARS)
    empty_feedback = store.feedback_frame()
    assert len(empty_predictions) == len(empty_scalars) == len(empty_feedback) == 0
    store.write_predictions([make_prediction(n) for n in range(3)])
    store.write_feedback([make_feedback(1), make_feedback(2, request_id=None, position=None)])

    for empty, full in [
        (empty_predictions, store.predictions_frame()),
        (empty_scalars, store.predictions_frame(columns=SCALARS)),
        (empty_feedback, store.feedback_frame()),
    ]:
        assert list(empty.columns) == list(full.columns)
        assert empty.dtypes.to_dict() == full.dtypes.to_dict()


def test_feedback_frame_marks_missing_request_and_position(store: EventStore) -> None:
    tied, untied = make_feedback(1, position=4), make_feedback(2, request_id=None, position=None)
    store.write_feedback([tied, untied])

    frame = store.feedback_frame()
    assert list(frame.columns) == list(FEEDBACK_FIELDS)
    assert frame["feedback_id"].tolist() == [tied.feedback_id, untied.feedback_id]
    assert frame["request_id"].iloc[0] == tied.request_id and pd.isna(frame["request_id"].iloc[1])
    assert frame["position"].iloc[0] == 4 and frame["position"].iloc[1] is pd.NA
    assert frame["value"].tolist() == [tied.value, untied.value]
    assert store.feedback_frame(start=untied.ts)["feedback_id"].tolist() == [untied.feedback_id]


def test_a_malformed_record_fails_its_whole_batch(store: EventStore) -> None:
    good = make_prediction(1)
    for bad in [
        make_prediction(2, ts="2026-11-28 17:00:00"),
        make_prediction(2, request_id=""),
        make_prediction(2, latency_ms=float("nan")),
        make_prediction(2, scores=[0.5, float("inf")]),
        make_prediction(2, item_ids=[1.5]),
        make_prediction(2, items=["ok", 3]),
    ]:
        with pytest.raises((ValueError, TypeError)):
            store.write_predictions([good, bad])
    with pytest.raises(ValueError, match="value"):
        store.write_feedback([make_feedback(1, value=0)])
    assert store.predictions() == [] and store.feedback() == []


def test_stored_records_do_not_share_lists_with_the_caller(store: EventStore) -> None:
    record = make_prediction(1)
    store.write_predictions([record])
    record.items.append("changed after writing")
    back = store.get_prediction(record.request_id)
    assert back is not None and "changed after writing" not in back.items
    back.scores.clear()
    assert store.predictions()[0].scores == make_prediction(1).scores


def test_lone_surrogates_in_free_text_are_repaired_not_refused(store: EventStore) -> None:
    store.write_predictions([make_prediction(1, userid="x\ud800y", items=["\udfff"])])
    (back,) = store.predictions()
    assert back.userid == "x\ufffdy" and back.items == ["\ufffd"]


def test_ping_passes_then_a_closed_store_raises_store_error(store: EventStore) -> None:
    store.ping()
    store.close()
    with pytest.raises(StoreError):
        store.ping()
    with pytest.raises(StoreError):
        store.write_predictions([make_prediction(1)])
    with pytest.raises(StoreError):
        store.predictions()


def test_url_names_the_backend(store: EventStore) -> None:
    assert store.url.split("://")[0] in {"memory", "sqlite", "dynamodb"}
