"""A random logged prediction (the prototype's /random)."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import StoreDep
from backend.errors import NoPredictionLogged
from backend.schemas import RandomPredictionPublic

router = APIRouter(tags=["predict"])


@router.get(
    "/random", response_model=RandomPredictionPublic, responses={404: {"description": "Nothing logged yet."}}
)
def get_random_prediction(store: StoreDep) -> RandomPredictionPublic:
    """One logged prediction chosen at random."""
    record = store.random_prediction()
    if record is None:
        raise NoPredictionLogged("No prediction has been logged yet.")
    return RandomPredictionPublic(
        request_id=record.request_id,
        timestamp=record.ts,
        user_id=record.userid,
        items=record.items,
        item_ids=record.item_ids,
        prediction=record.prediction,
        prediction_ids=record.prediction_ids,
        scores=record.scores,
        latency_ms=record.latency_ms,
        model_version=record.model_version,
        unknown=record.unknown,
        k=record.k,
    )
