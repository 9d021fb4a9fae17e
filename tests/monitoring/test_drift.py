import math

import numpy as np
import pandas as pd
import pytest

from monitoring import drift
from monitoring.windows import parse_times
from tests.monitoring.helpers import catalogue

# Books 1-4: popularity_pct 12.5, 37.5, 62.5, 87.5; likes (weights) 1, 1, 1, 7.
SKEWED = catalogue(4).assign(popularity=[1, 1, 1, 7])


def test_psi_by_hand():
    # shares e = (0.5, 0.5), a = (0.25, 0.75): (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5)
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert drift.psi(np.array([2, 2]), np.array([1, 3])) == pytest.approx(expected)
    assert drift.psi(np.array([1, 1]), np.array([5, 5])) == 0.0


def test_psi_floors_empty_bins_and_refuses_mismatched_bins():
    value = drift.psi(np.array([1, 0]), np.array([0, 1]))
    assert value == pytest.approx(2 * (1 - 1e-4) * math.log(1 / 1e-4))
    with pytest.raises(ValueError, match="differ in bins"):
        drift.psi(np.array([1, 1]), np.array([1, 1, 1]))


def test_psi_empty_is_nan():
    assert math.isnan(drift.psi(np.array([0, 0]), np.array([1, 1])))


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0.0, "stable"),
        (0.099, "stable"),
        (0.1, "moderate"),
        (0.25, "moderate"),
        (0.26, "drift"),
        (float("nan"), "no data"),
    ],
)
def test_psi_level(value, level):
    assert drift.psi_level(value) == level


def test_weighted_quantiles():
    values, weights = np.array([12.5, 37.5, 62.5, 87.5]), np.array([1, 1, 1, 7])
    # Cumulative shares 0.1, 0.2, 0.3, 1.0.
    got = drift.weighted_quantiles(values, weights, np.array([0.05, 0.1, 0.25, 0.5, 1.0]))
    assert got.tolist() == [12.5, 12.5, 62.5, 87.5, 87.5]
    assert np.isnan(drift.weighted_quantiles(values, np.zeros(4), np.array([0.5]))).all()


def test_ks_against_weighted_same_distribution_is_not_drift():
    rng = np.random.default_rng(0)
    reference = np.linspace(0, 100, 101)
    statistic, pvalue = drift.ks_against_weighted(rng.uniform(0, 100, 2000), reference, np.ones(101))
    assert statistic < 0.05
    assert pvalue > drift.KS_ALPHA


def test_ks_against_weighted_shifted_distribution_is_drift():
    reference = np.linspace(0, 100, 101)
    _, pvalue = drift.ks_against_weighted(np.full(500, 95.0), reference, np.ones(101))
    assert pvalue < drift.KS_ALPHA


def test_ks_against_weighted_empty():
    assert all(
        math.isnan(v) for v in drift.ks_against_weighted(np.array([]), np.array([1.0]), np.array([1.0]))
    )


def test_popularity_drift_by_hand():
    result = drift.popularity_drift(np.array([1, 1, 2, 4]), SKEWED, n_bins=4)
    # Weighted quartile edges collapse to 62.5 and 87.5: bins < 62.5, 62.5-87.5, >= 87.5.
    assert result.bins["bin"].tolist() == ["< 62.5", "62.5-87.5", "≥ 87.5"]
    assert result.bins["training"].tolist() == pytest.approx([0.2, 0.1, 0.7])
    assert result.bins["requested"].tolist() == pytest.approx([0.75, 0.0, 0.25])
    expected = drift.psi(np.array([0.2, 0.1, 0.7]), np.array([0.75, 0.0, 0.25]))
    assert result.psi == pytest.approx(expected)
    assert result.level == "drift"
    assert result.drifting


def test_popularity_drift_stable_when_requests_follow_training():
    requested = np.repeat([1, 2, 3, 4], [10, 10, 10, 70])
    result = drift.popularity_drift(requested, SKEWED, n_bins=4)
    assert result.psi == pytest.approx(0.0)
    assert result.level == "stable"
    assert result.ks_pvalue > drift.KS_ALPHA
    assert not result.drifting


def test_popularity_drift_without_requests():
    result = drift.popularity_drift(np.array([], dtype=np.int64), SKEWED)
    assert result.level == "no data"
    assert math.isnan(result.ks_pvalue)
    assert not result.drifting


def test_genre_weights():
    # Odd books are fantasy + classics, even ones crime.
    weights = drift.genre_weights(pd.Series({1: 2.0, 2: 1.0, 9: 5.0}), catalogue(4))
    assert weights.to_dict() == {"classics": 2.0, "fantasy": 2.0, "crime": 1.0}


def test_genre_drift_by_hand():
    # Likes = book id, so training weights are fantasy = classics = 1 + 3 = 4 and crime = 2 + 4 = 6.
    result = drift.genre_drift(np.array([1, 1, 2]), catalogue(4), top_n=2)
    assert result.bins["bin"].tolist() == ["crime", "classics", drift.OTHER_GENRES]
    # Training: crime 6, classics 4, other (fantasy) 4 of 14; requested: crime 1, classics 2, fantasy 2 of 5.
    assert result.bins["training"].tolist() == pytest.approx([6 / 14, 4 / 14, 4 / 14])
    assert result.bins["requested"].tolist() == pytest.approx([1 / 5, 2 / 5, 2 / 5])
    assert result.psi == pytest.approx(drift.psi(np.array([6, 4, 4]), np.array([1, 2, 2])))
    assert math.isnan(result.ks_pvalue)


def test_genre_drift_without_requests():
    assert drift.genre_drift(np.array([], dtype=np.int64), catalogue(4)).level == "no data"


def test_unknown_share_per_bucket():
    times = parse_times(
        pd.Series(
            ["2026-11-28T17:13:59.123Z", "2026-11-28T17:20:00.000Z", "2026-11-28T18:13:59.000Z"], dtype="str"
        )
    )
    table = drift.unknown_share_per_bucket(times, np.array([1, 0, 0]), np.array([1, 2, 0]), "1h")
    assert table["requests"].tolist() == [2, 1]
    assert table["unknown_share"].iloc[0] == pytest.approx(1 / 4)
    assert math.isnan(table["unknown_share"].iloc[1])  # nothing typed


def test_unknown_share_per_bucket_empty():
    times = parse_times(pd.Series([], dtype="str"))
    assert drift.unknown_share_per_bucket(times, np.array([]), np.array([]), "1h").empty
