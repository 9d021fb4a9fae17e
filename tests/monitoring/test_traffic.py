import math

import numpy as np
import pandas as pd
import pytest

from monitoring import traffic
from readcrumbs.events import summary

EDGES = (1.0, 2.0, 4.0)  # bins: [0, 1), [1, 2), [2, 4), [4, inf)
T0 = pd.Timestamp("2026-11-28 00:00", tz="UTC")
S0 = int(T0.timestamp())


def histogram_of(latency_ms: np.ndarray, edges: tuple[float, ...] = traffic.LATENCY_EDGES_MS) -> np.ndarray:
    """What a store counts: requests per bin, bin = number of edges at or below the latency."""
    return np.bincount(np.searchsorted(edges, latency_ms, side="right"), minlength=len(edges) + 1)


def two_buckets() -> summary.TrafficSummary:
    """Bucket T0: v1 has 2 requests in [1, 2), v2 has 2 in [2, 4); bucket T0+1h: v1 has 1 in [1, 2)."""
    return summary.from_cells(
        3600,
        EDGES,
        [(S0, "1", 1, 2, 3.0), (S0, "2", 2, 2, 6.0), (S0 + 3600, "1", 1, 1, 1.5)],
        [(S0, 2), (S0 + 3600, 1)],
        2,
    )


def test_latency_edges_are_log_spaced_from_50_microseconds_to_a_minute():
    edges = np.array(traffic.LATENCY_EDGES_MS)
    assert edges[0] == 0.05 and edges[-1] == pytest.approx(60_000, rel=traffic.LATENCY_BIN_WIDTH)
    np.testing.assert_allclose(edges[1:] / edges[:-1], 1 + traffic.LATENCY_BIN_WIDTH)
    assert len(edges) <= summary.MAX_LATENCY_EDGES


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.5, 2.0),  # rank 2: the top of [1, 2), which holds requests 1 and 2
        (0.25, 1.5),  # rank 1: halfway through [1, 2)
        (0.75, 3.0),  # rank 3: halfway through [2, 4)
        (0.0, 1.0),  # the bottom of the first non-empty bin
        (1.0, 4.0),  # the top of the last non-empty bin
    ],
)
def test_percentile_from_histogram_interpolates_inside_the_bin(q: float, expected: float):
    assert traffic.percentile_from_histogram([0, 2, 2, 0], EDGES, q) == pytest.approx(expected)


def test_percentile_from_histogram_at_both_ends():
    assert traffic.percentile_from_histogram([4, 0, 0, 0], EDGES, 0.5) == 0.5  # the first bin starts at 0
    assert traffic.percentile_from_histogram([0, 0, 0, 3], EDGES, 0.5) == 4.0  # no top: its bottom
    assert math.isnan(traffic.percentile_from_histogram([0, 0, 0, 0], EDGES, 0.5))


def test_percentile_from_histogram_refuses_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        traffic.percentile_from_histogram([0, 1, 0, 0], EDGES, 1.5)
    with pytest.raises(ValueError, match="one bin more"):
        traffic.percentile_from_histogram([0, 1, 0], EDGES, 0.5)


def test_estimates_share_a_bin_with_the_request_at_that_rank():
    rng = np.random.default_rng(4)
    latency = np.sort(rng.lognormal(np.log(8.0), 0.8, 5_000))
    counts = histogram_of(latency)
    for q in traffic.PERCENTILES:
        at_rank = latency[math.ceil(q * latency.size) - 1]
        estimate = traffic.percentile_from_histogram(counts, traffic.LATENCY_EDGES_MS, q)
        assert estimate == pytest.approx(at_rank, rel=traffic.LATENCY_BIN_WIDTH)


def test_latency_summary():
    summary_ = traffic.latency_summary([0, 2, 2, 0], EDGES)
    assert (summary_.requests, summary_.p50) == (4, 2.0)
    assert summary_.p95 == pytest.approx(3.8)  # rank 3.8 of 4: 90% into [2, 4)
    assert summary_.p99 == pytest.approx(3.96)


def test_latency_summary_of_many_requests_is_close_to_the_exact_percentiles():
    latency = np.arange(1, 102, dtype=float)  # 1..101: exact p50, p95, p99 are 51, 96, 100
    estimate = traffic.latency_summary(histogram_of(latency), traffic.LATENCY_EDGES_MS)
    assert estimate.requests == 101
    for got, exact in [(estimate.p50, 51.0), (estimate.p95, 96.0), (estimate.p99, 100.0)]:
        assert got == pytest.approx(exact, rel=traffic.LATENCY_BIN_WIDTH)


def test_latency_summary_empty_is_nan():
    empty = traffic.latency_summary([0, 0, 0, 0], EDGES)
    assert empty.requests == 0
    assert math.isnan(empty.p50) and math.isnan(empty.p99)


@pytest.mark.parametrize(
    ("counts", "slo_ms", "expected"),
    [
        ([0, 2, 2, 0], 3.0, 0.25),  # half of [2, 4) is above 3 ms: 1 of 4 requests
        ([0, 2, 2, 0], 2.0, 0.5),  # an SLO on an edge: the bins above it, whole
        ([0, 2, 2, 0], 0.5, 1.0),
        ([1, 0, 0, 1], 10.0, 0.5),  # the last bin has no top: it counts whole
    ],
)
def test_slo_breach_share(counts: list[int], slo_ms: float, expected: float):
    assert traffic.slo_breach_share(counts, EDGES, slo_ms) == pytest.approx(expected)


