"""Operator actions, behind the READCRUMBS_ADMIN_TOKEN bearer token."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import AdminDep, ModelsDep, RuntimeDep
from backend.arms import reload_challenger
from backend.schemas import ReloadResponse

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[AdminDep])


@router.post(
    "/reload",
    response_model=ReloadResponse,
    responses={
        401: {"description": "Missing or wrong bearer token."},
        404: {"description": "READCRUMBS_ADMIN_TOKEN is unset: admin routes are off."},
        409: {"description": "The registry refused the version (no production alias, bad checksum)."},
    },
)
def reload_model(models: ModelsDep, runtime: RuntimeDep) -> ReloadResponse:
    """Serve the registry's production and challenger versions now; a corrupt one is refused."""
    reload = models.reload()
    outcome, version = reload_challenger(runtime.challenger)
    return ReloadResponse(
        outcome=reload.outcome.value,
        model_version=str(reload.version),
        previous_version=str(reload.previous) if reload.previous is not None else None,
        challenger_outcome=outcome,
        challenger_version=version,
    )
