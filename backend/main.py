"""The app factory: ``create_app(settings)`` builds the FastAPI app of the ReadCrumbs backend.

Nothing happens at import time. Building the app does no I/O either; the lifespan opens the
event store and registry, loads the production model and starts the event writer, and on
shutdown (SIGTERM included: uvicorn turns it into a graceful shutdown) writes or spools every
queued record before the process exits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from backend.api.routes import admin, books, feedback, genres, health, metrics, predict, random
from backend.api.routes.docs import mount_docs
from backend.errors import install_error_handlers
from backend.metrics import Metrics
from backend.middleware import BodySizeLimit, RequestMetrics, SecurityHeaders
from backend.offload import CpuPool
from backend.rate_limit import RateLimit
from backend.runtime import Runtime
from backend.settings import BackendSettings
from readcrumbs.events.base import EventStore
from readcrumbs.registry import Registry


def create_app_from_env() -> FastAPI:
    """The app of one worker process (``python -m backend --workers N``): settings from the environment."""
    from backend.logging_config import configure_logging
    from backend.server_process import tune_server_process
    from backend.settings import get_settings

    tune_server_process()
    settings = get_settings()
    configure_logging(settings.log_level_number)
    return create_app(settings)


def create_app(
    settings: BackendSettings,
    *,
    registry: Registry | None = None,
    event_store: EventStore | None = None,
) -> FastAPI:
    """The backend app. ``registry`` and ``event_store`` override the settings' URLs (tests);
    an injected store is left open at shutdown for its owner to inspect and close."""
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await run_in_threadpool(
            Runtime.start, settings, app_metrics, registry=registry, event_store=event_store
        )
        runtime.cpu = CpuPool(settings.cpu_threads)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await run_in_threadpool(runtime.stop)

    app = FastAPI(
        title="ReadCrumbs",
        summary="Book recommendations from a few favourite books.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # our own /docs: Swagger UI from the package, not a CDN (api/routes/docs.py)
        redoc_url=None,
    )
    # /predict first: the router tries routes in order, and it takes most of the traffic.
    for module in (predict, health, feedback, random, books, genres, metrics, admin):
        app.include_router(module.router)
    mount_docs(app)
    install_error_handlers(app)
    # Added innermost first: CORS wraps metrics, which wraps the rate limit, which wraps the body
    # limit, which wraps the routes. A client over its limit is refused before its body is read.
    app.add_middleware(BodySizeLimit)
    if settings.rate_limit_per_min > 0:
        app.add_middleware(
            RateLimit,
            per_minute=settings.rate_limit_per_min,
            metrics=app_metrics,
            exempt=settings.rate_limit_exempt,
        )
    app.add_middleware(RequestMetrics, metrics=app_metrics, log_requests=settings.access_log)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(SecurityHeaders)  # outermost: every answer, refusals included
    return app
