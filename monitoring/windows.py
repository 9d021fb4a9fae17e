"""Time windows and buckets: which records the dashboard reads and how it groups them in time.

Bounds are the event records' ISO-8601 UTC text (``2026-11-28T17:13:59.123Z``); ``start`` is
inclusive, ``end`` exclusive and ``None`` means open, as in the event store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from readcrumbs.events.records import to_iso

# The presets of the window control, newest data first in every one of them.
PRESETS: dict[str, timedelta | None] = {
    "Last hour": timedelta(hours=1),
    "Last day": timedelta(days=1),
    "Last week": timedelta(weeks=1),
    "All": None,
}
CUSTOM = "Custom range"

# Bucket widths the time charts choose from, narrowest first: (pandas frequency, seconds).
BUCKETS: tuple[tuple[str, int], ...] = (
    ("1min", 60),
    ("5min", 300),
    ("15min", 900),
    ("1h", 3600),
    ("6h", 6 * 3600),
    ("1D", 86_400),
    ("7D", 7 * 86_400),
)


@dataclass(frozen=True)
class Window:
    """A time window as the event store reads it."""

    start: str | None
    end: str | None


def preset_window(preset: str, now: datetime, granularity_s: int) -> Window:
    """The window of a preset ending now (open end), its start floored to ``granularity_s``.

    Flooring keeps the start, and so the cache key, the same for ``granularity_s`` seconds, so
    reruns within that time reuse the loaded data instead of reading the store again.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown window preset {preset!r}; choose from {list(PRESETS)}")
    span = PRESETS[preset]
    if span is None:
        return Window(None, None)
    start = now - span
    floored = int(start.timestamp()) // granularity_s * granularity_s
    return Window(to_iso(datetime.fromtimestamp(floored, UTC)), None)


def custom_window(first_day: date, last_day: date) -> Window:
    """Whole UTC days from ``first_day`` to ``last_day``, both included."""
    if last_day < first_day:
        raise ValueError(f"the range ends ({last_day}) before it starts ({first_day})")
    start = datetime.combine(first_day, time(0), UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), UTC)
    return Window(to_iso(start), to_iso(end))


def parse_times(ts: pd.Series) -> pd.Series:
    """The records' ``ts`` text as ``datetime64[ms, UTC]``, same index.

    Arrow's ISO-8601 cast is C++ and about 20x faster than ``pd.to_datetime`` on a million rows.
    """
    if len(ts) == 0:
        return pd.Series(pd.DatetimeIndex([], dtype="datetime64[ms, UTC]"), index=ts.index)
    times = pc.cast(pa.array(ts), pa.timestamp("ms", tz="UTC"))
    # Through numpy (zero-copy): pandas' ArrowDtype-to-datetime64 astype is ~100x slower.
    return pd.Series(times.to_numpy(zero_copy_only=False), index=ts.index).dt.tz_localize(UTC)


def bucket_for_span(span: timedelta, max_buckets: int = 120) -> str:
    """The narrowest bucket that splits ``span`` into at most ``max_buckets`` buckets."""
    seconds = max(span.total_seconds(), 0.0)
    for freq, width in BUCKETS:
        if seconds / width <= max_buckets:
            return freq
    return BUCKETS[-1][0]
