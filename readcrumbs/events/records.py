"""Event records: one per prediction served and one per like or dislike.

This module is the one definition of the records' fields. Each field of :class:`PredictionRecord`
and :class:`FeedbackRecord` carries its description (``metadata["doc"]``) and, through its type,
its :class:`Kind`; :func:`record_fields` reads both. Every store and HTTP shape derives from
them: :mod:`.codec` (checks, frame dtypes), :mod:`.sqlite` (columns, added to an older file on
open), :mod:`.dynamodb` (item encoding), ``backend.schemas.RandomPredictionPublic``. A new field
with a default is all it takes to add one; older stores and spools read it as the default.

Timestamps are ISO-8601 strings in UTC with a ``Z`` suffix and millisecond precision, so they
sort as text in every store.

``arm`` says how a request was routed (champion and challenger, issue 12):

- ``"production"``: the production alias's version answered alone;
- ``"challenger"``: the reader's hashed userid fell in ``READCRUMBS_CHALLENGER_SHARE``, and the
  challenger alias's version answered alone;
- ``"shadow"``: shadow mode scored with both; production's list was shown (``model_version``,
  ``prediction``...) and the challenger's is kept in ``shadow_version``,
  ``shadow_prediction_ids`` and ``shadow_scores`` (empty/None on other arms).
"""

from __future__ import annotations

import enum
import os
import threading
import time
import typing
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from types import NoneType, UnionType
from typing import Any, Literal

Arm = Literal["production", "challenger", "shadow"]
ARMS: tuple[str, ...] = typing.get_args(Arm)


def utc_now_iso() -> str:
    """The current time as ``2026-11-28T17:13:59.123Z``."""
    return iso_from_ns(time.time_ns())


# The last second formatted, (whole seconds since the epoch, its text): every request logs a
# timestamp, and a busy second's hundreds of them share everything but the milliseconds.
_last_second: tuple[int, str] = (-1, "")


