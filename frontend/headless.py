"""Just enough of headless Chromium, driven over the DevTools protocol, to screenshot a live page.

Chromium's one-shot ``--screenshot`` fires before a Streamlit page has drawn anything (the page
is built over a websocket after load), so this opens the page, waits until a JavaScript condition
holds, sizes the window to the content, and only then captures.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.error import URLError
from urllib.request import urlopen

from websockets.sync.client import ClientConnection, connect

from frontend.errors import ConfigError

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


# Streamlit reads .streamlit/config.toml (the developer toolbar hidden) from where it starts.
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def serve_streamlit(app: Path, env: Mapping[str, str], timeout_s: float) -> Iterator[str]:
    """Serve the Streamlit ``app`` headless on a free port of 127.0.0.1 and yield its base URL.

    It starts from the repository root, as ``make run`` does, with ``env`` as its environment;
    :class:`ConfigError` (with the end of its stderr) when it exits or is not up within
    ``timeout_s``. Stopped, with every process it started, on exit.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    # stderr to a file, not a pipe that nobody reads while it fills.
    with tempfile.TemporaryFile() as errors:
        server = subprocess.Popen(
            streamlit_command(app, port),
            cwd=REPOSITORY_ROOT,
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
        try:
            _wait_until_up(f"{url}/_stcore/health", server, errors, timeout_s)
            yield url
        finally:
            _stop(server)


def _wait_until_up(
    health_url: str, server: subprocess.Popen[bytes], errors: IO[bytes], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip()[-500:]
            raise ConfigError(f"the Streamlit app exited before serving: {tail}")
        try:
            with urlopen(health_url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.25)
    raise ConfigError(f"the Streamlit app did not come up within {timeout_s:g} s")


def streamlit_command(app: Path, port: int) -> list[str]:
    """The command that serves the Streamlit ``app`` headless on 127.0.0.1:``port``, for screenshots."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]


class Page:
    """One browser tab, spoken to over the DevTools protocol."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are skipped)."""
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self._socket.recv(timeout=30))
            if answer.get("id") != message_id:
                continue
            if "error" in answer:
                raise ConfigError(f"chromium refused {method}: {answer['error']}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float) -> bool:
        """Poll until ``expression`` is truthy; ``False`` if it never was within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.25)
        return False

    def resize(self, width: int, height: int) -> None:
        """Set the viewport in CSS pixels."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def screenshot(self, out: Path) -> Path:
        """Write the viewport as a PNG to ``out``."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        out.write_bytes(base64.b64decode(data))
        return out


@contextmanager
def open_page(chromium: str, url: str, width: int, height: int) -> Iterator[Page]:
    """Start headless Chromium on a fresh profile, open ``url``, and yield the tab; stop it after."""
    # Chromium's helper processes may still be writing to the profile for a moment after it stops.
    with tempfile.TemporaryDirectory(prefix="readcrumbs-chromium-", ignore_cleanup_errors=True) as profile:
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        # A session of its own, so stopping it stops its renderer and helper processes too.
        browser = subprocess.Popen(
            [*command, "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port = _devtools_port(Path(profile), browser, timeout_s=30)
            with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                targets = json.load(answer)
            tab = next(t for t in targets if t.get("type") == "page")
            with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
                page = Page(socket)
                page.resize(width, height)
                page.call("Page.navigate", url=url)
                yield page
        finally:
            _stop(browser)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in a session of its own, and every process it started."""
    for signal_number in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def _devtools_port(profile: Path, browser: subprocess.Popen[bytes], timeout_s: float) -> int:
    """The port Chromium chose; it writes it to ``DevToolsActivePort`` in the profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            raise ConfigError(f"chromium exited at start-up with status {browser.returncode}")
        if marker.is_file():
            first_line = marker.read_text().split("\n", 1)[0].strip()
            if first_line.isdigit():
                return int(first_line)
        time.sleep(0.1)
    raise ConfigError(f"chromium did not open its DevTools port within {timeout_s:g} s")
