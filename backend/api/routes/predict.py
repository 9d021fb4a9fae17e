"""Recommendations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend.api.deps import RuntimeDep, ServingDep
from backend.predictions import predict
from backend.schemas import PredictRequest, PredictResponse

router = APIRouter(tags=["predict"])


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses={
        400: {"description": "No items, or none of them matched a book (with suggestions)."},
        413: {"description": "Body over 64 KiB."},
        503: {"description": "No model loaded yet."},
    },
)
async def predict_books(body: PredictRequest, state: ServingDep, runtime: RuntimeDep) -> Response:
    """Recommend k books for a reader's favourites, genres and dislikes; given books are never recommended."""
    # async on purpose: scoring is ~1 ms of CPU; a threadpool hop per request cost more than it
    # saved, and each pool thread kept its own BLAS buffers (RSS 840 MiB at 32 connections).
    prediction = predict(state, body)
    runtime.writer.submit(prediction.record)
    runtime.metrics.predictions.labels(model_version=state.version).inc()
    # Serialised once by pydantic-core; the schema above is for the OpenAPI document.
    return Response(prediction.response.model_dump_json(), media_type="application/json")
