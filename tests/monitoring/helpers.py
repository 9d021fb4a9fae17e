"""Tiny hand-made frames and records for the dashboard's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from readcrumbs.events.records import FeedbackRecord, PredictionRecord, to_iso

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def ts(minutes: float) -> str:
    """The records' timestamp ``minutes`` after :data:`T0`."""
    return to_iso(T0 + timedelta(minutes=minutes))


def prediction(
    request_id: str,
    minutes: float,
    userid: str = "u1",
    item_ids: list[int] | None = None,
    prediction_ids: list[int] | None = None,
    latency_ms: float = 10.0,
    model_version: str = "1",
    unknown: list[str] | None = None,
) -> PredictionRecord:
    """A prediction record with sensible defaults; titles are derived from the ids."""
    items = item_ids if item_ids is not None else [1]
    recs = prediction_ids if prediction_ids is not None else [2, 3, 4]
    return PredictionRecord(
        request_id=request_id,
        ts=ts(minutes),
        userid=userid,
        items=[f"book {i}" for i in items] + list(unknown or []),
        item_ids=items,
        prediction=[f"book {i}" for i in recs],
        prediction_ids=recs,
        scores=[1.0 / (rank + 1) for rank in range(len(recs))],
        latency_ms=latency_ms,
        model_version=model_version,
        unknown=list(unknown or []),
        k=len(recs),
    )


def feedback(
    feedback_id: str, minutes: float, request_id: str | None, book_id: int, value: int, userid: str = "u1"
) -> FeedbackRecord:
    return FeedbackRecord(
        feedback_id=feedback_id,
        ts=ts(minutes),
        userid=userid,
        request_id=request_id,
        book_id=book_id,
        title=f"book {book_id}",
        position=None,
        value=value,
    )


def frame_of(records: list[PredictionRecord]) -> pd.DataFrame:
    """Records as the store's frame would hold them (every field)."""
    return pd.DataFrame([record.__dict__ for record in records]).astype(
        {"request_id": "str", "ts": "str", "userid": "str", "model_version": "str"}
    )


def feedback_frame_of(records: list[FeedbackRecord]) -> pd.DataFrame:
    columns = ["feedback_id", "ts", "userid", "request_id", "book_id", "title", "position", "value"]
    return pd.DataFrame([record.__dict__ for record in records], columns=columns).astype(
        {"request_id": "str", "book_id": "int64", "value": "int64"}
    )


def catalogue(n_books: int = 4) -> pd.DataFrame:
    """Books 1..n with titles, genres, likes and popularity percentiles (book n most liked)."""
    ids = list(range(1, n_books + 1))
    return pd.DataFrame(
        {
            "book_id": ids,
            "title": [f"Title {i}" for i in ids],
            "genres": [["fantasy", "classics"] if i % 2 else ["crime"] for i in ids],
            "popularity": ids,
            "popularity_pct": [100.0 * (i - 0.5) / n_books for i in ids],
        }
    )
