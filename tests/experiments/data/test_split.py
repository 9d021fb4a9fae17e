from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.data.split import choose_heldout_users
from readcrumbs.errors import ConfigError, DataError


def likes(per_user: dict[int, int]) -> pd.DataFrame:
    """Likes where user u has per_user[u] liked books (book ids 1..n)."""
    rows = [(user, book) for user, count in per_user.items() for book in range(1, count + 1)]
    return pd.DataFrame(rows, columns=["user_id", "book_id"]).astype(np.int64)


def test_draws_the_asked_number_of_eligible_users_reproducibly() -> None:
    interactions = likes({user: 10 + user % 3 for user in range(1, 201)} | {500: 3, 501: 9})

    first, warnings = choose_heldout_users(interactions, count=20, min_likes=10, seed=7)
    again, _ = choose_heldout_users(
        interactions.sample(frac=1.0, random_state=1), count=20, min_likes=10, seed=7
    )
    other, _ = choose_heldout_users(interactions, count=20, min_likes=10, seed=8)

    assert warnings == []
    assert first.dtype == np.int64 and len(first) == 20 and len(np.unique(first)) == 20
    assert np.array_equal(first, np.sort(first))
    assert np.array_equal(first, again)  # row order of the likes does not matter
    assert not np.array_equal(first, other)
    assert not set(first) & {500, 501}  # too few likes


def test_takes_every_eligible_user_with_a_warning_when_too_few() -> None:
    interactions = likes({1: 12, 2: 15, 3: 2, 4: 1})

    heldout, warnings = choose_heldout_users(interactions, count=2_000, min_likes=10, seed=42)

    assert list(heldout) == [1, 2]
    assert [(warning.count, "instead of 2000" in warning.message) for warning in warnings] == [(2, True)]


def test_without_eligible_users_holds_out_the_user_with_most_likes() -> None:
    heldout, warnings = choose_heldout_users(likes({1: 2, 2: 4, 3: 4}), count=5, min_likes=10, seed=42)

    assert list(heldout) == [2]
    assert len(warnings) == 1


def test_always_leaves_a_user_to_train_on() -> None:
    heldout, warnings = choose_heldout_users(likes({1: 12, 2: 15, 3: 11}), count=10, min_likes=10, seed=42)

    assert len(heldout) == 2
    assert len(warnings) == 1


def test_a_single_user_cannot_be_split() -> None:
    with pytest.raises(DataError, match="at least 2 are needed"):
        choose_heldout_users(likes({1: 20}), count=1, min_likes=1, seed=42)


@pytest.mark.parametrize(("count", "min_likes"), [(0, 10), (10, 0)])
def test_counts_below_one_are_refused(count: int, min_likes: int) -> None:
    with pytest.raises(ConfigError):
        choose_heldout_users(likes({1: 20, 2: 20}), count=count, min_likes=min_likes, seed=42)
