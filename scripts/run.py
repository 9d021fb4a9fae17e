"""``make run``: make sure a production model exists, then run the three services under honcho.

Steps: (1) :func:`~scripts.ensure_model.ensure_production_model` trains and promotes a model only
when the registry has no production version, so a second run skips straight to (2); (2) honcho
starts the ``Procfile`` (backend, readers' app, dashboard) with this venv first on ``PATH``;
(3) once each service answers its health URL the addresses are printed; (4) Ctrl-C (SIGINT) or
SIGTERM stops all three, and honcho stops the rest as soon as any one of them exits.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import FrameType

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from readcrumbs.errors import ReadCrumbsError
from readcrumbs.settings import get_settings
from scripts.ensure_model import ensure_production_model

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
HEALTH_POLL_S = 0.5
# honcho sends SIGTERM, then SIGKILL after 5 s; give it that and a margin to report.
SHUTDOWN_GRACE_S = 15.0


class RunSettings(BaseSettings):
    """Where ``make run`` puts the services; variables prefixed ``READCRUMBS_``."""

    model_config = SettingsConfigDict(env_prefix="READCRUMBS_", env_file=".env", extra="ignore", frozen=True)

    bind_host: str = Field("127.0.0.1", description="Address the three services listen on.")
    backend_port: int = Field(8000, ge=1, le=65535, description="Port of the backend's HTTP API.")
    frontend_port: int = Field(8501, ge=1, le=65535, description="Port of the readers' app.")
    monitoring_port: int = Field(8502, ge=1, le=65535, description="Port of the operators' dashboard.")
    startup_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="Seconds to wait for all three to answer before warning."
    )


@lru_cache
def get_run_settings() -> RunSettings:
    """This process's run settings, read from the environment (and ``.env``) once."""
    return RunSettings()


@dataclass(frozen=True)
class Service:
    """One process of the Procfile: what people open and the URL that says it is up."""

    label: str
    url: str
    health_url: str


def services(run: RunSettings) -> list[Service]:
    """The three services at the addresses ``run`` gives them, in the order they are shown."""
    # A wildcard bind is reachable on loopback; it is not itself an address to open.
    host = "127.0.0.1" if run.bind_host in ("0.0.0.0", "::", "") else run.bind_host
    return [
        Service(
            "readers' app",
            f"http://{host}:{run.frontend_port}",
            f"http://{host}:{run.frontend_port}/_stcore/health",
        ),
        Service(
            "dashboard",
            f"http://{host}:{run.monitoring_port}",
            f"http://{host}:{run.monitoring_port}/_stcore/health",
        ),
        Service("API", f"http://{host}:{run.backend_port}", f"http://{host}:{run.backend_port}/health"),
    ]


def service_environment(
    base: Mapping[str, str], run: RunSettings, python: str = sys.executable
) -> dict[str, str]:
    """The environment honcho passes on: ``base``, this venv first on PATH, and the ports."""
    env = dict(base)
    # The Procfile says `python` and `streamlit`: make them this interpreter's, not the system's.
    bin_dir = str(Path(python).parent)
    env["PATH"] = os.pathsep.join(
        [bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir)]
    )
    env["READCRUMBS_BIND_HOST"] = run.bind_host
    env["READCRUMBS_BACKEND_PORT"] = str(run.backend_port)
    env["READCRUMBS_FRONTEND_PORT"] = str(run.frontend_port)
    env["READCRUMBS_MONITORING_PORT"] = str(run.monitoring_port)
    env.setdefault("READCRUMBS_API_URL", services(run)[-1].url)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def answers(url: str, timeout_s: float = 2.0) -> bool:
    """Whether ``url`` answers GET with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until_serving(supervisor: subprocess.Popen[bytes], targets: list[Service], timeout_s: float) -> bool:
    """Poll every health URL until all answer (True), the supervisor exits or time runs out (False)."""
    pending = list(targets)
    deadline = time.monotonic() + timeout_s
    while pending and supervisor.poll() is None and time.monotonic() < deadline:
        pending = [service for service in pending if not answers(service.health_url)]
        if pending:
            time.sleep(HEALTH_POLL_S)
    return not pending


def banner(targets: list[Service], model: str) -> str:
    """The lines printed once everything answers."""
    width = max(len(service.label) for service in targets)
    lines = [f"ReadCrumbs is running ({model}):"]
    lines += [f"  {service.label:<{width}}  {service.url}" for service in targets]
    lines += [f"  {'API docs':<{width}}  {targets[-1].url}/docs", "Press Ctrl-C to stop all three."]
    return "\n".join(lines)


def supervise(run: RunSettings, model: str) -> int:
    """Run the Procfile under honcho until it exits; its exit status."""
    # honcho would load .env over the environment; the services read .env themselves, with the
    # environment first (pydantic-settings), so the ports computed here are the ones they use.
    command = [
        sys.executable, "-m", "honcho", "start",
        "--env", os.devnull, "--procfile", str(PROCFILE), "--app-root", str(ROOT),
    ]  # fmt: skip
    supervisor = subprocess.Popen(command, env=service_environment(os.environ, run), cwd=ROOT)

    def forward(signum: int, _frame: FrameType | None) -> None:
        # honcho stops every service on SIGINT or SIGTERM; sending it twice is harmless.
        if supervisor.poll() is None:
            supervisor.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    targets = services(run)
    if wait_until_serving(supervisor, targets, run.startup_timeout_s):
        print(banner(targets, model), flush=True)
    elif supervisor.poll() is None:
        print(f"warning: not every service answered within {run.startup_timeout_s:.0f} s", file=sys.stderr)
    try:
        return supervisor.wait()
    except KeyboardInterrupt:  # pragma: no cover - only when a handler could not be installed
        supervisor.send_signal(signal.SIGINT)
        return supervisor.wait(timeout=SHUTDOWN_GRACE_S)


def main() -> int:
    """Ensure a production model, then run the services; the supervisor's exit status."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = get_settings()
        run = get_run_settings()
        version = ensure_production_model(settings)
    except (ReadCrumbsError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return supervise(run, f"{settings.model_name} v{version}")


if __name__ == "__main__":
    sys.exit(main())
