"""Recommendations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend.api.deps import CpuDep, RuntimeDep, ServingDep
from backend.predictions import predict
from backend.schemas import PredictRequest, PredictResponse

router = APIRouter(tags=["predict"])
# Longer lists are resolved in the CPU pool outright: normalising hundreds of long titles alone
# takes the event loop milliseconds.
INLINE_ITEMS = 32


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses={
        400: {"description": "No items, or none of them matched a book (with suggestions)."},
        413: {"description": "Body over 64 KiB."},
        503: {"description": "No model loaded yet."},
    },
)
async def predict_books(
    body: PredictRequest, state: ServingDep, runtime: RuntimeDep, cpu: CpuDep
) -> Response:
    """Recommend k books for a reader's favourites (titles or book_ids); inputs are never recommended back."""
    # async on purpose: scoring is ~1 ms of CPU; a threadpool hop per request cost more than it
    # saved, and each pool thread kept its own BLAS buffers (RSS 840 MiB at 32 connections).
    # Exact and normalized matches are dict look-ups; anything else (fuzzy matching, suggestions:
    # catalogue scans) goes to the bounded CPU pool so it cannot stall the event loop.
    exact = state.catalogue.resolve(body.items, max_fuzzy=0) if len(body.items) <= INLINE_ITEMS else None
    if exact is None or exact.unknown:
        prediction = await cpu.run(predict, state, body)
    else:
        prediction = predict(state, body, exact)
    await runtime.writer.submit_async(prediction.record)
    runtime.metrics.predictions.labels(model_version=state.version).inc()
    # Serialised once by pydantic-core; the schema above is for the OpenAPI document.
    return Response(prediction.response.model_dump_json(), media_type="application/json")
