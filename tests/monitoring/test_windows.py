from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from monitoring.windows import (
    Window,
    bucket_for_span,
    custom_window,
    parse_times,
    preset_window,
)


def test_preset_window_floors_start_and_leaves_end_open():
    now = datetime(2026, 11, 28, 12, 0, 47, tzinfo=UTC)
    assert preset_window("Last hour", now, 30) == Window("2026-11-28T11:00:30.000Z", None)
    assert preset_window("Last day", now, 60) == Window("2026-11-27T12:00:00.000Z", None)
    assert preset_window("All", now, 30) == Window(None, None)


def test_preset_window_refuses_unknown_preset():
    with pytest.raises(ValueError, match="unknown window preset"):
        preset_window("Last century", datetime.now(UTC), 30)


def test_custom_window_covers_whole_days():
    assert custom_window(date(2026, 11, 1), date(2026, 11, 2)) == Window(
        "2026-11-01T00:00:00.000Z", "2026-11-03T00:00:00.000Z"
    )
    with pytest.raises(ValueError, match="before it starts"):
        custom_window(date(2026, 11, 2), date(2026, 11, 1))


def test_parse_times_keeps_milliseconds():
    times = parse_times(pd.Series(["2026-11-28T17:13:59.123Z", "2026-01-01T00:00:00.000Z"], dtype="str"))
    assert str(times.dtype) == "datetime64[ms, UTC]"
    assert times.iloc[0] == pd.Timestamp("2026-11-28 17:13:59.123", tz="UTC")


def test_parse_times_empty():
    assert str(parse_times(pd.Series([], dtype="str")).dtype) == "datetime64[ms, UTC]"


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(0), "1min"),
        (timedelta(hours=2), "1min"),
        (timedelta(hours=3), "5min"),
        (timedelta(days=1), "15min"),
        (timedelta(days=7), "6h"),
        (timedelta(days=100), "1D"),
        (timedelta(days=10_000), "7D"),
    ],
)
def test_bucket_for_span_keeps_at_most_120_buckets(span, expected):
    assert bucket_for_span(span) == expected