def test_slo_breach_share_is_close_to_the_exact_share():
    latency = np.random.default_rng(5).lognormal(np.log(20.0), 0.7, 10_000)
    counts = histogram_of(latency)
    slo = 50.0
    bins = np.searchsorted(traffic.LATENCY_EDGES_MS, latency, side="right")
    in_slo_bin = np.mean(bins == np.searchsorted(traffic.LATENCY_EDGES_MS, slo, side="right"))
    estimate = traffic.slo_breach_share(counts, traffic.LATENCY_EDGES_MS, slo)
    # Only the requests of the bin that holds the SLO are apportioned; at most they are all wrong.
    assert abs(estimate - np.mean(latency > slo)) <= in_slo_bin
    assert math.isnan(traffic.slo_breach_share([0, 0, 0, 0], EDGES, slo))


def test_latency_histogram_puts_the_slowest_requests_in_the_last_bar():
    # 999 requests in [1, 2) and one outlier above 4 ms: the 99.9th percentile is the top of [1, 2).
    histogram = traffic.latency_histogram([0, 999, 0, 1], EDGES, n_bins=2)
    assert histogram["left"].tolist() == [0.0, 1.0] and histogram["right"].tolist() == [1.0, 2.0]
    assert histogram["requests"].tolist() == [0.0, 1000.0]


def test_latency_histogram_spreads_a_bin_evenly_over_the_bars():
    # 4 requests in [2, 4); top = p99.9 = 2 + 0.999 * 2 = 3.998, so bars are 0.9995 ms wide. The
    # third bar overlaps the bin on [2, 2.9985): 0.9985 / 2 of its requests; the last bar the rest.
    histogram = traffic.latency_histogram([0, 0, 4, 0], EDGES, n_bins=4)
    assert histogram["right"].iloc[-1] == pytest.approx(3.998)
    np.testing.assert_allclose(histogram["requests"], [0.0, 0.0, 4 * 0.9985 / 2, 4 - 4 * 0.9985 / 2])
    assert histogram["requests"].sum() == pytest.approx(4)


def test_latency_histogram_empty():
    empty = traffic.latency_histogram([0, 0, 0, 0], EDGES)
    assert empty.empty and list(empty.columns) == ["left", "right", "requests"]


def test_requests_per_bucket_by_version():
    per_bucket = traffic.requests_per_bucket(two_buckets())
    assert list(per_bucket.itertuples(index=False, name=None)) == [
        (T0, "1", 2),
        (T0, "2", 2),
        (T0 + pd.Timedelta(hours=1), "1", 1),
    ]
    assert str(per_bucket["bucket"].dtype) == "datetime64[ms, UTC]"


def test_latency_per_bucket():
    first, second = traffic.latency_per_bucket(two_buckets()).to_dict("records")
    # T0: [0, 2, 2, 0] over both versions; T0+1h: [0, 1, 0, 0].
    assert (first["bucket"], first["requests"], first["p50"]) == (T0, 4, 2.0)
    assert (first["p95"], first["p99"]) == (pytest.approx(3.8), pytest.approx(3.96))
    assert second["requests"] == 1
    assert (second["p50"], second["p95"], second["p99"]) == (1.5, pytest.approx(1.95), pytest.approx(1.99))


def test_users_per_bucket():
    users = traffic.users_per_bucket(two_buckets())
    assert list(users.itertuples(index=False, name=None)) == [(T0, 2), (T0 + pd.Timedelta(hours=1), 1)]


def test_latency_by_version():
    by_version = traffic.latency_by_version(two_buckets())
    assert by_version["model_version"].tolist() == ["1", "2"]
    assert by_version["requests"].tolist() == [3, 2]
    # v1: 3 requests in [1, 2), rank 2.85; v2: 2 in [2, 4), rank 1.9.
    np.testing.assert_allclose(by_version["p95_ms"], [1 + 2.85 / 3, 2 + 2 * 1.9 / 2])


def test_total_histogram():
    assert traffic.total_histogram(two_buckets()).tolist() == [0, 3, 2, 0]


def test_an_empty_summary_gives_empty_tables_with_their_columns():
    empty = summary.empty(3600, EDGES)
    assert traffic.total_histogram(empty).tolist() == [0, 0, 0, 0]
    per_bucket = traffic.requests_per_bucket(empty)
    assert per_bucket.empty and list(per_bucket.columns) == ["bucket", "model_version", "requests"]
    latency = traffic.latency_per_bucket(empty)
    assert latency.empty and list(latency.columns) == ["bucket", "requests", "p50", "p95", "p99"]
    assert str(latency["bucket"].dtype) == "datetime64[ms, UTC]"
    assert traffic.users_per_bucket(empty).empty and traffic.latency_by_version(empty).empty


def test_degraded_requests():
    unknown = pd.Series([[], ["Nope"], [], []])
    recommended = pd.Series([[1], [2], [], [3]])
    assert traffic.degraded_requests(unknown, recommended).tolist() == [False, True, True, False]
    assert traffic.share(traffic.degraded_requests(unknown, recommended)) == 0.5
    assert math.isnan(traffic.share(np.array([], dtype=bool)))
