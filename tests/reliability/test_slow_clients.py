"""Issue 15, failure 1: a client holding many sockets open with half a request cannot starve others.

A real ``python -m backend`` runs with its open-file limit lowered to 256 (as a small container
would have). A hostile client on 127.0.0.2 opens 400 sockets, each with half a request line or
10 bytes of a ``Content-Length: 1000`` body, and keeps topping them up. Before the fix the server
held every one of them forever, ran out of file descriptors, and ``/health`` from 127.0.0.1 was
never answered. Now the hostile sockets beyond its per-client cap are refused at once (503), the
rest are cut off after the header/body timeouts (408 or closed), and ``/health`` stays answered.
Bounded: about 10 s, 127.0.0.1 only.
"""

from __future__ import annotations

import os
import resource
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backend.live import backend_process
from tests.backend.tiny import MODEL_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
FILE_LIMIT = 256
HOSTILE_SOCKETS = 400
HOSTILE_ADDRESS = "127.0.0.2"  # all of 127/8 is loopback on Linux: another client, same machine
HEADER_TIMEOUT_S = 1.5
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux (127.0.0.2, rlimits)")


def low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@pytest.fixture
def backend(tmp_path: Path, registry_folder: Path) -> Iterator[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("READCRUMBS_")},
        "READCRUMBS_HOME": str(tmp_path / "home"),
        "READCRUMBS_MODEL_NAME": MODEL_NAME,
        "READCRUMBS_REGISTRY_URL": f"file://{registry_folder}",
        "READCRUMBS_EVENTS_URL": f"sqlite:///{tmp_path / 'events.db'}",
        "READCRUMBS_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "READCRUMBS_BODY_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "READCRUMBS_MAX_CONNECTIONS_PER_CLIENT": "50",
        "WANDB_MODE": "disabled",
        "PYTHONPATH": str(REPO_ROOT),  # this checkout's code, not whichever the venv points at
    }
    limited = backend_process(env, tmp_path, ready_timeout_s=30, stop_timeout_s=20, preexec_fn=low_file_limit)
    with limited as url:
        yield url


def hostile_socket(port: int, n: int) -> socket.socket | None:
    """A connection from HOSTILE_ADDRESS that sends only part of a request."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(HOSTILE_ADDRESS, 0))
        if n % 4:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x")  # half the headers
        else:
            sock.sendall(b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
        return sock
    except OSError:  # refused or reset: the server is shedding this client, as it should
        return None


def test_slow_clients_holding_many_sockets_cannot_starve_health(backend):
    port = int(backend.rsplit(":", 1)[1])
    held: list[socket.socket] = []
    probes: list[int | str] = []
    try:
        stop_at = time.monotonic() + 3 * HEADER_TIMEOUT_S + 3
        while time.monotonic() < stop_at:
            held = [sock for sock in held if sock.fileno() != -1]
            for n in range(HOSTILE_SOCKETS - len(held)):  # top the hostile sockets back up
                sock = hostile_socket(port, n)
                if sock is not None:
                    held.append(sock)
            try:
                probes.append(httpx.get(f"{backend}/health", timeout=2).status_code)
            except httpx.TransportError as exc:
                probes.append(type(exc).__name__)
            if len(held) > 2 * HOSTILE_SOCKETS:
                for sock in held[:HOSTILE_SOCKETS]:
                    sock.close()
                held = held[HOSTILE_SOCKETS:]
            time.sleep(0.2)
    finally:
        for sock in held:
            sock.close()
    assert probes and all(status == 200 for status in probes), probes


def test_a_half_sent_request_is_answered_408_and_closed(backend):
    port = int(backend.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT_S + 5) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert sock.recv(4096) == b""  # and closed


def test_a_body_that_never_finishes_is_cut_off(backend):
    port = int(backend.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT_S + 5) as sock:
        sock.sendall(b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        assert b"HTTP/1.1 200" not in received  # closed without an answer taken as valid


def test_one_client_beyond_its_connection_cap_is_refused_at_once(backend):
    port = int(backend.rsplit(":", 1)[1])
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            assert extra.recv(4096).startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in sockets:
            sock.close()
