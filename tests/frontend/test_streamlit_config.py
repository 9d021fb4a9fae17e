"""Both Streamlit apps hide the developer toolbar ("Deploy") wherever they are started."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from frontend.headless import open_page
from frontend.screenshot import DEPLOY_BUTTON

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".streamlit" / "config.toml"
STARTERS = ("Makefile", "Procfile", "scripts/run.py", "frontend/Dockerfile", "monitoring/Dockerfile")
MAIN_MENU = "document.querySelector('[data-testid=\"stMainMenu\"]') !== null"


def test_the_shared_config_hides_the_developer_options() -> None:
    config = tomllib.loads(CONFIG.read_text())

    assert config["client"]["toolbarMode"] in ("viewer", "minimal")


def test_pages_are_compiled_from_source_without_magic() -> None:
    # Magic parses every page into an AST in the script's thread: see the comment in the config.
    assert tomllib.loads(CONFIG.read_text())["runner"]["magicEnabled"] is False


def test_streamlit_started_from_the_root_reads_it() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        # Only the file may set it here, not a variable of the machine running the tests.
        env={name: value for name, value in os.environ.items() if not name.startswith("STREAMLIT_")},
    ).stdout

    assert re.search(r'^toolbarMode = "(viewer|minimal)"$', shown, re.MULTILINE)


@pytest.mark.parametrize("app", ["frontend", "monitoring"])
def test_each_image_runs_its_app_beside_the_config(app: str) -> None:
    dockerfile = (ROOT / app / "Dockerfile").read_text()

    assert re.search(r"^WORKDIR /app$", dockerfile, re.MULTILINE)
    assert re.search(r"^COPY (--chown=\S+ )?\.streamlit /app/\.streamlit$", dockerfile, re.MULTILINE)
    assert f'"{app}/app.py"' in dockerfile  # started by a path relative to /app


def test_no_start_command_turns_the_toolbar_back_on() -> None:
    for name in STARTERS:
        text = (ROOT / name).read_text()
        assert not re.search(r"toolbar[_.]?mode", text, re.IGNORECASE), name


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: str, home: Path) -> Iterator[str]:
    """``streamlit run <app>/app.py`` from the repository root, as `make run` starts it."""
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", f"{app}/app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    env = {**os.environ, "READCRUMBS_HOME": str(home), "READCRUMBS_API_URL": "http://127.0.0.1:9"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except (URLError, OSError):
                time.sleep(0.25)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
@pytest.mark.parametrize("app", ["frontend", "monitoring"])
def test_a_browser_sees_no_deploy_button(app: str, tmp_path: Path) -> None:
    with serving(app, tmp_path) as url, open_page("chromium", url, 1400, 900) as page:
        assert page.wait_for(MAIN_MENU, timeout_s=60)  # the toolbar is drawn
        time.sleep(1.0)  # the Deploy button, when there is one, is drawn with it

        assert page.evaluate(DEPLOY_BUTTON) is False
