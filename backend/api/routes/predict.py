"""Recommendations.

``POST /predict`` takes the direct route (:mod:`backend.api.direct_route`): a body that is
well-formed JSON for :class:`PredictRequest` goes straight to :func:`predict_books` with the
arguments FastAPI would inject; any other body gets FastAPI's own handler and error answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from backend.api.deps import CpuDep, RuntimeDep
from backend.api.direct_route import JSON, DirectJsonRoute
from backend.arms import label_record, shadow_prediction
from backend.offload import resolve_inline
from backend.predictions import predict
from backend.runtime import Runtime
from backend.schemas import PredictRequest, PredictResponse


class PredictRoute(DirectJsonRoute):
    """/predict's route: a validated body goes to :func:`predict_books` with the runtime and its pool."""

    body_model = PredictRequest

    async def direct(self, body: Any, request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        assert runtime.cpu is not None  # the lifespan made it
        return await predict_books(body, runtime, runtime.cpu)


router = APIRouter(tags=["predict"], route_class=PredictRoute)


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
    # async on purpose: scoring is a fraction of a ms of CPU; a threadpool hop per request cost
    # more than it saved, and each pool thread kept its own BLAS buffers (RSS 840 MiB at 32
    # connections).
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
    runtime.metrics.count_prediction(state.version)
    # The schema above is for the OpenAPI document; the answer is written from each book's card
    # (backend/answers.py).
    return Response(prediction.answer.json(route.response_arm), media_type=JSON)
