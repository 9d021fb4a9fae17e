from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.feedback import FeedbackLikes, feedback_likes, merge_feedback
from readcrumbs.events.records import FeedbackRecord

BOOKS = np.array([1, 2, 3, 4], dtype=np.int64)


def record(userid: str, book_id: int, value: int, second: int, feedback_id: str = "") -> FeedbackRecord:
    return FeedbackRecord(
        feedback_id=feedback_id or f"{userid}-{book_id}-{second}",
        ts=f"2026-11-28T10:00:{second:02d}.000Z",
        userid=userid,
        request_id=None,
        book_id=book_id,
        title=f"Book {book_id}",
        position=1,
        value=value,
    )


class FakeEvents:
    """Just enough of an event store: the feedback it was given."""

    def __init__(self, records: list[FeedbackRecord]) -> None:
        self.records = records

    def feedback(self, start: str | None = None, end: str | None = None) -> list[FeedbackRecord]:
        return list(self.records)


def test_feedback_users_become_new_users_in_sorted_order() -> None:
    result = feedback_likes(
        [record("zoe", 1, 1, 1), record("adam", 2, 1, 2)], first_user_id=101, book_ids=BOOKS
    )

    assert result.user_ids == {"adam": 101, "zoe": 102}
    assert result.likes.values.tolist() == [[101, 2], [102, 1]]
    assert result.likes.dtypes.to_dict() == {"user_id": np.int64, "book_id": np.int64}


def test_the_latest_feedback_per_user_and_book_wins() -> None:
    records = [
        record("ann", 1, 1, 1),
        record("ann", 1, -1, 5),  # liked, then disliked: removed
        record("ann", 2, -1, 1),
        record("ann", 2, 1, 6),  # disliked, then liked: added
        record("bob", 3, -1, 9),  # only a dislike: nothing to add
    ]

    result = feedback_likes(list(reversed(records)), first_user_id=10, book_ids=BOOKS)

    assert result.likes.values.tolist() == [[10, 2]]
    assert result.records == 5


def test_ties_in_time_are_broken_by_feedback_id() -> None:
    records = [record("ann", 1, -1, 3, feedback_id="b"), record("ann", 1, 1, 3, feedback_id="a")]

    assert feedback_likes(records, first_user_id=10, book_ids=BOOKS).likes.empty


def test_unknown_books_and_odd_values_are_dropped_with_counted_warnings() -> None:
    records = [record("ann", 99, 1, 1), record("ann", 1, 5, 2), record("ann", 3, 1, 3)]

    result = feedback_likes(records, first_user_id=10, book_ids=BOOKS)

    assert result.likes.values.tolist() == [[10, 3]]
    assert sorted((warning.column, warning.count) for warning in result.warnings) == [
        ("book_id", 1),
        ("value", 1),
    ]


def test_no_feedback_adds_nothing() -> None:
    result = feedback_likes([], first_user_id=10, book_ids=BOOKS)

    assert result.likes.empty and result.user_ids == {}


def test_merging_keeps_the_likes_sorted_and_unique() -> None:
    interactions = pd.DataFrame({"user_id": [1, 2], "book_id": [3, 1]}, dtype=np.int64)
    added = FeedbackLikes(
        likes=pd.DataFrame({"user_id": [3, 3], "book_id": [1, 2]}, dtype=np.int64),
        user_ids={"x": 3},
        records=2,
    )

    merged = merge_feedback(interactions, added)

    assert merged.values.tolist() == [[1, 3], [2, 1], [3, 1], [3, 2]]
    assert merged.dtypes.to_dict() == {"user_id": np.int64, "book_id": np.int64}
