import math

import numpy as np
import pytest

from monitoring import catalogue_health
from tests.monitoring.helpers import catalogue

CATALOGUE = catalogue(4)  # popularity_pct: 12.5, 37.5, 62.5, 87.5 for books 1-4


def test_coverage():
    assert catalogue_health.coverage(np.array([1, 1, 2]), 4) == 0.5
    assert catalogue_health.coverage(np.array([], dtype=np.int64), 4) == 0.0
    assert math.isnan(catalogue_health.coverage(np.array([1]), 0))


def test_top_books_counts_shares_titles_and_breaks_ties_by_id():
    top = catalogue_health.top_books(np.array([3, 1, 1, 2, 2, 9]), CATALOGUE, n=3)
    assert top["book_id"].tolist() == [1, 2, 3]
    assert top["title"].tolist() == ["Title 1", "Title 2", "Title 3"]
    assert top["count"].tolist() == [2, 2, 1]
    assert top["share"].tolist() == pytest.approx([2 / 6, 2 / 6, 1 / 6])


def test_top_books_without_catalogue_or_unknown_book_has_empty_title():
    assert catalogue_health.top_books(np.array([9]), CATALOGUE)["title"].tolist() == [""]
    assert catalogue_health.top_books(np.array([9]), None)["title"].tolist() == [""]


def test_top_books_empty():
    top = catalogue_health.top_books(np.array([], dtype=np.int64), CATALOGUE)
    assert top.empty
    assert list(top.columns) == ["book_id", "title", "count", "share"]


def test_popularity_percentiles_drop_unknown_books():
    assert catalogue_health.popularity_percentiles(np.array([4, 9, 1]), CATALOGUE).tolist() == [87.5, 12.5]


def test_popularity_bias():
    bias = catalogue_health.popularity_bias(np.array([3, 4]), np.array([1, 2, 9]), CATALOGUE)
    assert bias.recommended_pct == 75.0
    assert bias.requested_pct == 25.0
    assert bias.lift == 50.0


def test_popularity_bias_empty():
    bias = catalogue_health.popularity_bias(np.array([], dtype=np.int64), np.array([9]), CATALOGUE)
    assert math.isnan(bias.recommended_pct) and math.isnan(bias.requested_pct)


def test_popularity_histogram():
    histogram = catalogue_health.popularity_histogram(
        np.array([12.5, 87.5, 87.5, 100.0]), np.array([]), n_bins=4
    )
    assert histogram["left"].tolist() == [0.0, 25.0, 50.0, 75.0]
    assert histogram["recommended"].tolist() == [0.25, 0.0, 0.0, 0.75]
    assert histogram["requested"].tolist() == [0.0, 0.0, 0.0, 0.0]
