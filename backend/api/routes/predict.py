"""Recommendations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend.api.deps import CpuDep, RuntimeDep
from backend.arms import label_record, shadow_prediction
from backend.offload import resolve_inline
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
async def predict_books(body: PredictRequest, runtime: RuntimeDep, cpu: CpuDep) -> Response:
    """Recommend k books for a reader's favourites, genres and dislikes; given books are never recommended."""
    # async on purpose: scoring is ~1 ms of CPU; a threadpool hop per request cost more than it
    # saved, and each pool thread kept its own BLAS buffers (RSS 840 MiB at 32 connections).
    route = runtime.route(body.userid)  # production or challenger, by reader; see backend/arms.py
    state = route.shown
    resolved = resolve_inline(state.catalogue, body)
    if resolved is None:  # fuzzy matching, suggestions: off the event loop
        prediction = await cpu.run(predict, state, body)
        shadow = await cpu.run(shadow_prediction, route.shadow, body)
    else:
        prediction = predict(state, body, resolved)
        shadow = shadow_prediction(route.shadow, body)
    await runtime.writer.submit_async(label_record(prediction.record, route.arm, shadow))
    runtime.metrics.predictions.labels(model_version=state.version).inc()
    response = prediction.response.model_copy(update={"arm": route.response_arm})
    # Serialised once by pydantic-core; the schema above is for the OpenAPI document.
    return Response(response.model_dump_json(), media_type="application/json")
