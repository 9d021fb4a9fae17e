import math

import numpy as np
import pandas as pd
import pytest

from monitoring import traffic
from monitoring.windows import parse_times


def times(*stamps: str) -> pd.Series:
    return parse_times(pd.Series(list(stamps), dtype="str"))


THREE = times("2026-11-28T17:13:59.123Z", "2026-11-28T17:20:00.000Z", "2026-11-28T18:13:59.000Z")


def test_requests_per_bucket():
    per_hour = traffic.requests_per_bucket(THREE, "1h")
    assert per_hour["requests"].tolist() == [2, 1]
    assert per_hour["bucket"].tolist() == [
        pd.Timestamp("2026-11-28 17:00", tz="UTC"),
        pd.Timestamp("2026-11-28 18:00", tz="UTC"),
    ]


def test_requests_per_bucket_by_version():
    per_hour = traffic.requests_per_bucket(THREE, "1h", pd.Series(["1", "2", "1"], dtype="str"))
    assert list(zip(per_hour["model_version"], per_hour["requests"], strict=True)) == [
        ("1", 1),
        ("2", 1),
        ("1", 1),
    ]


def test_requests_per_bucket_empty_keeps_columns():
    empty = traffic.requests_per_bucket(THREE.iloc[:0], "1h", pd.Series([], dtype="str"))
    assert list(empty.columns) == ["bucket", "model_version", "requests"]
    assert empty.empty


def test_unique_users():
    assert traffic.unique_users(pd.Series(["a", "b", "a"])) == 2
    assert traffic.unique_users(pd.Series([], dtype="str")) == 0


def test_latency_summary_interpolates():
    summary = traffic.latency_summary(np.arange(1, 102, dtype=float))  # 1..101
    assert (summary.requests, summary.p50, summary.p95, summary.p99) == (101, 51.0, 96.0, 100.0)


def test_latency_summary_empty_is_nan():
    summary = traffic.latency_summary([])
    assert summary.requests == 0
    assert math.isnan(summary.p50) and math.isnan(summary.p99)


def test_latency_per_bucket():
    per_hour = traffic.latency_per_bucket(THREE, pd.Series([10.0, 20.0, 30.0]), "1h")
    first, second = per_hour.to_dict("records")
    assert (first["requests"], first["p50"], first["p95"], first["p99"]) == (
        2,
        15.0,
        19.5,
        pytest.approx(19.9),
    )
    assert (second["requests"], second["p50"], second["p99"]) == (1, 30.0, 30.0)


def test_latency_per_bucket_empty():
    assert traffic.latency_per_bucket(THREE.iloc[:0], pd.Series([], dtype=float), "1h").empty


def test_slo_breach_share_counts_strictly_slower():
    assert traffic.slo_breach_share([10.0, 50.0, 51.0, 100.0], 50.0) == 0.5
    assert math.isnan(traffic.slo_breach_share([], 50.0))


def test_latency_histogram_bins_up_to_the_999th_percentile():
    latency = np.concatenate([np.full(999, 10.0), [10_000.0]])
    histogram = traffic.latency_histogram(latency, n_bins=4)
    # Top edge is the 99.9th percentile (10 + 0.001 * 9990 = 19.99); the outlier sits in the last bin.
    assert histogram["right"].iloc[-1] == pytest.approx(19.99)
    assert histogram["requests"].tolist() == [0, 0, 999, 1]
    assert histogram["requests"].sum() == 1000


def test_latency_histogram_empty_and_single():
    assert traffic.latency_histogram([]).empty
    single = traffic.latency_histogram([7.0], n_bins=2)
    assert single["requests"].tolist() == [0, 1]


def test_degraded_requests():
    unknown = pd.Series([[], ["Nope"], [], []])
    recommended = pd.Series([[1], [2], [], [3]])
    assert traffic.degraded_requests(unknown, recommended).tolist() == [False, True, True, False]
    assert traffic.share(traffic.degraded_requests(unknown, recommended)) == 0.5
    assert math.isnan(traffic.share(np.array([], dtype=bool)))
