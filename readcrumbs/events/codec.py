"""What every event store shares: field lists, record checks, and DataFrame assembly.

Each backend turns records into its own rows or items, but all of them refuse the same bad
records, read the same window bounds and hand back frames with the same columns and dtypes,
so a dashboard works unchanged on ``memory://``, ``sqlite:///`` and ``dynamodb://``.

A malformed record (a timestamp not in :func:`~readcrumbs.events.records.to_iso` form, an
empty id, a non-finite number, a title that is not text) raises :class:`ValueError`: that is a
bug in the caller, not a store failure, so a writer must not spool and replay it forever.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

from readcrumbs.events.records import (
    FeedbackRecord,
    Kind,
    PredictionRecord,
    RecordField,
    feedback_fields,
    prediction_fields,
)

# pandas only where frames are built: the backend writes events without it (issue 16).
if TYPE_CHECKING:
    import pandas as pd

# Field order of the records, the tables and the default frame columns (see records.py).
PREDICTION_FIELDS: tuple[str, ...] = tuple(f.name for f in prediction_fields())
PREDICTION_LIST_FIELDS: frozenset[str] = frozenset(f.name for f in prediction_fields() if f.kind.is_list)
FEEDBACK_FIELDS: tuple[str, ...] = tuple(f.name for f in feedback_fields())


def _dtype(spec: RecordField) -> str:
    # Text is pandas' "str" (a missing optional text reads as NaN: test with pd.isna); an
    # optional int is the nullable Int64; list fields hold Python lists.
    if spec.kind.is_list:
        return "object"
    if spec.kind is Kind.INT:
        return "Int64" if spec.optional else "int64"
    if spec.kind is Kind.FLOAT:
        return "float64"
    return "str"


PREDICTION_DTYPES: Mapping[str, str] = {f.name: _dtype(f) for f in prediction_fields()}
FEEDBACK_DTYPES: Mapping[str, str] = {f.name: _dtype(f) for f in feedback_fields()}

# One column of a frame: ``(n_rows,)`` values as a list or a numpy array.
Column = Sequence[Any] | npt.NDArray[Any]

_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_ts(ts: str) -> str:
    """``ts`` itself when it is in the records' form (``2026-11-28T17:13:59.123Z``).

    Stores compare timestamps as text, which orders correctly only for this fixed-width form.
    """
    if not isinstance(ts, str) or not _TS.fullmatch(ts):
        raise ValueError(f"timestamp {ts!r} is not ISO-8601 UTC like 2026-11-28T17:13:59.123Z")
    return ts


def check_bound(bound: str | None) -> str | None:
    """A window bound, which must start with a ``YYYY-MM-DD`` date; it is compared as text."""
    if bound is not None and (not isinstance(bound, str) or not _BOUND.match(bound)):
        raise ValueError(f"time bound {bound!r} is not ISO-8601 UTC like 2026-11-28T17:13:59.123Z")
    return bound


def in_window(ts: str, start: str | None, end: str | None) -> bool:
    """Whether ``start <= ts < end`` (a missing bound is open)."""
    return (start is None or ts >= start) and (end is None or ts < end)


def check_columns(columns: Sequence[str] | None) -> tuple[str, ...]:
    """The prediction fields a frame should hold, in the caller's order (default: all)."""
    if columns is None:
        return PREDICTION_FIELDS
    if isinstance(columns, str):
        raise ValueError("columns must be a sequence of field names, not one string")
    chosen = tuple(columns)
    unknown = [name for name in chosen if name not in PREDICTION_DTYPES]
    if unknown:
        raise ValueError(f"unknown prediction columns {unknown}; choose from {list(PREDICTION_FIELDS)}")
    if not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(f"columns must name each field once and at least one, got {list(chosen)}")
    return chosen


def check_newest(newest: int | None) -> int | None:
    """How many of the newest predictions a frame keeps (None: all); at least 1."""
    if newest is not None and (isinstance(newest, bool) or not isinstance(newest, int) or newest < 1):
        raise ValueError(f"newest must be a whole number >= 1 or None, got {newest!r}")
    return newest


