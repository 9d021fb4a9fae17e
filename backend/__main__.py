"""``python -m backend [--host H] [--port P]``: serve the registry's production model with uvicorn.

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

from backend.logging_config import configure_logging  # noqa: E402
from backend.model_cache import ModelCache  # noqa: E402
from backend.settings import BackendSettings, get_settings  # noqa: E402
from readcrumbs.errors import ReadCrumbsError, StoreError  # noqa: E402
from readcrumbs.registry import PRODUCTION, open_registry  # noqa: E402

log = logging.getLogger("backend")


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Run ``app`` with the backend's server options until SIGINT/SIGTERM (then shut down gracefully).

    One worker, uvicorn's default loop and HTTP parser (uvloop and httptools when installed);
    bench/api.py serves its bare endpoint through here too, so both run alike.
    """
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
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
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="default 127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default $PORT or 8000"
    )
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError names each bad variable
        print(f"Bad settings:\n{exc}", file=sys.stderr)
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
    except ReadCrumbsError as exc:
        print(f"Cannot read the model registry {settings.resolved_registry_url}: {exc}", file=sys.stderr)
        return 2
    if version is None:
        print(
            f"No production model of {settings.model_name!r} in {settings.resolved_registry_url}.\n"
            "Run `make train` first: it trains, evaluates, registers and promotes one.",
            file=sys.stderr,
        )
        return 2
    from backend.main import create_app

    log.info("starting on http://%s:%d with %s v%d", args.host, args.port, settings.model_name, version)
    serve(create_app(settings), args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
