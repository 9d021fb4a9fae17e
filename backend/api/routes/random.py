"""A random logged prediction (the prototype's /random)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from backend.api.deps import StoreDep
from backend.errors import NoPredictionLogged
from backend.schemas import RandomPredictionPublic, random_prediction_public

router = APIRouter(tags=["predict"])


@router.get(
    "/random", response_model=RandomPredictionPublic, responses={404: {"description": "Nothing logged yet."}}
)
def get_random_prediction(store: StoreDep) -> BaseModel:
    """One logged prediction chosen at random."""
    record = store.random_prediction()
    if record is None:
        raise NoPredictionLogged("No prediction has been logged yet.")
    return random_prediction_public(record)
