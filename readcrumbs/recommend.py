"""Serving one reader: score, steer, rank and explain (numpy, and C kernels for the common reader).

The steps, for a reader's favourites, dislikes and genres (book indices and catalogue genres):

1. **score**: :meth:`Recommender.score_reader` with signal +1 for each favourite and
   :data:`~readcrumbs.recommenders.base.DISLIKE` for each dislike (a book named as both counts as
   a dislike). With no favourite but genres, the scores are the starter list's instead:
   :attr:`BookFacts.starter_quality` times the share of the genres each book carries, each
   damped by :func:`likeness_to_dislikes` (the book most like the dislikes falls to zero);
2. **steer** (genres beside favourites): each book's score gains
   ``GENRE_BOOST · |score| · share of the genres it carries``, so a book of those genres climbs
   by at most half its own score and a book the model does not rate gains nothing;
3. **rank**: every given book masked, and every book of a series the reader turned a volume of
   down and loved none of (:func:`series_turned_down`), then
   :func:`~readcrumbs.ranking.top_k_reader` (or :func:`~readcrumbs.ranking.top_k_positive` over
   the books that score above zero, looked for among the model's
   :meth:`~Recommender.reader_candidates` when it names them), which rank exactly as offline
   evaluation's :func:`~readcrumbs.ranking.top_k`; with ``one_per_series``, one book per series,
   the next volume the reader has not given, in the place of the series' best-ranked book;
4. **explain**: :meth:`Recommender.explain_reader` for the k shown books only, then
   :func:`reasons`.

For a reader with favourites, no genres and not one book per series, steps 1, 3 and 4 are one call
of a C kernel: ``readcrumbs/_item_weights.c`` for an item-weight model (EASE, item-kNN, EDLAE,
RP3beta; :meth:`~readcrumbs.recommenders.neighbours.ItemWeightsModel.rank_reader`) and
``readcrumbs/_factors.c`` for ALS (:meth:`~readcrumbs.recommenders.als.ALS.rank_reader`, which
scores exactly only the books its bounds cannot rule out). Each gives the same books, scores and
reasons as the steps above (``tests/readcrumbs/recommenders/test_item_weights_kernel.py``,
``test_factors_kernel.py``), and hands the reader back to them when fewer than k books score
above zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from readcrumbs.book_facts import BookFacts
from readcrumbs.ranking import top_k_positive, top_k_reader
from readcrumbs.recommenders.als import ALS
from readcrumbs.recommenders.base import DISLIKE, FAVOURITE, Recommender
from readcrumbs.recommenders.neighbours import ItemWeightsModel

# A genre the reader names lifts a book of that genre by at most this share of its own score.
GENRE_BOOST = 0.5
# A favourite is a reason for a book when its term is at least this share of the book's positive
# terms (the strongest favourite always is); at most MAX_REASONS are named, strongest first.
# readcrumbs/_kernel.h, which both kernels use, has the same two (test_item_weights_kernel.py
# fails if they part).
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


class Recommendation(NamedTuple):
    """One shown book, its score and what led to it: favourites and genre keys.

    ``book`` and ``because`` are book indices, or book_ids where :func:`rank_reader` was given the
    catalogue's (:meth:`~readcrumbs.model_bundle.ModelBundle.recommend`). A named tuple: serving
    makes k of these per request, and a tuple is built in C.
    """

    book: int
    score: float
    because: list[int]
    because_genres: list[str]


def reader_books(reader: ReaderInput) -> tuple[np.ndarray, np.ndarray, bool]:
    """The reader's books, ascending and unique, their signals, and whether one is a favourite.

    Returns (n,) int64 book indices, (n,) float32 signals and a bool.
    """
    if not len(reader.disliked):  # most readers: favourites only
        books = sorted(set(reader.favourites.tolist()))
        return np.array(books, dtype=np.int64), np.full(len(books), FAVOURITE, dtype=np.float32), bool(books)
    # Python sets: a reader gives a handful of books, where np.unique costs tens of µs.
    disliked = set(reader.disliked.tolist())
    books = sorted(disliked.union(reader.favourites.tolist()))
    signal = [DISLIKE if book in disliked else FAVOURITE for book in books]
    has_favourites = len(books) > len(disliked)
    return np.array(books, dtype=np.int64), np.array(signal, dtype=np.float32), has_favourites


def rank_reader(
    model: Recommender, facts: BookFacts, reader: ReaderInput, k: int, book_ids: np.ndarray | None = None
) -> list[Recommendation]:
    """The ``k`` best books for ``reader`` with their reasons, best first (see module docstring).

    ``book_ids``: (n_books,) int64, index → book_id; given, the answer names books by book_id
    (one gather here rather than a second pass over the answer), else by index.
    Returns fewer than ``k`` when fewer books are left once the given ones are masked.
    """
    books, signal, has_favourites = reader_books(reader)
    hidden = books
    if len(reader.disliked) and (turned_down := series_turned_down(facts, books, signal)):
        hidden = np.union1d(books, turned_down)
    plain = has_favourites and not reader.genres and not reader.one_per_series
    if plain and isinstance(model, ItemWeightsModel | ALS):  # a C kernel, when it can answer alone
        ranked = model.rank_reader(books, signal, hidden, k, book_ids)
        if ranked is not None:
            return [Recommendation(book, score, because, []) for book, score, because in ranked]
    match = facts.genre_match(reader.genres) if reader.genres else None
    shown, scores = _score_and_rank(model, facts, reader, books, signal, has_favourites, match, k, hidden)
    shares = model.explain_reader(books, signal, shown) if has_favourites else None
    names = books if book_ids is None else book_ids[books]
    because = reasons(shares, names, signal) if shares is not None else [[] for _ in range(len(shown))]
    genres = [facts.genres_of(book, reader.genres) if match is not None else [] for book in shown.tolist()]
    labels = shown if book_ids is None else book_ids[shown]
    return [
        Recommendation(*fields)
        for fields in zip(labels.tolist(), scores.tolist(), because, genres, strict=True)
    ]


def _score_and_rank(
    model: Recommender,
    facts: BookFacts,
    reader: ReaderInput,
    books: np.ndarray,
    signal: np.ndarray,
    has_favourites: bool,
    match: np.ndarray | None,
    k: int,
    hidden: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1–3 over every book: the shown books ((k',) int64 indices, best first) and their
    (k',) float32 scores. ``books``, ``signal``, ``has_favourites``: :func:`reader_books`;
    ``match``: (n_books,) float32, each book's share of the reader's genres (None: no genres)."""
    if has_favourites or match is None:
        scores = model.score_reader(books, signal)
        if match is not None:
            scores += np.float32(GENRE_BOOST) * np.abs(scores) * match
    else:
        scores = facts.starter_quality * match
        if len(books):  # only dislikes: the model still says which books are like them
            scores *= 1.0 - likeness_to_dislikes(model.score_reader(books, signal))
    if reader.one_per_series:
        shown = _one_per_series(scores, books, signal, facts, k, hidden)
    else:
        scores[hidden] = -np.inf
        # The starter list scores every book of the genres; a model may narrow the rest.
        candidates = model.reader_candidates(books, signal) if has_favourites or match is None else None
        best = top_k_positive(scores, k, candidates)
        shown = best if best is not None else top_k_reader(scores, hidden, k)
    return shown, scores[shown]


