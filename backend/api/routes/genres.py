"""The genres readers can start from."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import ServingDep
from backend.schemas import GenrePublic, GenresResponse

router = APIRouter(prefix="/genres", tags=["books"])


@router.get("", response_model=GenresResponse, responses={503: {"description": "No model loaded yet."}})
async def list_genres(state: ServingDep) -> GenresResponse:
    """The genres of the served catalogue (cleaned goodbooks tags) with book counts, most books first."""
    genres = state.catalogue.genres()
    return GenresResponse(genres=[GenrePublic(name=name, books=count) for name, count in genres])
