"""What simulated readers did, and the quality figures that follow from it alone.

The simulator (:mod:`experiments.simulate`) keeps a :class:`Visit` for every answered
``/predict``: what the reader sent, what came back and which votes the backend accepted.
:func:`ground_truth` computes the online quality figures from those visits only — never from
the event store — so they are the reference the dashboard's figures are checked against.

Definitions (the dashboard's, see ``monitoring/quality.py``):

- a *rated* visit has at least one accepted 👍 or 👎 of a book it showed;
- like rate = liked books / books shown, dislike rate = disliked books / books shown, both over
  rated visits; hit rate = share of rated visits with a like; MRR = mean over rated visits of
  1 / (1-based) rank of the best-ranked like, 0 without one;
- a *later favourite* is a book a reader sends on a visit that none of their earlier visits
  sent. It counts once overall (a hit when any earlier visit showed it in its top K), and once
  for each (model version, arm) that answered one of the reader's earlier visits (a hit when
  that one's answers showed it in their top K). Recall@K = hits / later favourites.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

ALL = "all"


@dataclass(frozen=True)
class Visit:
    """One answered ``/predict`` of one reader and the votes the backend accepted for it.

    ``number`` counts the reader's visits from 1 in the order they happened; ``sent`` and
    ``shown`` are book_ids (``shown`` best first); ``votes`` are ``(book_id, +1 | -1)``.
    """

    userid: str
    number: int
    sent: tuple[int, ...]
    request_id: str
    model_version: str
    arm: str
    shown: tuple[int, ...]
    votes: tuple[tuple[int, int], ...] = ()
    latency_ms: float = 0.0


@dataclass
class TruthRow:
    """The figures of one (model version, arm), or of every visit (``ALL``)."""

    model_version: str
    arm: str
    requests: int = 0
    rated_requests: int = 0
    shown: int = 0
    likes: int = 0
    dislikes: int = 0
    hits: int = 0
    reciprocal_ranks: float = 0.0
    favourites_added: int = 0
    favourites_hit: int = 0
    readers: set[str] = field(default_factory=set)

    @property
    def like_rate(self) -> float:
        return _ratio(self.likes, self.shown)

    @property
    def dislike_rate(self) -> float:
        return _ratio(self.dislikes, self.shown)

    @property
    def hit_rate(self) -> float:
        return _ratio(self.hits, self.rated_requests)

    @property
    def mrr(self) -> float:
        return _ratio(self.reciprocal_ranks, self.rated_requests)

    @property
    def recall(self) -> float:
        return _ratio(self.favourites_hit, self.favourites_added)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def ground_truth(visits: Sequence[Visit], k: int) -> list[TruthRow]:
    """One row per (model version, arm) in sorted order, then the ``ALL`` row; ``k`` of Recall@K."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    rows: dict[tuple[str, str], TruthRow] = {}
    total = TruthRow(ALL, ALL)

    def row(visit: Visit) -> TruthRow:
        key = (visit.model_version, visit.arm)
        return rows.setdefault(key, TruthRow(*key))

    for visit in visits:
        for target in (row(visit), total):
            target.requests += 1
            target.readers.add(visit.userid)
            votes = dict(visit.votes)  # a later vote on the same book replaces the earlier one
            counted = {book: value for book, value in votes.items() if book in visit.shown}
            if not counted:
                continue
            liked_ranks = [visit.shown.index(book) + 1 for book, value in counted.items() if value > 0]
            target.rated_requests += 1
            target.shown += len(visit.shown)
            target.likes += len(liked_ranks)
            target.dislikes += len(counted) - len(liked_ranks)
            target.hits += bool(liked_ranks)
            target.reciprocal_ranks += 1.0 / min(liked_ranks) if liked_ranks else 0.0

    by_reader: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_reader[visit.userid].append(visit)
    for reader_visits in by_reader.values():
        reader_visits.sort(key=lambda visit: visit.number)
        for index, visit in enumerate(reader_visits):
            earlier = reader_visits[:index]
            if not earlier:
                continue
            sent_before = {book for seen in earlier for book in seen.sent}
            for book in set(visit.sent) - sent_before:
                total.favourites_added += 1
                total.favourites_hit += any(book in seen.shown[:k] for seen in earlier)
                for key in {(seen.model_version, seen.arm) for seen in earlier}:
                    scope = rows[key]
                    scope.favourites_added += 1
                    scope.favourites_hit += any(
                        book in seen.shown[:k] for seen in earlier if (seen.model_version, seen.arm) == key
                    )
    return [rows[key] for key in sorted(rows)] + [total]


def format_truth(rows: Sequence[TruthRow], k: int) -> str:
    """The rows as a plain-text table, percentages with two decimals."""
    header = (
        "model_version",
        "arm",
        "readers",
        "requests",
        "rated",
        "likes",
        "dislikes",
        "like rate",
        "dislike rate",
        "hit rate",
        "MRR",
        "later favs",
        f"Recall@{k}",
    )
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.model_version,
                row.arm,
                str(len(row.readers)),
                str(row.requests),
                str(row.rated_requests),
                str(row.likes),
                str(row.dislikes),
                _percent(row.like_rate),
                _percent(row.dislike_rate),
                _percent(row.hit_rate),
                "—" if row.mrr != row.mrr else f"{row.mrr:.4f}",
                str(row.favourites_added),
                _percent(row.recall),
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in lines
    )


def _percent(value: float) -> str:
    return "—" if value != value else f"{value:.2%}"
