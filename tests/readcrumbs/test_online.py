"""readcrumbs.online: per-arm outcomes from records, and the statistics of the arm comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from readcrumbs.events.records import FeedbackRecord, PredictionRecord
from readcrumbs.online import (
    BETTER,
    BOOTSTRAP_READERS,
    CHALLENGER,
    PRODUCTION,
    SHADOW,
    UNDECIDED,
    WORSE,
    Z_TEST,
    ArmOutcomes,
    arm_of,
    arm_outcomes,
    clustered_proportion,
    compare_arms,
    empty_outcomes,
    two_proportion_test,
)


@dataclass(frozen=True)
class Served:
    """A prediction with an ``arm``, as the records carry it once serving has arms."""

    request_id: str
    ts: str
    userid: str
    item_ids: list[int]
    prediction_ids: list[int]
    latency_ms: float = 5.0
    arm: str = PRODUCTION
    shadow_prediction_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Voted:
    request_id: str | None
    book_id: int
    value: int


def ts(second: int) -> str:
    return f"2026-12-01T00:00:{second:02d}.000Z"


def test_arm_of_defaults_to_production_for_records_without_arm():
    record = PredictionRecord("r", ts(0), "u", [], [1], [], [2], [], 1.0, "1")
    assert arm_of(record) == PRODUCTION
    assert arm_of(Served("r", ts(0), "u", [1], [2], arm=CHALLENGER)) == CHALLENGER


def test_outcomes_follow_the_dashboard_definitions():
    predictions = [
        Served("a1", ts(1), "ann", [1, 2, 3], [10, 11, 12, 13], latency_ms=4.0),
        Served("b1", ts(2), "bob", [4], [20, 21], latency_ms=6.0, arm=CHALLENGER),
        Served("a2", ts(3), "ann", [1, 2, 3, 11, 99], [30, 31], latency_ms=8.0),  # adds 11 (hit), 99 (miss)
        Served("b2", ts(4), "bob", [4], [22, 23], arm=CHALLENGER),  # nothing added, nothing rated
    ]
    feedback = [
        Voted("a1", 12, 1),
        Voted("a1", 13, -1),
        Voted("a1", 12, -1),
        Voted("a1", 12, 1),  # ann's last word on 12 is a like
        Voted("a1", 99, 1),  # not shown by a1: ignored
        Voted(None, 10, 1),  # tied to no request: ignored
        Voted("zz", 10, 1),  # unknown request: ignored
        Voted("b1", 21, -1),
        Voted("a2", 30, 1),
    ]
    arms = arm_outcomes(predictions, feedback, k=10)
    production, challenger = arms[PRODUCTION], arms[CHALLENGER]
    assert production.requests == 2 and production.readers == 1 and production.rated_requests == 2
    assert production.likes.tolist() == [1, 1] and production.dislikes.tolist() == [1, 0]
    assert production.shown.tolist() == [4, 2]
    assert production.like_rate == pytest.approx(2 / 6)
    assert production.dislike_rate == pytest.approx(1 / 6)
    assert production.hit_rate == 1.0
    assert production.mrr == pytest.approx((1 / 3 + 1 / 1) / 2)
    assert production.favourite_hit.tolist() == [True, False]  # 11 then 99, in book order
    assert production.favourite_recall == pytest.approx(0.5)
    assert production.mean_latency_ms == pytest.approx(6.0)
    assert challenger.rated_requests == 1 and challenger.hit_rate == 0.0 and challenger.mrr == 0.0
    assert challenger.dislike_rate == pytest.approx(1 / 2)
    assert len(challenger.favourite_hit) == 0 and math.isnan(challenger.favourite_recall)


def test_recall_counts_only_the_top_k_of_earlier_answers_in_time_order():
    predictions = [
        # Given out of order: the comparison sorts by ts.
        Served("later", ts(5), "ann", [1, 12], [40]),
        Served("first", ts(1), "ann", [1], [11, 12]),
    ]
    assert arm_outcomes(predictions, [], k=2)[PRODUCTION].favourite_hit.tolist() == [True]
    assert arm_outcomes(predictions, [], k=1)[PRODUCTION].favourite_hit.tolist() == [False]
    with pytest.raises(ValueError, match="k must be at least 1"):
        arm_outcomes(predictions, [], k=0)


def test_a_favourite_counts_for_every_arm_that_served_the_reader_before():
    predictions = [
        Served("p", ts(1), "ann", [1], [5]),
        Served("c", ts(2), "ann", [1], [6], arm=CHALLENGER),
        Served("later", ts(3), "ann", [1, 6], [7]),
    ]
    arms = arm_outcomes(predictions, [], k=10)
    assert arms[PRODUCTION].favourite_hit.tolist() == [False]
    assert arms[CHALLENGER].favourite_hit.tolist() == [True]


def test_records_work_as_input():
    prediction = PredictionRecord("r1", ts(1), "u", ["x"], [1], ["a", "b"], [2, 3], [0.5, 0.4], 3.0, "7")
    feedback = FeedbackRecord("f1", ts(2), "u", "r1", 3, "b", 1, 1)
    outcome = arm_outcomes([prediction], [feedback], k=10)[PRODUCTION]
    assert outcome.mrr == pytest.approx(0.5)


def test_one_trial_per_reader_is_the_textbook_proportion():
    readers = np.arange(100)
    successes = (readers < 30).astype(np.int64)
    share, variance = clustered_proportion(readers, successes, np.ones(100))
    assert share == pytest.approx(0.3)
    assert variance == pytest.approx(0.3 * 0.7 / 99)  # p(1-p)/n with the n/(n-1) correction


def test_a_readers_many_votes_count_as_one_reader_not_many_trials():
    one = clustered_proportion(np.arange(100), (np.arange(100) < 30).astype(np.int64), np.ones(100))
    # The same readers, each voting the same way on ten books: ten times the trials, same evidence.
    readers = np.repeat(np.arange(100), 10)
    ten = clustered_proportion(readers, (readers < 30).astype(np.int64), np.ones(1000))
    assert ten == pytest.approx(one)


def test_two_proportion_test_is_a_z_test_on_the_clustered_errors():
    readers = np.arange(400)
    production = (readers, (readers < 120).astype(np.int64), np.ones(400))
    challenger = (readers + 1000, (readers < 150).astype(np.int64), np.ones(400))
    low_arm, high_arm, difference, p_value = two_proportion_test(production, challenger)
    error = math.sqrt(0.3 * 0.7 / 399 + 0.375 * 0.625 / 399)
    assert p_value == pytest.approx(2 * stats.norm.sf(0.075 / error))
    assert difference.value == pytest.approx(0.075)
    assert difference.high - difference.value == pytest.approx(stats.norm.ppf(0.975) * error, rel=1e-6)
    assert low_arm.low < 0.3 < low_arm.high and high_arm.value == pytest.approx(0.375)


def test_proportions_without_enough_readers_are_undefined():
    share, variance = clustered_proportion(np.array([1, 1]), np.array([1, 0]), np.array([1, 1]))
    assert share == 0.5 and math.isnan(variance)
    assert all(
        math.isnan(v) for v in clustered_proportion(np.array([], dtype=np.int64), np.array([]), np.array([]))
    )
    empty = (np.array([], dtype=np.int64), np.array([]), np.array([]))
    _, _, difference, p_value = two_proportion_test(empty, empty)
    assert math.isnan(difference.value) and math.isnan(p_value)


def synthetic_arm(
    arm: str, readers: int, like_probability: float, seed: int, latency_ms: float = 5.0
) -> ArmOutcomes:
    """``readers`` readers with one rated request of 10 books each and one later favourite."""
    rng = np.random.default_rng(seed)
    likes = rng.binomial(10, like_probability, size=readers)
    first = np.where(likes > 0, rng.integers(1, 4, size=readers), np.inf).astype(np.float64)
    reader = np.arange(readers, dtype=np.int64) + (0 if arm == PRODUCTION else 1_000_000)
    return ArmOutcomes(
        arm=arm,
        request_reader=reader,
        latency_ms=rng.normal(latency_ms, 0.5, size=readers),
        rated_reader=reader,
        shown=np.full(readers, 10, dtype=np.int64),
        likes=likes.astype(np.int64),
        dislikes=np.zeros(readers, dtype=np.int64),
        first_like_rank=first,
        favourite_reader=reader,
        favourite_hit=rng.random(readers) < like_probability,
    )


def test_a_clearly_better_challenger_is_called_better():
    production = synthetic_arm(PRODUCTION, 400, 0.2, seed=1)
    challenger = synthetic_arm(CHALLENGER, 400, 0.4, seed=2)
    comparison = compare_arms(production, challenger, min_readers=100)
    assert comparison.verdict == BETTER
    assert comparison.metric("like_rate").verdict == BETTER
    assert comparison.metric("like_rate").method == Z_TEST
    assert comparison.metric("recall").method == BOOTSTRAP_READERS
    assert comparison.metric("recall").verdict == BETTER
    like = comparison.metric("like_rate")
    assert like.production.low < like.production.value < like.production.high
    assert comparison.worse_beyond(0.05) == []
    flipped = compare_arms(challenger, production, min_readers=100)
    assert flipped.verdict == WORSE and "Like rate" in flipped.reason
    assert set(flipped.worse_beyond(0.05)) >= {"like_rate", "hit_rate", "recall"}


def test_slower_challenger_is_called_worse_on_latency_only():
    production = synthetic_arm(PRODUCTION, 300, 0.3, seed=1, latency_ms=5.0)
    challenger = synthetic_arm(CHALLENGER, 300, 0.3, seed=1, latency_ms=9.0)
    comparison = compare_arms(production, challenger, min_readers=100)
    assert comparison.metric("latency").verdict == WORSE
    assert comparison.verdict == UNDECIDED  # latency is reported, not part of the overall verdict


def test_same_readers_are_not_distinguishable():
    production = synthetic_arm(PRODUCTION, 300, 0.3, seed=5)
    challenger = synthetic_arm(CHALLENGER, 300, 0.3, seed=5)
    comparison = compare_arms(production, challenger, min_readers=100)
    assert comparison.verdict == UNDECIDED
    assert all(metric.difference.low <= 0 <= metric.difference.high for metric in comparison.metrics)


def test_too_few_readers_decide_nothing_however_large_the_gap():
    production = synthetic_arm(PRODUCTION, 50, 0.1, seed=1)
    challenger = synthetic_arm(CHALLENGER, 50, 0.6, seed=2)
    comparison = compare_arms(production, challenger, min_readers=100)
    assert not comparison.enough_readers
    assert comparison.verdict == UNDECIDED and "needs 100 readers per arm" in comparison.reason
    assert all(metric.verdict == UNDECIDED for metric in comparison.metrics)


def test_the_bootstrap_is_repeatable_with_its_seed():
    production = synthetic_arm(PRODUCTION, 200, 0.3, seed=1)
    challenger = synthetic_arm(CHALLENGER, 200, 0.35, seed=2)
    first = compare_arms(production, challenger, seed=7)
    assert compare_arms(production, challenger, seed=7) == first
    assert compare_arms(production, challenger, seed=8).metric("mrr") != first.metric("mrr")


def test_an_empty_arm_is_undefined_and_fails_the_gate():
    comparison = compare_arms(synthetic_arm(PRODUCTION, 200, 0.3, seed=1), empty_outcomes(CHALLENGER))
    assert math.isnan(comparison.metric("mrr").challenger.value)
    assert comparison.verdict == UNDECIDED
    assert set(comparison.worse_beyond(0.5)) == {"like_rate", "hit_rate", "mrr", "recall"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"min_readers": 0}, "min_readers"),
        ({"resamples": 10}, "resamples"),
        ({"confidence": 1.0}, "confidence"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    arm = synthetic_arm(PRODUCTION, 10, 0.3, seed=1)
    with pytest.raises(ValueError, match=message):
        compare_arms(arm, arm, **arguments)


def test_worse_beyond_refuses_a_negative_drop():
    comparison = compare_arms(
        synthetic_arm(PRODUCTION, 10, 0.3, seed=1), synthetic_arm(CHALLENGER, 10, 0.3, seed=2)
    )
    with pytest.raises(ValueError, match="max_drop"):
        comparison.worse_beyond(-0.1)


def test_shadow_requests_judge_production_and_the_challengers_lists_only_by_recall():
    predictions = [
        Served("s1", ts(1), "ann", [1], [10, 11], arm=SHADOW, shadow_prediction_ids=(20, 21)),
        Served("s2", ts(2), "ann", [1, 11, 21, 99], [30], arm=SHADOW, shadow_prediction_ids=(40,)),
    ]
    arms = arm_outcomes(predictions, [Voted("s1", 10, 1)], k=10)
    production, shadow = arms[PRODUCTION], arms[SHADOW]
    assert production.requests == 2 and production.rated_requests == 1 and production.mrr == 1.0
    assert production.favourite_hit.tolist() == [True, False, False]  # 11 shown; 21 and 99 not
    assert shadow.readers == 1 and shadow.rated_requests == 0 and math.isnan(shadow.mean_latency_ms)
    assert shadow.favourite_hit.tolist() == [False, True, False]  # 21 would have been shown
    comparison = compare_arms(production, shadow, min_readers=1)
    assert math.isnan(comparison.metric("like_rate").challenger.value)
    assert comparison.metric("like_rate").verdict == UNDECIDED
