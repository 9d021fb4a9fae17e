"""experiments.ground_truth: the simulator's own figures from what it sent and received."""

from __future__ import annotations

import math

import pytest

from experiments.ground_truth import ALL, Visit, format_truth, ground_truth


def by_key(rows):
    return {(row.model_version, row.arm): row for row in rows}


def test_feedback_figures_are_over_rated_visits():
    visits = [
        # ann: 4 shown, likes at ranks 3 and 4, one dislike -> rated
        Visit("ann", 1, (1, 2, 3), "a1", "1", "production", (10, 11, 12, 13), ((12, 1), (13, 1), (10, -1))),
        # bob: shown 2, nothing voted -> not rated
        Visit("bob", 1, (4, 5, 6), "b1", "1", "production", (20, 21)),
        # cid: challenger, one dislike only -> rated, a miss
        Visit("cid", 1, (7, 8, 9), "c1", "2", "challenger", (30, 31), ((31, -1),)),
    ]
    rows = by_key(ground_truth(visits, k=10))
    production = rows[("1", "production")]
    assert (production.requests, production.rated_requests, production.shown) == (2, 1, 4)
    assert production.like_rate == pytest.approx(2 / 4)
    assert production.dislike_rate == pytest.approx(1 / 4)
    assert production.hit_rate == 1.0
    assert production.mrr == pytest.approx(1 / 3)
    challenger = rows[("2", "challenger")]
    assert challenger.hit_rate == 0.0 and challenger.mrr == 0.0 and challenger.dislike_rate == 0.5
    total = rows[(ALL, ALL)]
    assert total.requests == 3 and total.rated_requests == 2 and total.shown == 6
    assert total.mrr == pytest.approx((1 / 3 + 0) / 2)
    assert len(total.readers) == 3


def test_a_later_vote_replaces_an_earlier_one_and_unshown_books_do_not_count():
    visit = Visit("ann", 1, (1,), "a1", "1", "production", (10, 11), ((10, 1), (10, -1), (99, 1)))
    row = by_key(ground_truth([visit], k=10))[("1", "production")]
    assert (row.likes, row.dislikes, row.hit_rate) == (0, 1, 0.0)


def test_later_favourites_count_overall_and_for_each_arm_that_served_before():
    visits = [
        Visit("ann", 1, (1, 2, 3), "a1", "1", "production", (10, 11, 12)),
        Visit("ann", 2, (1, 2, 3), "a2", "2", "challenger", (13, 14)),
        # adds 11 (shown by production in its top 2), 14 (shown by the challenger), 50 (never shown)
        Visit("ann", 3, (1, 2, 3, 11, 14, 50), "a3", "1", "production", (60,)),
    ]
    rows = by_key(ground_truth(visits, k=2))
    assert (rows[(ALL, ALL)].favourites_added, rows[(ALL, ALL)].favourites_hit) == (3, 2)
    assert (rows[("1", "production")].favourites_added, rows[("1", "production")].favourites_hit) == (3, 1)
    assert (rows[("2", "challenger")].favourites_added, rows[("2", "challenger")].favourites_hit) == (3, 1)
    # K = 1: 11 and 14 were each second in their list, so neither counts
    rows = by_key(ground_truth(visits, k=1))
    assert rows[("1", "production")].favourites_hit == 0
    assert rows[(ALL, ALL)].recall == 0.0


def test_visits_are_ordered_by_their_number_not_by_list_order():
    later = Visit("ann", 2, (1, 11), "a2", "1", "production", ())
    first = Visit("ann", 1, (1,), "a1", "1", "production", (11,))
    assert ground_truth([later, first], k=10)[-1].favourites_hit == 1


def test_nothing_to_measure_is_nan_and_shows_as_a_dash():
    rows = ground_truth([Visit("ann", 1, (1,), "a1", "1", "production", (10,))], k=10)
    assert math.isnan(rows[-1].like_rate) and math.isnan(rows[-1].recall)
    table = format_truth(rows, 10)
    assert "Recall@10" in table.splitlines()[0] and "—" in table.splitlines()[1]


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be at least 1"):
        ground_truth([], k=0)
