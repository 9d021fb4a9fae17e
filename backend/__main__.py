"""``python -m backend [--host H] [--port P] [--workers N]``: serve the production model with uvicorn.

``--workers`` (default ``READCRUMBS_WORKERS``, 1) starts that many server processes on one port;
each loads the model and runs its own event writer with its own spool folder.

Exits with status 2 and a one-line message when the registry has no production model yet, or
cannot be reached and no last good version is cached locally (``$READCRUMBS_HOME/cache``).
"""

from __future__ import annotations

import os

# One BLAS thread per server process, set before numpy loads: requests already run side by side,
# and one reader's fold-in (a 128×128 solve, a 10k×128 product) only loses time to BLAS threads
# starting and fighting over the cores (measured: recommend p50 124 ms vs 7 ms on 2 busy cores).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

from starlette.types import ASGIApp  # noqa: E402

from backend.connections import (  # noqa: E402
    PROTOCOL_PATH,
    ConnectionLimits,
    GuardedHttpProtocol,
    effective_limits,
    raise_file_limit,
)
from backend.logging_config import configure_logging  # noqa: E402
from backend.model_cache import ModelCache  # noqa: E402
from backend.server_process import tune_server_process  # noqa: E402
from backend.settings import BackendSettings, get_settings  # noqa: E402
from readcrumbs.errors import ReadCrumbsError, StoreError  # noqa: E402
from readcrumbs.registry import PRODUCTION, open_registry  # noqa: E402

log = logging.getLogger("backend")


def serve(
    app: ASGIApp | str,
    host: str,
    port: int,
    *,
    limits: ConnectionLimits | None = None,
    keep_alive_s: int = 5,
    workers: int = 1,
) -> None:
    """Run ``app`` with the backend's server options until SIGINT/SIGTERM (then shut down gracefully).

    uvicorn's default loop (uvloop when installed) with :class:`~backend.connections.GuardedHttpProtocol`
    (header/body timeouts, connection caps); ``app`` is an app, or with ``workers`` > 1 the import
    path of an app factory. bench/api.py serves its bare endpoint through here too, so both run alike.
    """
    import uvicorn

    GuardedHttpProtocol.limits = effective_limits(limits or ConnectionLimits(), raise_file_limit())
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=PROTOCOL_PATH,
        workers=workers if workers > 1 else None,
        factory=isinstance(app, str),
        timeout_keep_alive=keep_alive_s,
        log_config=None,  # keep configure_logging's JSON handler
        access_log=False,  # RequestMetrics logs requests when READCRUMBS_ACCESS_LOG is on
        timeout_graceful_shutdown=20,
    )


def production_version(settings: BackendSettings) -> int | None:
    """The version behind the registry's production alias, or None."""
    return open_registry(settings).alias(settings.model_name, PRODUCTION)


def one_line(error: Exception) -> str:
    """An error's message on one line (botocore's can span several)."""
    return " ".join(str(error).split())


def main(argv: list[str] | None = None) -> int:
    tune_server_process()
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="default 127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default $PORT or 8000"
    )
    parser.add_argument("--workers", type=int, default=None, help="default $READCRUMBS_WORKERS or 1")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError names each bad variable
        print(f"Bad settings:\n{exc}", file=sys.stderr)
        return 2
    workers = args.workers if args.workers is not None else settings.workers
    if workers < 1:
        print(f"--workers must be at least 1, got {workers}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level_number)
    try:
        version = production_version(settings)
    except StoreError as exc:  # unreachable (a malformed URL is a ConfigError, below)
        try:
            # Verified now, so a corrupt copy is a clear exit here rather than a server never ready.
            version = ModelCache(settings.model_cache_dir).load(settings.model_name)[0].version
        except ReadCrumbsError as cache_exc:
            print(
                f"Cannot read the model registry {settings.resolved_registry_url} ({one_line(exc)}) and "
                f"{one_line(cache_exc)}: nothing to serve.",
                file=sys.stderr,
            )
            return 2
        log.warning(
            "cannot read the model registry %s (%s); starting with the locally cached v%d",
            settings.resolved_registry_url,
            one_line(exc),
            version,
        )
    except ReadCrumbsError as exc:  # a malformed URL, or garbage in the production alias
        print(
            f"Cannot read the model registry {settings.resolved_registry_url}: {one_line(exc)}",
            file=sys.stderr,
        )
        return 2
    if version is None:
        print(
            f"No production model of {settings.model_name!r} in {settings.resolved_registry_url}.\n"
            "Run `make train` first: it trains, evaluates, registers and promotes one.",
            file=sys.stderr,
        )
        return 2
    from backend.main import create_app

    log.info(
        "starting on http://%s:%d with %s v%d, %d worker(s)",
        args.host,
        args.port,
        settings.model_name,
        version,
        workers,
    )
    # Several workers each build the app in their own process, from the same environment.
    app: ASGIApp | str = create_app(settings) if workers == 1 else "backend.main:create_app_from_env"
    serve(
        app,
        args.host,
        args.port,
        limits=settings.connection_limits,
        keep_alive_s=settings.keep_alive_s,
        workers=workers,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
