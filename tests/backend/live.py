"""Real servers for tests on 127.0.0.1: an app under uvicorn in a thread, or ``python -m backend``
in its own process waited on until it is ready."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn (lifespan included) and yield its base URL; stop it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    url: str, process: subprocess.Popen[Any], log: Path | None = None, timeout_s: float = 60
) -> None:
    """Wait until the backend ``process`` at ``url`` answers ``/ready`` with 200.

    Fails the test when the process exits first (with its stderr: ``log`` when it writes there,
    else its pipe) or when ``timeout_s`` pass.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, log.read_text() if log is not None else process.communicate()[1]
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "backend never became ready"
        time.sleep(0.05)


@contextmanager
def backend_process(
    env: dict[str, str],
    cwd: Path,
    *,
    ready_timeout_s: float = 60,
    stop_timeout_s: float = 30,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[str]:
    """``python -m backend`` on a free port of 127.0.0.1 with ``env``; yields its URL once ready.

    Its stderr goes to ``cwd / "backend.log"`` (a file, not a pipe nobody reads while it fills);
    on exit it gets SIGTERM, and is killed if it has not stopped within ``stop_timeout_s``.
    """
    port = free_port()
    command = [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)]
    log = cwd / "backend.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(command, env=env, cwd=cwd, stderr=log_file, preexec_fn=preexec_fn)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, process, log, timeout_s=ready_timeout_s)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
