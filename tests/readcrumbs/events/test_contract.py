"""The contract every event store keeps, run against memory, SQLite and DynamoDB (moto)."""

from __future__ import annotations

import random
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest

from readcrumbs.errors import StoreError
from readcrumbs.events.base import EventStore
from readcrumbs.events.codec import FEEDBACK_FIELDS, PREDICTION_FIELDS
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.records import PredictionRecord
from readcrumbs.events.summary import MAX_LATENCY_EDGES
from tests.readcrumbs.events.conftest import (
    SCATTER_EDGES,
    T0,
    assert_same_summary,
    at,
    make_feedback,
    make_prediction,
    scattered_records,
)

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


def test_a_later_vote_replaces_the_earlier_one_with_the_same_feedback_id(store: EventStore) -> None:
    """One vote per (request, book): the backend gives both the same feedback_id (issue 15 #3)."""
    first = make_feedback(1, value=1)
    later = replace(first, ts=at(120), value=-1, position=3)
    store.write_feedback([first])
    store.write_feedback([later])
    store.write_feedback([first])  # a spool replay of the older vote, after the newer one
    other = make_feedback(2)
    store.write_feedback([other])

    assert store.feedback() == [later, other]
    assert len(store.feedback_frame()) == 2


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
    rows = [
        {name: None if name == "shadow_version" and pd.isna(value) else value for name, value in row.items()}
        for row in frame.to_dict("records")
    ]
    assert rows == [asdict(r) for r in predictions]
    assert frame["arm"].tolist() == ["production", "challenger", "shadow", "production"]


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
    with pytest.raises(StoreError):
        store.prediction_span()
    with pytest.raises(StoreError):
        store.traffic_summary(bucket_s=60, latency_edges_ms=EDGES)


def test_url_names_the_backend(store: EventStore) -> None:
    assert store.url.split("://")[0] in {"memory", "sqlite", "dynamodb"}


# --- newest predictions, span, traffic summary -------------------------------------------------


def test_predictions_frame_keeps_the_newest_oldest_first(store: EventStore) -> None:
    predictions = [make_prediction(n) for n in range(5)]
    tied = [make_prediction(n, seconds=240, request_id=f"tie-{n}") for n in (2, 1)]  # same ts as n=4
    store.write_predictions(predictions + tied)

    newest = store.predictions_frame(columns=["request_id", "item_ids"], newest=3)
    assert newest["request_id"].tolist() == ["req-0004", "tie-1", "tie-2"]  # ties ordered by id
    assert newest["item_ids"].tolist() == [[5, 7], [2, 7], [3, 7]]
    windowed = store.predictions_frame(end=predictions[3].ts, columns=["request_id"], newest=2)
    assert windowed["request_id"].tolist() == ["req-0001", "req-0002"]
    assert len(store.predictions_frame(newest=100)) == 7
    assert store.predictions_frame(start=at(10_000), newest=1).empty


@pytest.mark.parametrize("newest", [0, -1, True, 1.5])
def test_predictions_frame_refuses_a_bad_newest(store: EventStore, newest: int) -> None:
    with pytest.raises(ValueError, match="newest"):
        store.predictions_frame(newest=newest)


def test_prediction_span_is_the_first_and_last_ts_in_the_window(store: EventStore) -> None:
    assert store.prediction_span() is None
    predictions = [make_prediction(n) for n in range(5)]  # crossing midnight at n=2
    store.write_predictions(predictions)

    assert store.prediction_span() == (predictions[0].ts, predictions[4].ts)
    assert store.prediction_span(predictions[1].ts, predictions[4].ts) == (
        predictions[1].ts,
        predictions[3].ts,
    )
    assert store.prediction_span(start="2026-11-29") == (predictions[2].ts, predictions[4].ts)
    assert store.prediction_span(at(5_000)) is None
    with pytest.raises(ValueError, match="not ISO-8601"):
        store.prediction_span(start="yesterday")


