"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import RuntimeDep, ServingDep
from backend.schemas import ChallengerPublic, EventStorePublic, HealthResponse, ModelPublic, ReadyResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
async def get_health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


# HEAD as its own operation: load balancers probe with it, and sharing get_health's route would
# give the OpenAPI document two operations with one id.
@router.head("/health", include_in_schema=False)
async def head_health() -> None:
    """Liveness without a body."""


@router.get("/ready", response_model=ReadyResponse, responses={503: {"description": "No model loaded yet."}})
def get_ready(state: ServingDep, runtime: RuntimeDep) -> ReadyResponse:
    """Readiness: the served models, catalogue size and event store state (503 until a model is loaded)."""
    challenger = runtime.challenger.state
    settings = runtime.settings
    return ReadyResponse(
        model=ModelPublic.from_state(state).model_copy(
            update={"fallback_reason": runtime.fallback_reason if state.source.value == "cache" else None}
        ),
        challenger=None
        if challenger is None
        else ChallengerPublic(
            model=ModelPublic.from_state(challenger),
            mode=settings.challenger_mode,
            share=settings.challenger_share,
        ),
        catalogue_size=len(state.catalogue),
        event_store=EventStorePublic(
            kind=runtime.store.url.split(":", 1)[0],
            state=runtime.event_store_state(),
            queue_depth=runtime.writer.queue_depth,
            held=runtime.writer.held,
            spooled=runtime.writer.spool.count,
        ),
    )
