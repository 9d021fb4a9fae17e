"""Operator actions, behind the READCRUMBS_ADMIN_TOKEN bearer token."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import AdminDep, ModelsDep
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
def reload_model(models: ModelsDep) -> ReloadResponse:
    """Serve the registry's production version now; a corrupt version is refused and the old one serves on."""
    reload = models.reload()
    return ReloadResponse(
        outcome=reload.outcome.value,
        model_version=str(reload.version),
        previous_version=str(reload.previous) if reload.previous is not None else None,
    )
