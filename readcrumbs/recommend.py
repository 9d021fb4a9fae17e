"""Serving one reader: score, steer, rank and explain, with numpy alone.

The steps, for a reader's favourites, dislikes and genres (book indices and catalogue genres):

1. **score**: :meth:`Recommender.score_reader` with signal +1 for each favourite and
   :data:`~readcrumbs.recommenders.base.DISLIKE` for each dislike (a book named as both counts as
   a dislike). With no favourite but genres, the scores are the starter list's instead:
   :attr:`BookFacts.starter_quality` times the share of the genres each book carries;
2. **steer** (genres beside favourites): each book's score gains
   ``GENRE_BOOST · |score| · share of the genres it carries``, so a book of those genres climbs
   by at most half its own score and a book the model does not rate gains nothing;
3. **rank**: every given book masked, then :func:`~readcrumbs.ranking.top_k_reader` (or
   :func:`~readcrumbs.ranking.top_k_among` over the only books that can score above zero), which
   rank exactly as offline evaluation's :func:`~readcrumbs.ranking.top_k`; with
   ``one_per_series``, one book per series, the next volume the reader has not given, in the
   place of the series' best-ranked book;
4. **explain**: :meth:`Recommender.explain_reader` for the k shown books only, then
   :func:`reasons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from readcrumbs.book_facts import BookFacts
from readcrumbs.ranking import top_k_among, top_k_reader
from readcrumbs.recommenders.base import DISLIKE, FAVOURITE, Recommender

# A genre the reader names lifts a book of that genre by at most this share of its own score.
GENRE_BOOST = 0.5
# A favourite is a reason for a book when its term is at least this share of the book's positive
# terms (the strongest favourite always is); at most MAX_REASONS are named, strongest first.
REASON_SHARE = 0.3
MAX_REASONS = 3
# With one book per series, ranking looks this many times k deep before looking deeper.
SERIES_DEPTH = 4


@dataclass(frozen=True, slots=True)
class ReaderInput:
    """What a reader gave: book indices (int64, any order), catalogue genre keys and options."""

    favourites: np.ndarray
    disliked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    genres: tuple[str, ...] = ()
    one_per_series: bool = False


@dataclass(frozen=True, slots=True)
class Ranked:
    """One shown book (an index): its score and its reasons, as indices and genre keys."""

    book: int
    score: float
    because: list[int]
    because_genres: list[str]


def reader_books(reader: ReaderInput) -> tuple[np.ndarray, np.ndarray]:
    """The reader's books, ascending and unique, and their signals: (n,) int64 and (n,) float32."""
    disliked = np.unique(reader.disliked.astype(np.int64))
    favourites = np.setdiff1d(reader.favourites.astype(np.int64), disliked)
    books = np.concatenate([favourites, disliked])
    signal = np.concatenate(
        [
            np.full(len(favourites), FAVOURITE, dtype=np.float32),
            np.full(len(disliked), DISLIKE, dtype=np.float32),
        ]
    )
    order = np.argsort(books, kind="stable")
    return books[order], signal[order]


def rank_reader(model: Recommender, facts: BookFacts, reader: ReaderInput, k: int) -> list[Ranked]:
    """The ``k`` best books for ``reader`` with their reasons, best first (see module docstring).

    Returns fewer than ``k`` when fewer books are left once the given ones are masked.
    """
    books, signal = reader_books(reader)
    has_favourites = bool((signal > 0).any())
    match = facts.genre_match(reader.genres) if reader.genres else None
    if has_favourites or match is None:
        scores = model.score_reader(books, signal)
        candidates = model.candidates(books) if has_favourites else None
        if match is not None:
            scores += np.float32(GENRE_BOOST) * np.abs(scores) * match
    else:
        scores = facts.starter_quality * match
        candidates = None
    if reader.one_per_series:
        shown = _one_per_series(scores, books, signal, facts, k)
    else:
        scores[books] = -np.inf
        best = top_k_among(scores, candidates, k) if candidates is not None else None
        shown = best if best is not None else top_k_reader(scores, books, k)
    shares = model.explain_reader(books, signal, shown) if has_favourites else None
    ranked = []
    for position, book in enumerate(shown.tolist()):
        because = reasons(shares[position], books, signal) if shares is not None else []
        steered = facts.genres_of(book, reader.genres) if match is not None else []
        ranked.append(Ranked(book, float(scores[book]), because, steered))
    return ranked


def reasons(shares: np.ndarray, books: np.ndarray, signal: np.ndarray) -> list[int]:
    """The favourites (book indices) that explain one book, strongest first.

    ``shares``: (n,) each of the reader's books' term in the book's score. A favourite is named
    when its term is positive and at least :data:`REASON_SHARE` of the sum of all positive terms;
    the strongest positive favourite is always named; at most :data:`MAX_REASONS`. Dislikes are
    never reasons.
    """
    terms = np.where(signal > 0, shares, 0.0)
    positive = float(terms[terms > 0].sum())
    if positive <= 0.0:
        return []
    order = np.argsort(-terms, kind="stable")[:MAX_REASONS]
    named = [
        int(books[i])
        for rank, i in enumerate(order)
        if terms[i] > 0 and (rank == 0 or terms[i] >= REASON_SHARE * positive)
    ]
    return named


def _one_per_series(
    scores: np.ndarray, books: np.ndarray, signal: np.ndarray, facts: BookFacts, k: int
) -> np.ndarray:
    """At most one book per series, ``k`` in all: (k',) int64, in the ranking's order.

    Each series is shown once, at the place of its best-ranked book, as the next volume the reader
    has not given (:meth:`BookFacts.next_volume`); books in no series are kept as ranked.
    """
    favourites = set(books[signal > 0].tolist())
    given = set(books.tolist())
    depth = k * SERIES_DEPTH
    while True:
        ranked = top_k_reader(scores.copy(), books, depth)
        shown: list[int] = []
        taken = set(given)
        series_seen: set[str] = set()
        for book in ranked.tolist():
            key = facts.series_key[book]
            if key is not None:
                if key in series_seen:
                    continue
                series_seen.add(key)
                book = facts.next_volume(book, favourites, taken)
            if book in taken:
                continue
            taken.add(book)
            shown.append(book)
            if len(shown) == k:
                return np.asarray(shown, dtype=np.int64)
        if len(ranked) < depth:  # every book has been looked at
            return np.asarray(shown, dtype=np.int64)
        depth *= 4


def ranked_input(favourites: Sequence[int], disliked: Sequence[int] = ()) -> ReaderInput:
    """A :class:`ReaderInput` from index lists (a convenience for tests and benches)."""
    return ReaderInput(np.asarray(favourites, dtype=np.int64), np.asarray(disliked, dtype=np.int64))
