"""The JSON of a ``/predict`` answer, written from pieces encoded once per model version.

:class:`~backend.schemas.PredictResponse` documents the answer (the OpenAPI schema). Building it
as pydantic models validated k :class:`~backend.schemas.RecommendedBook` on every request, about
a quarter of /predict's own work; laying the same fields out as dicts and encoding those still
cost about 35 µs a request. Most of an answer never changes for a book: its id, title, authors,
year and cover. So each book's fixed fields are encoded once per model version (its *card*,
:func:`book_cards`), and an answer joins the cards of the shown books with the few values that
change per request (score, reasons, genres, the request's own fields), each encoded by
pydantic-core, the encoder the schema uses. ``tests/backend/test_answers.py`` checks that the
bytes are those of the schema's own ``model_dump_json``, for awkward text and every kind of float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pydantic_core

from readcrumbs.catalogue import Catalogue, Match
from readcrumbs.recommend import Recommendation

ShownArm = Literal["production", "challenger"]
_ARM_JSON: dict[str, bytes] = {"production": b'"production"}', "challenger": b'"challenger"}'}


def _json(value: Any) -> bytes:
    """``value`` as the schema writes it: compact, non-ASCII as is, NaN and infinities as null."""
    return pydantic_core.to_json(value, inf_nan_mode="null")


@dataclass(frozen=True, slots=True)
class Card:
    """One book's fixed part of an answer, encoded once.

    ``head``: its RecommendedBook object up to ``image_url`` included, left open for the fields
    that change per request; ``title_json``: its title as a JSON string (a reason names it).
    """

    title: str
    title_json: bytes
    head: bytes


def book_cards(catalogue: Catalogue) -> dict[int, Card]:
    """book_id → the book's :class:`Card`, its fields in RecommendedBook's order."""
    cards: dict[int, Card] = {}
    for book in catalogue.books:
        fields = {
            "book_id": book.book_id,
            "title": book.title,
            "authors": book.authors,
            "year": book.year,
            "image_url": book.image_url,
        }
        cards[book.book_id] = Card(book.title, _json(book.title), _json(fields)[:-1])  # drop the "}"
    return cards


def resolved_item(match: Match) -> dict[str, Any]:
    """One ResolvedItem: how ``match.item`` was matched to a book."""
    return {
        "item": match.item,
        "book_id": match.book.book_id,
        "title": match.book.title,
        "match": match.kind.value,
        "confidence": match.confidence,
        "alternatives": [book.book_id for book in match.alternatives],
    }


@dataclass(frozen=True, slots=True)
class Answer:
    """A PredictResponse's JSON but for its last field, ``arm``, which the route decides.

    ``head`` ends with ``"arm":``; :meth:`json` completes it.
    """

    head: bytes

    def json(self, arm: ShownArm) -> bytes:
        """The whole answer, shown as ``arm``'s."""
        return self.head + _ARM_JSON[arm]


def answer(
    shown: Sequence[Recommendation],
    cards: Mapping[int, Card],
    request_id: str,
    model_version: str,
    resolved: list[dict[str, Any]],
    unknown: Sequence[int | str],
) -> Answer:
    """The answer for the ``shown`` books (``book`` and ``because`` as book_ids), best first.

    ``resolved``: one :func:`resolved_item` per matched input; ``unknown``: the inputs no book
    matched, as given.
    """
    # One encoder call for every score: a float's JSON holds no comma.
    scores = _json([recommendation.score for recommendation in shown])[1:-1].split(b",") if shown else []
    books = b",".join(
        [
            b"".join(
                (
                    cards[recommendation.book].head,
                    b',"score":',
                    score,
                    b',"because":[',
                    b",".join([cards[reason].title_json for reason in recommendation.because]),
                    b'],"because_genres":',
                    _json(recommendation.because_genres) if recommendation.because_genres else b"[]",
                    b"}",
                )
            )
            for recommendation, score in zip(shown, scores, strict=True)
        ]
    )
    rest = _json(
        {
            "request_id": request_id,
            "model_version": model_version,
            "resolved": resolved,
            "unknown": list(unknown),
        }
    )
    return Answer(
        b"".join(
            (
                b'{"recs":[',
                b",".join([cards[recommendation.book].title_json for recommendation in shown]),
                b'],"books":[',
                books,
                b"],",
                rest[1:-1],  # its fields, without the braces
                b',"arm":',
            )
        )
    )
