import math

import pandas as pd
import pytest

from monitoring import quality
from tests.monitoring.helpers import feedback, feedback_frame_of, frame_of, prediction

# Request a (version 1) shows books 10, 11, 12; c (version 2) shows 20, 21; b gets no feedback.
PREDICTIONS = frame_of(
    [
        prediction("a", 0, prediction_ids=[10, 11, 12], model_version="1"),
        prediction("b", 1, prediction_ids=[13, 14, 15], model_version="1"),
        prediction("c", 2, userid="u2", prediction_ids=[20, 21], model_version="2"),
    ]
)
FEEDBACK = feedback_frame_of(
    [
        feedback("f1", 3, "a", 11, +1),
        feedback("f2", 4, "a", 12, -1),
        feedback("f3", 5, "a", 11, -1),  # the reader changes their mind: 11 is now a dislike
        feedback("f4", 6, "c", 21, +1),
        feedback("f5", 7, None, 10, +1),  # prototype payload without request_id: not tied
        feedback("f6", 8, "a", 99, +1),  # a book request a did not show
        feedback("f7", 9, "zz", 10, +1),  # a request not among the predictions
    ]
)


def rated_and_requests():
    rated = quality.rated_recommendations(FEEDBACK, PREDICTIONS)
    return rated, quality.per_request(rated)


def test_rated_recommendations_keep_last_word_and_tied_shown_books_only():
    rated, _ = rated_and_requests()
    got = rated.sort_values(["request_id", "book_id"]).to_dict("records")
    assert got == [
        {"request_id": "a", "model_version": "1", "shown": 3, "book_id": 11, "rank": 2, "value": -1},
        {"request_id": "a", "model_version": "1", "shown": 3, "book_id": 12, "rank": 3, "value": -1},
        {"request_id": "c", "model_version": "2", "shown": 2, "book_id": 21, "rank": 2, "value": 1},
    ]


def test_per_request():
    _, requests = rated_and_requests()
    by_id = requests.set_index("request_id")
    assert by_id.loc["a", ["shown", "likes", "dislikes"]].tolist() == [3, 0, 2]
    assert math.isnan(by_id.loc["a", "first_like_rank"])
    assert by_id.loc["c", ["shown", "likes", "dislikes", "first_like_rank"]].tolist() == [2, 1, 0, 2.0]


def test_feedback_rates_by_hand():
    _, requests = rated_and_requests()
    q = quality.feedback_quality(requests)
    # 2 rated requests showing 3 + 2 = 5 books: 1 like, 2 dislikes; c's like is at rank 2.
    assert (q.rated_requests, q.likes, q.dislikes) == (2, 1, 2)
    assert q.like_rate == pytest.approx(1 / 5)
    assert q.dislike_rate == pytest.approx(2 / 5)
    assert q.hit_rate == pytest.approx(1 / 2)
    assert q.mrr == pytest.approx((0 + 1 / 2) / 2)


def test_mrr_uses_best_ranked_like():
    requests = pd.DataFrame({"first_like_rank": [1.0, 4.0, float("nan")]})
    assert quality.mean_reciprocal_rank(requests) == pytest.approx((1 + 0.25 + 0) / 3)


def test_feedback_quality_by_version():
    _, requests = rated_and_requests()
    table = quality.feedback_quality_by_version(requests).set_index("model_version")
    assert table.loc["1", "like_rate"] == 0.0
    assert table.loc["1", "dislike_rate"] == pytest.approx(2 / 3)
    assert table.loc["2", "like_rate"] == pytest.approx(1 / 2)
    assert table.loc["2", "mrr"] == pytest.approx(1 / 2)


def test_like_rate_by_position():
    rated, requests = rated_and_requests()
    by_position = quality.like_rate_by_position(rated, requests)
    assert by_position["position"].tolist() == [1, 2, 3]
    # Positions 1-2 were shown by both rated requests, position 3 by a only; the one like is at 2.
    assert by_position["rated_requests"].tolist() == [2, 2, 1]
    assert by_position["like_rate"].tolist() == [0.0, 0.5, 0.0]