def series_turned_down(facts: BookFacts, books: np.ndarray, signal: np.ndarray) -> list[int]:
    """Every book (index) of each series the reader disliked a volume of and loved none of.

    "Not for me" about one volume is about its series: without this, turning down one Harry
    Potter book left the others and the box sets near the top, as the model's weights between
    volumes are spread thin. A reader who loves one volume and dislikes another keeps the series.
    """
    keys = facts.series_key
    loved: set[str | None] = {None}
    turned: set[str | None] = set()
    for book, value in zip(books.tolist(), signal.tolist(), strict=True):
        (loved if value > 0 else turned).add(keys[book])
    return [index for key in turned - loved if key is not None for _, index in facts.series_volume[key]]


def likeness_to_dislikes(scores: np.ndarray) -> np.ndarray:
    """How like a reader's dislikes each book is, from the model's scores of the dislikes alone.

    ``scores``: (n_books,) float32, :meth:`Recommender.score_reader` of dislikes only (negative
    where a book resembles them). Returns (n_books,) float32 in [0, 1]: 1 for the book the dislikes
    push down the most, 0 for books they do not touch. The starter list's scores are on another
    scale than the model's, so its dislikes act as a share, not as a sum.
    """
    pushed = np.minimum(scores, np.float32(0.0))
    lowest = float(pushed.min(initial=0.0))
    return pushed / np.float32(lowest) if lowest < 0.0 else np.zeros_like(pushed)


def reasons(shares: np.ndarray, books: np.ndarray, signal: np.ndarray) -> list[list[int]]:
    """The favourites that explain each shown book, strongest first, named as in ``books``.

    ``shares``: (m, n), each of the reader's n books' term in each of the m shown books' scores;
    ``books``: (n,) int64, the reader's books (indices or book_ids).
    A favourite is named for a book when its term is positive and at least :data:`REASON_SHARE` of
    the sum of that book's positive terms; the strongest positive favourite is always named; at
    most :data:`MAX_REASONS`. Dislikes are never reasons. Returns m lists.
    """
    # One numpy call zeroes the terms that cannot be reasons; the rest is plain Python, since for
    # k × a handful of books a dozen numpy calls on tiny arrays cost more.
    terms = np.where((signal > 0) & (shares > 0), shares, np.float32(0.0)).tolist()
    book_list = books.tolist()
    columns = range(len(book_list))
    named: list[list[int]] = []
    for row in terms:
        total = sum(row)
        threshold = REASON_SHARE * total
        # The terms at or above the threshold are the strongest ones: filter, then sort those few.
        strong = [i for i in columns if row[i] > 0 and row[i] >= threshold]
        if not strong and total > 0:  # four or more even terms, each under the threshold
            strong = [max(columns, key=row.__getitem__)]
        strong.sort(key=row.__getitem__, reverse=True)  # stable: ties keep the books' order
        named.append([book_list[i] for i in strong[:MAX_REASONS]])
    return named


def _one_per_series(
    scores: np.ndarray, books: np.ndarray, signal: np.ndarray, facts: BookFacts, k: int, hidden: np.ndarray
) -> np.ndarray:
    """At most one book per series, ``k`` in all: (k',) int64, in the ranking's order.

    Each series is shown once, at the place of its best-ranked book, as the next volume the reader
    has not given (:meth:`BookFacts.next_volume`); books in no series are kept as ranked.
    ``hidden``: the books never shown (ascending, unique): the given ones and any turned down.
    """
    favourites = set(books[signal > 0].tolist())
    given = set(hidden.tolist())
    depth = k * SERIES_DEPTH
    while True:
        ranked = top_k_reader(scores.copy(), hidden, depth)
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