def iso_from_ns(ns: int) -> str:
    """Nanoseconds since the epoch (≥ 0) as the records' text, milliseconds truncated as in to_iso."""
    global _last_second
    second, within = divmod(ns, 1_000_000_000)
    cached = _last_second  # one read: another thread may replace it meanwhile
    if cached[0] != second:
        cached = _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{within // 1_000_000:03d}Z"


def to_iso(moment: datetime) -> str:
    """A timezone-aware datetime as the records' ISO-8601 UTC text."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _RandomIds:
    """128-bit random ids from ``os.urandom``, read 4 KiB at a time: one system call per 256 ids
    instead of one per id (a request logs one). Thread-safe; a forked child starts a pool of its
    own, so parent and child never hand out the same bytes."""

    ID_BYTES = 16
    POOL_BYTES = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0

    def next(self) -> str:
        with self._lock:
            if self._at + self.ID_BYTES > len(self._pool):
                self._pool, self._at = os.urandom(self.POOL_BYTES), 0
            pool, at = self._pool, self._at
            self._at = at + self.ID_BYTES
        return pool[at : at + self.ID_BYTES].hex()

    def forget(self) -> None:
        """In a forked child: drop the parent's pool (and a lock another thread may have held)."""
        self._lock = threading.Lock()
        self._pool, self._at = b"", 0


_ids = _RandomIds()
os.register_at_fork(after_in_child=_ids.forget)


def new_id() -> str:
    """A fresh random identifier: 32 hex characters, 128 bits from ``os.urandom``."""
    return _ids.next()


def _doc(text: str, kind: str | None = None) -> dict[str, str | None]:
    """A field's metadata: its description and, where its type does not say it, its :class:`Kind`."""
    return {"doc": text, "kind": kind}


@dataclass(frozen=True)
class PredictionRecord:
    """One answered ``/predict``."""

    request_id: str = field(metadata=_doc("Id of the answer (UUID4 hex); feedback refers to it.", kind="id"))
    ts: str = field(
        metadata=_doc("When it was answered, ISO-8601 UTC (2026-11-28T17:13:59.123Z).", kind="ts")
    )
    userid: str = field(metadata=_doc("Who asked (the reader's opaque id)."))
    items: list[str] = field(metadata=_doc("The favourites as the reader typed them."))
    item_ids: list[int] = field(metadata=_doc("The book_ids the favourites resolved to."))
    prediction: list[str] = field(metadata=_doc("Titles shown, best first (k or fewer)."))
    prediction_ids: list[int] = field(metadata=_doc("Book_ids shown, best first."))
    scores: list[float] = field(metadata=_doc("The model's scores of the books shown."))
    latency_ms: float = field(metadata=_doc("Server-side time to answer, in milliseconds."))
    model_version: str = field(metadata=_doc("Registry version of the model whose list was shown."))
    unknown: list[str] = field(default_factory=list, metadata=_doc("Favourites that matched no book."))
    k: int = field(default=10, metadata=_doc("How many books were asked for."))
    arm: Arm = field(
        default="production",
        metadata=_doc(
            "How the request was routed: production, challenger (its share of readers) or shadow "
            "(production shown, challenger's list in the shadow fields)."
        ),
    )
    shadow_version: str | None = field(
        default=None,
        metadata=_doc("Shadow mode: the challenger version that also scored the request; otherwise null."),
    )
    shadow_prediction_ids: list[int] = field(
        default_factory=list,
        metadata=_doc("Shadow mode: the book_ids the challenger would have shown, best first."),
    )
    shadow_scores: list[float] = field(
        default_factory=list, metadata=_doc("Shadow mode: the challenger's scores of those books.")
    )


@dataclass(frozen=True)
class FeedbackRecord:
    """One like (``value`` = +1) or dislike (-1) of a recommended book."""

    feedback_id: str = field(metadata=_doc("Id of the vote (UUID4 hex).", kind="id"))
    ts: str = field(metadata=_doc("When it was received, ISO-8601 UTC.", kind="ts"))
    userid: str = field(metadata=_doc("Who voted."))
    request_id: str | None = field(
        metadata=_doc("The prediction that showed the book, when known.", kind="id")
    )
    book_id: int = field(metadata=_doc("The book voted on."))
    title: str = field(metadata=_doc("Its title."))
    position: int | None = field(metadata=_doc("Where it was shown in the list (0 = first), when known."))
    value: int = field(metadata=_doc("+1 like, -1 dislike."))


class Kind(enum.Enum):
    """What a field holds; each store maps a kind to its own representation."""

    ID = "id"  # non-empty text
    TS = "ts"  # the records' fixed-width ISO-8601 UTC text
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    TEXTS = "texts"  # list[str]
    INTS = "ints"  # list[int]
    FLOATS = "floats"  # list[float]

    @property
    def is_list(self) -> bool:
        return self in (Kind.TEXTS, Kind.INTS, Kind.FLOATS)


_KINDS: dict[Any, Kind] = {
    str: Kind.TEXT,
    int: Kind.INT,
    float: Kind.FLOAT,
    list[str]: Kind.TEXTS,
    list[int]: Kind.INTS,
    list[float]: Kind.FLOATS,
}


@dataclass(frozen=True)
class RecordField:
    """One field of a record, as stores and schemas need it.

    ``choices``: the values allowed (a ``Literal`` type), else None. ``default``: the value an
    older store or spool line without the field reads as; :data:`dataclasses.MISSING` when the
    field is required. ``python_type``: the annotation, for HTTP schemas.
    """

    name: str
    kind: Kind
    optional: bool
    choices: tuple[Any, ...] | None
    default: Any
    doc: str
    python_type: Any

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def fresh_default(self) -> Any:
        """The default as a new object (list defaults are never shared)."""
        return list(self.default) if isinstance(self.default, list) else self.default


@cache
def record_fields(record_type: type) -> tuple[RecordField, ...]:
    """The fields of :class:`PredictionRecord` or :class:`FeedbackRecord`, in order."""
    hints = typing.get_type_hints(record_type)
    result = []
    for spec in fields(record_type):
        annotation = hints[spec.name]
        base, optional = annotation, False
        if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
            members = [m for m in typing.get_args(annotation) if m is not NoneType]
            base, optional = members[0], True
        choices = None
        if typing.get_origin(base) is Literal:
            choices = typing.get_args(base)
            base = type(choices[0])
        kind = Kind(spec.metadata["kind"]) if spec.metadata.get("kind") else _KINDS[base]
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        result.append(
            RecordField(spec.name, kind, optional, choices, default, spec.metadata["doc"], annotation)
        )
    return tuple(result)


def prediction_fields() -> tuple[RecordField, ...]:
    """:func:`record_fields` of :class:`PredictionRecord`."""
    return record_fields(PredictionRecord)


def feedback_fields() -> tuple[RecordField, ...]:
    """:func:`record_fields` of :class:`FeedbackRecord`."""
    return record_fields(FeedbackRecord)