EDGES = [1.0, 2.0, 4.0]  # bins: [0, 1), [1, 2), [2, 4), [4, inf)
# T0 is 23:58:00.123 UTC, 0.123 s into a 120 s bucket; the next buckets start at midnight and 00:02.
B0 = int(T0.replace(microsecond=0).timestamp())
B1, B2 = B0 + 120, B0 + 240


def summary_records() -> list[PredictionRecord]:
    return [
        make_prediction(1, seconds=0, userid="a", latency_ms=0.5, model_version="1"),
        make_prediction(2, seconds=10, userid="b", latency_ms=1.0, model_version="1"),  # on an edge
        make_prediction(3, seconds=20, userid="a", latency_ms=1.999, model_version="2"),
        make_prediction(4, seconds=119.876, userid="a", latency_ms=2.0, model_version="1"),  # 23:59:59.999
        make_prediction(5, seconds=119.877, userid="c", latency_ms=4.0, model_version="1"),  # midnight
        make_prediction(6, seconds=200, userid="a", latency_ms=100.0, model_version="2"),
        make_prediction(7, seconds=250, userid="c", latency_ms=3.0, model_version="1"),  # 00:02:10.123
    ]


def test_traffic_summary_counts_per_bucket_version_and_latency_bin(store: EventStore) -> None:
    store.write_predictions(summary_records())
    summary = store.traffic_summary(bucket_s=120, latency_edges_ms=EDGES)

    assert summary.bucket_s == 120 and summary.latency_edges_ms == (1.0, 2.0, 4.0) and summary.n_bins == 4
    assert list(summary.cells.itertuples(index=False, name=None)) == [
        (B0, "1", 0, 1, 0.5),
        (B0, "1", 1, 1, 1.0),
        (B0, "1", 2, 1, 2.0),
        (B0, "2", 1, 1, 1.999),
        (B1, "1", 3, 1, 4.0),
        (B1, "2", 3, 1, 100.0),
        (B2, "1", 2, 1, 3.0),
    ]
    assert list(summary.bucket_users.itertuples(index=False, name=None)) == [(B0, 2), (B1, 2), (B2, 1)]
    assert (summary.users, summary.requests, summary.model_versions) == (3, 7, ["1", "2"])


def test_traffic_summary_adds_up_a_cell(store: EventStore) -> None:
    store.write_predictions(
        [make_prediction(n, seconds=n, userid="a", latency_ms=1.5 + n / 10) for n in range(4)]
    )
    summary = store.traffic_summary(bucket_s=3600, latency_edges_ms=EDGES)
    ((bucket, version, latency_bin, requests, latency_sum),) = summary.cells.itertuples(index=False)
    assert (version, latency_bin, requests) == ("3", 1, 4)
    assert latency_sum == pytest.approx(1.5 + 1.6 + 1.7 + 1.8)
    assert bucket == B0 // 3600 * 3600
    assert summary.bucket_users["users"].tolist() == [1] and summary.users == 1


def test_traffic_summary_keeps_only_the_chosen_versions(store: EventStore) -> None:
    store.write_predictions(summary_records())

    only_two = store.traffic_summary(bucket_s=120, latency_edges_ms=EDGES, versions=["2"])
    assert list(only_two.cells.itertuples(index=False, name=None)) == [
        (B0, "2", 1, 1, 1.999),
        (B1, "2", 3, 1, 100.0),
    ]
    assert only_two.bucket_users["users"].tolist() == [1, 1] and only_two.users == 1
    # Over two versions, reader "a" counts once: distinct readers are not a sum over versions.
    both = store.traffic_summary(bucket_s=120, latency_edges_ms=EDGES, versions=["1", "2"])
    assert_same_summary(both, store.traffic_summary(bucket_s=120, latency_edges_ms=EDGES))
    for nothing in ([], ["no such version"]):
        empty = store.traffic_summary(bucket_s=120, latency_edges_ms=EDGES, versions=nothing)
        assert empty.cells.empty and empty.bucket_users.empty and empty.users == 0


