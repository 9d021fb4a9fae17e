"""Recommendations.

``POST /predict`` is served by :class:`PredictRoute`: a body that is well-formed JSON for
:class:`PredictRequest` goes straight to :func:`predict_books`, skipping FastAPI's per-request
dependency solving (about a fifth of the framework's work per request, bench/api.py); every other
body takes FastAPI's own handler, so errors (422 and its details) are exactly FastAPI's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError

from backend.answers import answer_json
from backend.api.deps import CpuDep, RuntimeDep
from backend.arms import label_record, shadow_prediction
from backend.offload import resolve_inline
from backend.predictions import predict
from backend.runtime import Runtime
from backend.schemas import PredictRequest, PredictResponse

JSON = "application/json"


class PredictRoute(APIRoute):
    """FastAPI's route, with a direct path for a JSON body that validates as the endpoint's.

    The direct path calls the same endpoint with the arguments FastAPI would inject (the body,
    the runtime and its CPU pool). A body that is not ``application/json`` or does not validate
    goes to FastAPI's handler, which answers it as it always has.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        documented = super().get_route_handler()

        async def handler(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if content_type.partition(";")[0].strip().lower() != JSON:
                return await documented(request)
            try:
                body = PredictRequest.model_validate_json(await request.body())
            except ValidationError:
                return await documented(request)  # the body is cached: FastAPI reads it again
            runtime: Runtime = request.app.state.runtime
            assert runtime.cpu is not None  # the lifespan made it
            return await predict_books(body, runtime, runtime.cpu)

        return handler


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
    answer = prediction.answer
    answer["arm"] = route.response_arm
    # The schema above is for the OpenAPI document; the answer is its fields as dicts (backend/answers.py).
    return Response(answer_json(answer), media_type=JSON)
