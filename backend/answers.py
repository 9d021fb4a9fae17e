"""The JSON of a ``/predict`` answer: plain dicts in the schema's field order, serialised once.

:class:`~backend.schemas.PredictResponse` documents the answer (the OpenAPI schema). Building it
as pydantic models validates every field of k :class:`~backend.schemas.RecommendedBook` on every
request, about a quarter of /predict's own work; the answer's values are ours and already of the right
types, so the hot path lays the same fields out as dicts and lets pydantic-core serialise them
(:func:`answer_json`), the same encoder the models use. Each book's fixed fields are its *card*,
made once per model version (:func:`book_cards`). ``tests/backend/test_answers.py`` checks that
the bytes are those of the schema's own ``model_dump_json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic_core

from readcrumbs.catalogue import Catalogue, Match

Card = Mapping[str, Any]


def book_cards(catalogue: Catalogue) -> dict[int, Card]:
    """book_id → the fields an answer shows of that book, in RecommendedBook's order."""
    return {
        book.book_id: {
            "book_id": book.book_id,
            "title": book.title,
            "authors": book.authors,
            "year": book.year,
            "image_url": book.image_url,
        }
        for book in catalogue.books
    }


def recommended_book(
    card: Card, score: float, because: list[str], because_genres: list[str]
) -> dict[str, Any]:
    """One RecommendedBook: the book's card, its score and the titles and genres that led to it."""
    return {**card, "score": score, "because": because, "because_genres": because_genres}


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


def answer(
    books: list[dict[str, Any]],
    request_id: str,
    model_version: str,
    resolved: list[dict[str, Any]],
    unknown: Sequence[int | str],
) -> dict[str, Any]:
    """A PredictResponse as a dict (``arm`` production until the route says otherwise)."""
    return {
        "recs": [book["title"] for book in books],
        "books": books,
        "request_id": request_id,
        "model_version": model_version,
        "resolved": resolved,
        "unknown": list(unknown),
        "arm": "production",
    }


def answer_json(answer: Mapping[str, Any]) -> bytes:
    """The answer's JSON, compact, as ``PredictResponse.model_dump_json()`` writes it."""
    return pydantic_core.to_json(answer)
