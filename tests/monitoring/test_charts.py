import numpy as np
import pandas as pd

from monitoring import charts
from monitoring.drift import genre_drift
from monitoring.traffic import latency_histogram
from tests.monitoring.helpers import catalogue


def test_drift_labels_from_data_are_escaped():
    genres = pd.Series([["<a href='javascript:x'>evil</a>"], ["crime"]], dtype=object)
    books = catalogue(2).assign(genres=genres)
    figure = charts.drift_bins(genre_drift(np.array([1, 2]), books), "genres")
    labels = list(figure.data[0].x)
    assert "&lt;a href=&#x27;javascript:x&#x27;&gt;evil&lt;/a&gt;" in labels
    assert all("<a" not in label for label in labels)


def test_version_names_are_escaped():
    per_bucket = pd.DataFrame(
        {"bucket": [pd.Timestamp("2026-01-01", tz="UTC")], "model_version": ["<i>x</i>"], "requests": [1]}
    )
    figure = charts.requests_over_time(per_bucket, "1h")
    assert figure.data[0].name == "version &lt;i&gt;x&lt;/i&gt;"


def test_histogram_bars_keep_the_slo_line():
    # 999 requests in [1, 2) ms, one from 4 ms on: bars [0, 1) and [1, 2), the outlier in the last.
    figure = charts.latency_histogram(
        latency_histogram([0, 999, 0, 1], (1.0, 2.0, 4.0), n_bins=2), slo_ms=2.5
    )
    assert list(figure.data[0].y) == [0, 1000]
    assert figure.layout.shapes[0].x0 == 2.5


def test_users_over_time_plots_one_line():
    per_bucket = pd.DataFrame({"bucket": [pd.Timestamp("2026-01-01", tz="UTC")], "users": [3]})
    figure = charts.users_over_time(per_bucket, "1h")
    assert list(figure.data[0].y) == [3] and figure.layout.title.text == "Unique users per 1h"


def test_a_single_bucket_spans_one_bucket_not_microseconds():
    start = pd.Timestamp("2026-01-01 12:00", tz="UTC")
    requests = pd.DataFrame({"bucket": [start], "model_version": ["1"], "requests": [2]})
    latency = pd.DataFrame({"bucket": [start], "p50": [3.0], "p95": [5.0], "p99": [6.0]})
    users = pd.DataFrame({"bucket": [start], "users": [2]})
    unknown = pd.DataFrame({"bucket": [start], "unknown_share": [0.5]})
    for figure in (
        charts.requests_over_time(requests, "1min"),
        charts.latency_over_time(latency, "1min", slo_ms=50.0),
        charts.users_over_time(users, "1min"),
        charts.unknown_share(unknown, "1min"),
    ):
        low, high = (pd.Timestamp(edge) for edge in figure.layout.xaxis.range)
        assert (low, high) == (start - pd.Timedelta(minutes=1), start + pd.Timedelta(minutes=1))
    assert charts.requests_over_time(requests, "1min").data[0].width == 0.8 * 60_000  # ms


def test_the_time_axis_covers_every_bucket():
    starts = [pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=h) for h in (0, 5)]
    figure = charts.users_over_time(pd.DataFrame({"bucket": starts, "users": [1, 4]}), "1h")
    low, high = (pd.Timestamp(edge) for edge in figure.layout.xaxis.range)
    assert low == starts[0] - pd.Timedelta(hours=1) and high == starts[1] + pd.Timedelta(hours=1)


def test_no_bucket_leaves_the_axis_to_plotly():
    empty = pd.DataFrame({"bucket": pd.Series([], dtype="datetime64[ms, UTC]"), "users": []})
    assert charts.users_over_time(empty, "1h").layout.xaxis.range is None
