"""Bench servers: start a server subprocess on 127.0.0.1, wait for it, read its memory, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench.models import ModelSource

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
# Ports handed out from here on when set (``use_ports``); else any free port.
_next_port: list[int] = []


def use_ports(first: int) -> None:
    """Hand out ports ``first``, ``first + 1``, … instead of any free port (0: any free port)."""
    _next_port[:] = [first] if first else []


def free_port() -> int:
    """The next port of :func:`use_ports`' range that is free, or any free port."""
    while _next_port:
        port = _next_port[0]
        _next_port[0] += 1
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> float:
    """Seconds until ``url`` answers 200 (the process was started just before)."""
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"{url} did not answer 200 within {timeout_s:.0f} s")
        time.sleep(0.01)


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, stopped with SIGTERM (then killed if it lingers) on exit."""
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def memory_mib(pid: int) -> dict[str, float]:
    """Resident set size now and at its peak (VmRSS, VmHWM), in MiB; Linux only."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024.0
    return {"rss_mib": fields.get("VmRSS", float("nan")), "peak_rss_mib": fields.get("VmHWM", float("nan"))}


def cpu_seconds(pids: Iterable[int], *, main_thread_only: bool = False) -> float:
    """User and system CPU seconds the processes ``pids`` have used so far; Linux only.

    All their threads, or only each one's main thread (a server's event loop) with ``main_thread_only``.
    """
    ticks = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/task/{pid}/stat" if main_thread_only else f"/proc/{pid}/stat")
        # The fields after the command's ")": utime and stime are the 12th and 13th of them.
        fields = stat.read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_env(work: Path, source: ModelSource) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("READCRUMBS_")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
            "WANDB_MODE": "disabled",
            "READCRUMBS_HOME": str(work / "home"),
            "READCRUMBS_REGISTRY_URL": source.registry_url,
            "READCRUMBS_EVENTS_URL": f"sqlite:///{work / 'events.db'}",
            "READCRUMBS_MODEL_NAME": source.model_name,
            "READCRUMBS_LOG_LEVEL": "WARNING",
        }
    )
    if "READCRUMBS_SEED" in os.environ:
        env["READCRUMBS_SEED"] = os.environ["READCRUMBS_SEED"]
    return env


def start_server(
    servers: ExitStack, command: list[str], env: dict[str, str]
) -> tuple[int, subprocess.Popen[bytes], float]:
    """Start ``command --port P`` (stopped when ``servers`` closes): its port, process and the
    seconds until ``/ready`` answered 200."""
    port = free_port()
    process = servers.enter_context(running([*command, "--port", str(port)], env))
    return port, process, wait_for(f"http://{HOST}:{port}/ready", process)
