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