def test_empty_feedback_gives_nan_rates():
    rated = quality.rated_recommendations(FEEDBACK.iloc[:0], PREDICTIONS)
    requests = quality.per_request(rated)
    q = quality.feedback_quality(requests)
    assert q.rated_requests == 0
    assert all(math.isnan(v) for v in (q.like_rate, q.dislike_rate, q.hit_rate, q.mrr))
    assert quality.like_rate_by_position(rated, requests).empty
    assert quality.feedback_quality_by_version(requests).empty


def test_empty_predictions():
    rated = quality.rated_recommendations(FEEDBACK, PREDICTIONS.iloc[:0])
    assert rated.empty
    assert list(rated.columns) == ["request_id", "model_version", "shown", "book_id", "rank", "value"]


# Reader u1: asks with [1] (v1, shown 5, 6, 7), then with [1, 5] (v2, shown 8, 9), then with
# [1, 5, 8, 30] (v2). Added favourites: 5 (shown at rank 1 by v1 before) and 8 (shown at rank 1
# by v2) at the second and third request, 30 (never shown). Reader u2 has one request: nothing added.
FAVOURITES = frame_of(
    [
        prediction("p1", 0, "u1", item_ids=[1], prediction_ids=[5, 6, 7], model_version="1"),
        prediction("p2", 1, "u1", item_ids=[1, 5], prediction_ids=[8, 9], model_version="2"),
        prediction("p3", 2, "u1", item_ids=[1, 5, 8, 30], prediction_ids=[40], model_version="2"),
        prediction("p4", 3, "u2", item_ids=[5, 6], prediction_ids=[1], model_version="1"),
    ]
)


def test_favourite_recall_overall():
    total, _ = quality.favourite_recall(FAVOURITES, k=10)
    assert (total.added, total.hits) == (3, 2)
    assert total.recall == pytest.approx(2 / 3)


def test_favourite_recall_respects_k():
    # Books 5 and 8 were both shown at rank 1; move 5 to rank 2 and K=1 misses it.
    lists = [[6, 5, 7], *FAVOURITES["prediction_ids"].iloc[1:]]
    shifted = FAVOURITES.assign(prediction_ids=pd.Series(lists, dtype=object))
    assert quality.favourite_recall(shifted, k=1)[0].hits == 1
    assert quality.favourite_recall(shifted, k=2)[0].hits == 2


def test_favourite_recall_by_version():
    table = quality.favourite_recall(FAVOURITES, k=10)[1].set_index("model_version")
    # v1 served u1 before 5, 8 and 30 were added and showed 5; v2 served u1 before 8 and 30 and showed 8.
    assert (table.at["1", "added"], table.at["1", "hits"]) == (3, 1)
    assert (table.at["2", "added"], table.at["2", "hits"]) == (2, 1)
    assert table.loc["2", "recall"] == pytest.approx(1 / 2)


def test_favourite_recall_lists_a_version_without_added_favourites():
    table = quality.favourite_recall(FAVOURITES.iloc[[3]], k=10)[1]
    assert table.to_dict("records")[0]["added"] == 0
    assert math.isnan(table["recall"].iloc[0])


def test_favourite_recall_ignores_order_of_rows():
    shuffled = FAVOURITES.iloc[[3, 2, 0, 1]].reset_index(drop=True)
    assert quality.favourite_recall(shuffled, k=10)[0].hits == 2


def test_favourite_recall_needs_a_later_request():
    assert quality.favourite_recall(FAVOURITES.iloc[[3]], k=10)[0].added == 0


def test_favourite_recall_empty_and_bad_k():
    total, by_version = quality.favourite_recall(FAVOURITES.iloc[:0], k=10)
    assert (total.added, total.hits) == (0, 0)
    assert math.isnan(total.recall)
    assert by_version.empty
    with pytest.raises(ValueError, match="k must be at least 1"):
        quality.favourite_recall(FAVOURITES, k=0)
