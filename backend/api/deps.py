"""Every injected dependency, named once as an ``Annotated`` alias.

The dependencies are ``async`` on purpose: they only read objects the lifespan built, and an
``async`` dependency runs inline instead of taking a threadpool hop on every request.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.event_writer import EventWriter
from backend.metrics import Metrics
from backend.offload import CpuPool
from backend.runtime import Runtime
from backend.serving import ModelHolder, ServingState
from backend.settings import BackendSettings
from readcrumbs.events.base import EventStore

_bearer = HTTPBearer(auto_error=False, description="READCRUMBS_ADMIN_TOKEN")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_serving_state(runtime: RuntimeDep) -> ServingState:
    """The served model; raises ModelNotReady (503) before one is loaded."""
    return runtime.models.current()


async def get_models(runtime: RuntimeDep) -> ModelHolder:
    return runtime.models


async def get_writer(runtime: RuntimeDep) -> EventWriter:
    return runtime.writer


async def get_store(runtime: RuntimeDep) -> EventStore:
    return runtime.store


async def get_metrics(runtime: RuntimeDep) -> Metrics:
    return runtime.metrics


async def get_settings(runtime: RuntimeDep) -> BackendSettings:
    return runtime.settings


async def get_cpu_pool(runtime: RuntimeDep) -> CpuPool:
    assert runtime.cpu is not None  # the lifespan made it
    return runtime.cpu


ServingDep = Annotated[ServingState, Depends(get_serving_state)]
ModelsDep = Annotated[ModelHolder, Depends(get_models)]
WriterDep = Annotated[EventWriter, Depends(get_writer)]
StoreDep = Annotated[EventStore, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SettingsDep = Annotated[BackendSettings, Depends(get_settings)]
CpuDep = Annotated[CpuPool, Depends(get_cpu_pool)]


async def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """404 while READCRUMBS_ADMIN_TOKEN is unset (the route does not exist); 401 without the token."""
    if settings.admin_token is None:
        raise HTTPException(status_code=404, detail="Not Found")
    expected = settings.admin_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    # Constant-time comparison: the answer's timing says nothing about how much of a guess matched.
    if not hmac.compare_digest(given, expected):
        raise HTTPException(
            status_code=401, detail="Missing or wrong bearer token.", headers={"WWW-Authenticate": "Bearer"}
        )


AdminDep = Depends(require_admin)