def test_traffic_summary_of_a_window(store: EventStore) -> None:
    records = summary_records()
    store.write_predictions(records)

    summary = store.traffic_summary(records[1].ts, records[5].ts, bucket_s=120, latency_edges_ms=EDGES)
    assert summary.requests == 4  # records 2 to 5
    assert list(summary.bucket_users.itertuples(index=False, name=None)) == [(B0, 2), (B1, 1)]
    assert summary.users == 3
    assert store.traffic_summary(start="2026-11-29", bucket_s=120, latency_edges_ms=EDGES).requests == 3
    assert store.traffic_summary(at(5_000), bucket_s=120, latency_edges_ms=EDGES).cells.empty
    with pytest.raises(ValueError, match="not ISO-8601"):
        store.traffic_summary("yesterday", bucket_s=120, latency_edges_ms=EDGES)


@pytest.mark.parametrize(
    ("bucket_s", "window", "versions"),
    [
        (3600, (None, None), None),  # one bucket a query in SQLite
        (86_400, (at(3_000), at(200_000)), ["10", "2"]),
        (1, (None, None), None),  # 259,200 buckets: SQLite groups many buckets a query
        (7, (at(50_000), None), ["1"]),
    ],
)
def test_traffic_summary_is_the_same_in_every_store(
    store: EventStore, bucket_s: int, window: tuple[str | None, str | None], versions: list[str] | None
) -> None:
    records = scattered_records(300, seed=bucket_s)
    store.write_predictions(records)
    reference = MemoryEventStore()
    reference.write_predictions(records)

    got = store.traffic_summary(*window, bucket_s=bucket_s, latency_edges_ms=SCATTER_EDGES, versions=versions)
    expected = reference.traffic_summary(
        *window, bucket_s=bucket_s, latency_edges_ms=SCATTER_EDGES, versions=versions
    )
    assert_same_summary(got, expected)
    assert got.requests == len(
        [
            r
            for r in records
            if (window[0] is None or r.ts >= window[0])
            and (window[1] is None or r.ts < window[1])
            and (versions is None or r.model_version in versions)
        ]
    )


def test_empty_traffic_summary_has_the_dtypes_of_a_full_one(store: EventStore) -> None:
    empty = store.traffic_summary(bucket_s=60, latency_edges_ms=EDGES)
    assert empty.cells.empty and empty.bucket_users.empty and (empty.users, empty.requests) == (0, 0)
    store.write_predictions(summary_records())
    full = store.traffic_summary(bucket_s=60, latency_edges_ms=EDGES)
    assert empty.cells.dtypes.to_dict() == full.cells.dtypes.to_dict()
    assert empty.bucket_users.dtypes.to_dict() == full.bucket_users.dtypes.to_dict()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bucket_s": 0}, "bucket_s"),
        ({"bucket_s": 1.5}, "bucket_s"),
        ({"bucket_s": True}, "bucket_s"),
        ({"latency_edges_ms": []}, "edges"),
        ({"latency_edges_ms": [2.0, 1.0]}, "increasing"),
        ({"latency_edges_ms": [1.0, 1.0]}, "increasing"),
        ({"latency_edges_ms": [1.0, float("nan")]}, "finite"),
        ({"latency_edges_ms": list(range(1, MAX_LATENCY_EDGES + 2))}, "edges"),
        ({"versions": "1"}, "versions"),
        ({"versions": [1]}, "versions"),
    ],
)
def test_traffic_summary_refuses_bad_arguments(
    store: EventStore, arguments: dict[str, object], message: str
) -> None:
    store.write_predictions([make_prediction(1)])
    chosen: dict[str, object] = {"bucket_s": 60, "latency_edges_ms": EDGES, **arguments}
    with pytest.raises(ValueError, match=message):
        store.traffic_summary(**chosen)  # type: ignore[arg-type]
