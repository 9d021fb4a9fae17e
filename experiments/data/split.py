"""The held-out users: a seeded sample of users with enough likes, kept for evaluation only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.validate import DataWarning
from readcrumbs.errors import ConfigError, DataError

DEFAULT_HELDOUT_USERS = 2_000
DEFAULT_HELDOUT_MIN_LIKES = 10


def choose_heldout_users(
    interactions: pd.DataFrame,
    count: int = DEFAULT_HELDOUT_USERS,
    min_likes: int = DEFAULT_HELDOUT_MIN_LIKES,
    seed: int = 42,
) -> tuple[np.ndarray, list[DataWarning]]:
    """``count`` users drawn with ``seed`` among those with at least ``min_likes`` likes.

    Parameters
    ----------
    interactions : (n_likes, 2) user_id, book_id int64 likes.

    Returns
    -------
    heldout_users : (n_heldout,) int64, sorted; never every user, so something is left to train on.
    warnings : one warning when fewer users than asked for were eligible.

    With fewer eligible users than ``count`` it takes them all; with none it takes the single
    user with the most likes (the smallest user_id among ties). Needs likes from two users.
    """
    if count < 1 or min_likes < 1:
        raise ConfigError(f"held-out users need count >= 1 and min_likes >= 1, got {count} and {min_likes}")
    likes_per_user = interactions.groupby("user_id")["book_id"].size().sort_index()
    if len(likes_per_user) < 2:
        raise DataError(
            f"the ratings hold likes from {len(likes_per_user)} user(s); at least 2 are needed to hold one "
            "out for evaluation and train on the rest."
        )
    eligible = likes_per_user.index[likes_per_user >= min_likes].to_numpy(dtype=np.int64)
    if len(eligible) == 0:
        eligible = np.array([likes_per_user.idxmax()], dtype=np.int64)
    # Leave at least one user to train on.
    wanted = min(count, len(eligible), len(likes_per_user) - 1)
    warnings: list[DataWarning] = []
    if wanted < count:
        warnings.append(
            DataWarning(
                "ratings.csv",
                "user_id",
                wanted,
                f"user(s) held out for evaluation instead of {count}: too few users have "
                f"{min_likes} or more likes",
            )
        )
    rng = np.random.default_rng(seed)
    chosen = rng.choice(eligible, size=wanted, replace=False)
    return np.sort(chosen.astype(np.int64)), warnings
