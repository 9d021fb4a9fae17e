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
import typing
import uuid
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from types import NoneType, UnionType
from typing import Any, Literal

Arm = Literal["production", "challenger", "shadow"]
ARMS: tuple[str, ...] = typing.get_args(Arm)


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
