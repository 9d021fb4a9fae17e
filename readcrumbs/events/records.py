"""Event records: one per prediction served and one per like or dislike.

Field names match DESIGN.md's SQLite tables. Timestamps are ISO-8601 strings in UTC with a
``Z`` suffix and millisecond precision, so they sort as text in every store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utc_now_iso() -> str:
    """The current time as ``2026-11-28T17:13:59.123Z``."""
    return to_iso(datetime.now(UTC))


def to_iso(moment: datetime) -> str:
    """A timezone-aware datetime as the records' ISO-8601 UTC text."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """A fresh random identifier (UUID4 hex)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class PredictionRecord:
    """One answered ``/predict``.

    ``items`` are the reader's inputs as typed; ``item_ids`` the book_ids they resolved to;
    ``prediction``/``prediction_ids``/``scores`` the recommended titles, book_ids and model
    scores in rank order (all of length ``k`` or less); ``latency_ms`` the server-side time.
    """

    request_id: str
    ts: str
    userid: str
    items: list[str]
    item_ids: list[int]
    prediction: list[str]
    prediction_ids: list[int]
    scores: list[float]
    latency_ms: float
    model_version: str
    unknown: list[str] = field(default_factory=list)
    k: int = 10


@dataclass(frozen=True)
class FeedbackRecord:
    """One like (``value`` = +1) or dislike (-1) of a recommended book."""

    feedback_id: str
    ts: str
    userid: str
    request_id: str | None
    book_id: int
    title: str
    position: int | None
    value: int
