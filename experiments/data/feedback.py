"""Readers' likes and dislikes from the event store, merged into the interactions.

Every feedback ``userid`` (a string chosen by the client) becomes a new user: sorted unique
userids get integer user_ids ``first_user_id + rank``, above every user_id of the ratings, so the
mapping is deterministic and never collides with a dataset user. For each (userid, book_id) the
latest record wins (by ``ts``, then ``feedback_id``): a like (+1) adds the pair to the positives, a
dislike (-1) leaves it out, so disliking a book you liked earlier removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from experiments.data.build import sort_interactions
from experiments.data.validate import DataWarning
from readcrumbs.events.records import FeedbackRecord

LIKE = 1
DISLIKE = -1
_FEEDBACK = "feedback"  # the "file" named in warnings


class FeedbackSource(Protocol):
    """The one method of :class:`~readcrumbs.events.base.EventStore` this stage uses."""

    def feedback(self, start: str | None = None, end: str | None = None) -> list[FeedbackRecord]:
        """Feedback with ``start <= ts < end``, oldest first."""
        ...


@dataclass(frozen=True)
class FeedbackLikes:
    """What the feedback adds: ``likes`` (n, 2) user_id, book_id int64 and the userid mapping."""

    likes: pd.DataFrame
    user_ids: dict[str, int]
    records: int
    warnings: list[DataWarning] = field(default_factory=list)


def feedback_likes(
    records: Sequence[FeedbackRecord], first_user_id: int, book_ids: np.ndarray
) -> FeedbackLikes:
    """The positives left by ``records`` once the latest record per (userid, book) wins.

    ``book_ids`` (n_books,) are the catalogue's; feedback on other books, or with a value other
    than ±1, is dropped with a counted warning.
    """
    frame = pd.DataFrame(
        {
            "ts": [record.ts for record in records],
            "feedback_id": [record.feedback_id for record in records],
            "userid": [record.userid for record in records],
            "book_id": np.array([record.book_id for record in records], dtype=np.int64),
            "value": np.array([record.value for record in records], dtype=np.int64),
        }
    )
    warnings: list[DataWarning] = []
    checks = (
        (
            ~frame["book_id"].isin(book_ids),
            "book_id",
            "record(s) about books the catalogue does not hold; dropped",
        ),
        (
            ~frame["value"].isin([LIKE, DISLIKE]),
            "value",
            "record(s) whose value is neither +1 nor -1; dropped",
        ),
    )
    keep = pd.Series(True, index=frame.index)
    for bad, column, message in checks:
        if bad.any():
            warnings.append(DataWarning(_FEEDBACK, column, int(bad.sum()), message))
            keep &= ~bad
    frame = frame[keep]
    user_ids = {userid: first_user_id + rank for rank, userid in enumerate(sorted(set(frame["userid"])))}
    latest = frame.sort_values(["ts", "feedback_id"], kind="stable").drop_duplicates(
        ["userid", "book_id"], keep="last"
    )
    liked = latest[latest["value"] == LIKE]
    likes = pd.DataFrame(
        {
            "user_id": liked["userid"].map(user_ids).to_numpy(dtype=np.int64),
            "book_id": liked["book_id"].to_numpy(dtype=np.int64),
        }
    )
    return FeedbackLikes(
        likes=sort_interactions(likes), user_ids=user_ids, records=len(records), warnings=warnings
    )


def merge_feedback(interactions: pd.DataFrame, feedback: FeedbackLikes) -> pd.DataFrame:
    """The dataset's likes plus the feedback's, sorted, no duplicates: (n_likes, 2) int64."""
    return sort_interactions(pd.concat([interactions, feedback.likes], ignore_index=True))
