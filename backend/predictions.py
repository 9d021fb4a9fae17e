"""Answering ``/predict``: resolve the reader's books, score with the served model, build the record.

Scoring is :meth:`readcrumbs.model_bundle.ModelBundle.recommend` (one reader's scores, ranked
exactly as offline evaluation's :func:`~readcrumbs.ranking.top_k`), so what the API returns is
what was evaluated. The answer is written as JSON from each book's card (:mod:`backend.answers`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from backend.answers import Answer, answer, resolved_item
from backend.errors import NoFavourites, NothingResolved
from backend.schemas import PredictRequest
from backend.serving import ServingState
from readcrumbs.catalogue import Resolution
from readcrumbs.events.records import PredictionRecord, new_id, utc_now_iso

SUGGESTIONS_PER_ITEM = 3
MAX_SUGGESTIONS = 5
# Fuzzy look-ups and suggestions score a few dozen trigram candidates each (readcrumbs/titles),
# off the event loop (backend/offload.py); still, a list of 500 typos gets them for its first few
# only (items and disliked items each), so one request's work stays bounded.
FUZZY_ITEMS = 20
SUGGESTED_ITEMS = 5
_NOTHING = Resolution([], [])


@dataclass(frozen=True)
class Resolved:
    """A request's books matched against the catalogue: its items and its disliked items."""

    items: Resolution
    disliked: Resolution


@dataclass(frozen=True)
class Prediction:
    """The answer to send (a PredictResponse's JSON, :mod:`backend.answers`) and the record to log."""

    answer: Answer
    record: PredictionRecord


def predict(state: ServingState, request: PredictRequest, resolved: Resolved | None = None) -> Prediction:
    """Recommend ``request.k`` books for ``request.items``, steered by its genres and dislikes.

    ``resolved``: the request's books already matched against ``state.catalogue``
    (:func:`backend.offload.resolve_inline`); resolved here when None.

    Raises :class:`NoFavourites` when there are neither items nor genres,
    :class:`~readcrumbs.errors.UnknownGenre` for a genre no book carries, and
    :class:`NothingResolved` (with close titles) when no item matches a book and no genre was
    given. Unknown items among known ones are reported, not fatal.
    """
    started = time.perf_counter()
    if not request.items and not request.genres:
        raise NoFavourites()
    catalogue = state.catalogue
    genres = state.bundle.facts.known_genres(request.genres)
    if resolved is None:
        resolved = Resolved(
            catalogue.resolve(request.items, max_fuzzy=FUZZY_ITEMS) if request.items else _NOTHING,
            catalogue.resolve(request.disliked, max_fuzzy=FUZZY_ITEMS) if request.disliked else _NOTHING,
        )
    resolution, disliked = resolved.items, resolved.disliked
    if not resolution.matches and not genres:
        raise NothingResolved(resolution.unknown, suggestions_for(state, resolution))
    favourite_ids = resolution.book_ids
    # Never a given book: ranking masks them and returns fewer than k rather than pad with one.
    recommendations = state.bundle.recommend(
        favourite_ids,
        request.k,
        disliked=disliked.book_ids,
        genres=genres,
        one_per_series=request.one_per_series,
    )
    cards = state.cards
    request_id = new_id()
    unknown = [*resolution.unknown, *disliked.unknown]
    answered = answer(
        recommendations,
        cards,
        request_id,
        state.version,
        [resolved_item(match) for match in resolution.matches],
        unknown,
    )
    record = PredictionRecord(
        request_id=request_id,
        ts=utc_now_iso(),
        userid=request.userid,
        items=[str(item) for item in request.items],
        item_ids=favourite_ids,
        prediction=[cards[recommendation.book].title for recommendation in recommendations],
        prediction_ids=[recommendation.book for recommendation in recommendations],
        scores=[recommendation.score for recommendation in recommendations],
        latency_ms=(time.perf_counter() - started) * 1000.0,
        model_version=state.version,
        unknown=[str(item) for item in unknown],
        k=request.k,
    )
    return Prediction(answered, record)


def suggestions_for(state: ServingState, resolution: Resolution) -> list[str]:
    """A few titles close to the unknown items, closest first, each once."""
    titles: dict[str, None] = {}
    for item in resolution.unknown[:SUGGESTED_ITEMS]:
        if isinstance(item, str):
            titles.update(dict.fromkeys(state.catalogue.suggest(item, SUGGESTIONS_PER_ITEM)))
    return list(titles)[:MAX_SUGGESTIONS]
