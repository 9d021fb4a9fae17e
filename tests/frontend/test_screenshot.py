"""The screenshot command: a real app, a stub backend, headless Chromium."""

from __future__ import annotations

import shutil
import socket
import struct
import time
from pathlib import Path

import pytest

from frontend.errors import ConfigError, ServiceUnavailable
from frontend.screenshot import main, take_screenshot
from tests.frontend.stub_server import StubServer

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.slow
@needs_chromium
def test_screenshot_of_the_page_with_recommendations(stub_server: StubServer, tmp_path: Path) -> None:
    out = take_screenshot(
        api_url=stub_server.url, out=tmp_path / "shots" / "app.png", books="7,10", how_many=5
    )

    width, height = png_size(out)
    assert width == 1400 and height >= 900
    predictions = [r.body for r in stub_server.backend.requests if r.path == "/predict"]
    assert [(p["items"], p["k"]) for p in predictions] == [([7, 10], 5)]


@pytest.mark.slow
@needs_chromium
def test_screenshot_of_a_genre_start_after_a_dislike(stub_server: StubServer, tmp_path: Path) -> None:
    take_screenshot(
        api_url=stub_server.url, out=tmp_path / "app.png", books="", search="", genres="fantasy", dislike=1
    )

    predictions = [r.body for r in stub_server.backend.requests if r.path == "/predict"]
    assert [(p["items"], p["genres"], p.get("disliked")) for p in predictions] == [
        ([], ["fantasy"], None),
        ([], ["fantasy"], [2]),  # the second card of the fantasy starter list, pressed 👎
    ]
    assert [(f["feedback"], f["book_id"]) for f in stub_server.backend.feedback] == [(-1, 2)]


@needs_chromium
def test_no_card_to_dislike_is_a_clear_error(stub_server: StubServer, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no card at position 40"):
        take_screenshot(api_url=stub_server.url, out=tmp_path / "app.png", books="7", dislike=40)


def test_missing_browser_is_a_clear_error(stub_server: StubServer, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="apt-get install -y chromium"):
        take_screenshot(api_url=stub_server.url, out=tmp_path / "app.png", chromium="no-such-browser-here")


@needs_chromium
def test_backend_down_is_a_clear_error_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ServiceUnavailable, match="Could not reach"):
        take_screenshot(api_url=dead_url(), out=tmp_path / "app.png")

    assert main(["--api-url", dead_url(), "--out", str(tmp_path / "app.png")]) == 1
    assert "Could not reach ReadCrumbs" in capsys.readouterr().err
    assert not (tmp_path / "app.png").exists()


@needs_chromium
def test_waits_for_a_backend_that_is_starting(tmp_path: Path) -> None:
    url = dead_url()
    started = time.monotonic()

    with pytest.raises(ServiceUnavailable):
        take_screenshot(api_url=url, out=tmp_path / "app.png", backend_wait_s=1.2)

    assert time.monotonic() - started >= 1.2