def _id(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _utf8(value: str) -> str:
    """``value`` as plain str that encodes to UTF-8: lone surrogates become U+FFFD.

    JSON lets a client send ``"\\ud800"``; rejecting it here would fail a whole batch of
    other readers' records, so free text is repaired rather than refused.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return str(value)  # str subclasses (numpy.str_) become plain str


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value if type(value) is str and value.isascii() else _utf8(value)


def _texts(values: Iterable[object], name: str) -> list[str]:
    texts = list(values)
    try:
        joined = "".join(texts)  # type: ignore[arg-type]  # join type-checks every item in C
    except TypeError:
        raise ValueError(f"{name} must hold strings only, got {texts!r}") from None
    if joined.isascii() and all(type(text) is str for text in texts):
        return texts  # type: ignore[return-value]
    return [_utf8(text) for text in texts]  # type: ignore[arg-type]


def _ints(values: Iterable[Any]) -> list[int]:
    # operator.index accepts numpy integers but refuses floats, so 3.7 never becomes book 3.
    return list(map(operator.index, values))


def _finites(values: Iterable[Any], name: str) -> list[float]:
    numbers = list(map(float, values))
    if not all(map(math.isfinite, numbers)):
        raise ValueError(f"{name} must be finite numbers, got {numbers!r}")
    return numbers


def _finite(value: Any, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _checker(spec: RecordField) -> Callable[[Any], Any]:
    """The function that checks one field's value and returns it with plain Python types."""
    name = spec.name
    by_kind: dict[Kind, Callable[[Any], Any]] = {
        Kind.ID: lambda value: _id(value, name),
        Kind.TS: check_ts,
        Kind.TEXT: lambda value: _text(value, name),
        Kind.INT: operator.index,
        Kind.FLOAT: lambda value: _finite(value, name),
        Kind.TEXTS: lambda values: _texts(values, name),
        Kind.INTS: _ints,
        Kind.FLOATS: lambda values: _finites(values, name),
    }
    check = by_kind[spec.kind]
    if spec.choices is not None:
        plain, choices = check, spec.choices

        def check(value: Any) -> Any:
            if value not in choices:
                raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
            return plain(value)

    if spec.optional:
        required = check
        return lambda value: None if value is None else required(value)
    return check


_PREDICTION_VALUES = operator.attrgetter(*PREDICTION_FIELDS)
_PREDICTION_CHECKS = tuple(_checker(f) for f in prediction_fields())
_FEEDBACK_VALUES = operator.attrgetter(*FEEDBACK_FIELDS)
_FEEDBACK_CHECKS = tuple(_checker(f) for f in feedback_fields())


def normalize_prediction(record: PredictionRecord) -> PredictionRecord:
    """A checked copy of ``record`` with plain Python types (numpy scalars become int/float).

    The copy owns its lists, so a store never shares mutable state with its caller.
    """
    return PredictionRecord(
        *[check(value) for check, value in zip(_PREDICTION_CHECKS, _PREDICTION_VALUES(record), strict=True)]
    )


def normalize_feedback(record: FeedbackRecord) -> FeedbackRecord:
    """A checked copy of ``record`` with plain Python types."""
    if record.value not in (1, -1):
        raise ValueError(f"feedback value must be +1 or -1, got {record.value!r}")
    return FeedbackRecord(
        *[check(value) for check, value in zip(_FEEDBACK_CHECKS, _FEEDBACK_VALUES(record), strict=True)]
    )


def copy_prediction(record: PredictionRecord) -> PredictionRecord:
    """A copy whose lists are new (records are frozen, their lists are not)."""
    values: list[Any] = [
        list(getattr(record, name)) if name in PREDICTION_LIST_FIELDS else getattr(record, name)
        for name in PREDICTION_FIELDS
    ]
    return PredictionRecord(*values)


def frame(columns: Mapping[str, Column], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """A DataFrame from column-wise values, with the store-independent dtypes.

    ``columns`` maps field name to ``(n_rows,)`` values; every column has the same length.
    An empty frame still carries every requested column with its dtype.
    """
    import pandas as pd

    return pd.DataFrame(
        {name: pd.Series(values, dtype=dtypes[name]) for name, values in columns.items()},
        columns=list(columns),
    )


def predictions_frame(records: Sequence[PredictionRecord], columns: Sequence[str]) -> pd.DataFrame:
    """``records`` (oldest first) as a frame of the checked ``columns``; list cells are copies."""
    values = {
        name: [list(getattr(r, name)) for r in records]
        if name in PREDICTION_LIST_FIELDS
        else [getattr(r, name) for r in records]
        for name in columns
    }
    return frame(values, PREDICTION_DTYPES)


def feedback_frame(records: Sequence[FeedbackRecord]) -> pd.DataFrame:
    """``records`` (oldest first) as a frame of every feedback field."""
    return frame({name: [getattr(r, name) for r in records] for name in FEEDBACK_FIELDS}, FEEDBACK_DTYPES)
