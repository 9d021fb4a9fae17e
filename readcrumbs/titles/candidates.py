"""A character-trigram index over normalized names, so fuzzy scoring looks at dozens, not thousands.

Scoring a typed title against every name of a 10k-book catalogue costs milliseconds; a name with a
typo or a missing tail still shares most of its trigrams with the right one, so scoring only the
names that share the most trigrams with the query finds the same best match for a fraction of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

# Enough that the right name is among them when a few of its trigrams are lost to typos.
CANDIDATES = 48
# A trigram in more than 1/COMMON_SHARE of the names is skipped when counting (see candidates).
COMMON_SHARE = 40


def trigrams(text: str) -> set[str]:
    """The character trigrams of `` text `` (padded, so word starts and ends count)."""
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class CandidateIndex:
    """Names (normalized strings) and, for a query, the ones sharing the most trigrams with it."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        postings: dict[str, list[int]] = defaultdict(list)
        for index, name in enumerate(self.names):
            for gram in trigrams(name):
                postings[gram].append(index)
        self._postings = {gram: np.asarray(ids, dtype=np.int32) for gram, ids in postings.items()}
        self._common = max(16, len(self.names) // COMMON_SHARE)

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, query: str, limit: int = CANDIDATES) -> list[int]:
        """Indices of up to ``limit`` names sharing the most trigrams with ``query``, most first.

        A name must share at least a quarter of the query's trigrams: fewer is no typo of it.
        """
        grams = trigrams(query)
        lists = [self._postings[gram] for gram in grams if gram in self._postings]
        if not lists:
            return []
        # Trigrams most names have (" th", "the") cost the most to count and tell the least.
        rare = [ids for ids in lists if len(ids) <= self._common]
        lists = rare if rare and len(rare) >= len(lists) // 2 else lists
        counts = np.bincount(np.concatenate(lists), minlength=len(self.names))  # (n_names,) shared
        floor = max(2, len(grams) // 4)
        # Filter first: argpartition over thousands of equal zeros is slow (numpy's introselect).
        shared = np.flatnonzero(counts >= floor)
        best = shared[np.argsort(-counts[shared], kind="stable")[:limit]]
        return [int(i) for i in best]
