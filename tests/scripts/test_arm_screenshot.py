"""scripts.arm_screenshot: the real dashboard on a seeded store, screenshotted by headless Chromium."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.online import CHALLENGER, PRODUCTION
from scripts.arm_screenshot import main, take_screenshot
from tests.monitoring.test_arms import arm_records

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def dashboard_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An event store with both arms; the dashboard started by the script reads it."""
    store = SqliteEventStore(tmp_path / "events.db")
    for arm, version, likes in ((PRODUCTION, "2", 5), (CHALLENGER, "1", 3)):
        records, votes = arm_records(20, arm, version, likes)
        store.write_predictions(records)
        store.write_feedback(votes)
    store.close()
    monkeypatch.setenv("READCRUMBS_EVENTS_URL", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", f"file://{tmp_path / 'registry'}")
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.mark.slow
@needs_chromium
def test_the_arms_tab_is_screenshotted(dashboard_env: Path) -> None:
    out = take_screenshot(
        dashboard_env / "shots" / "arms.png", width=1200, min_height=800, chromium="chromium", wait_s=90
    )
    width, height = png_size(out)
    assert width == 1200 and height >= 800


def test_missing_browser_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "arms.png"), "--chromium", "no-such-browser-here"]) == 1
    assert "apt-get install -y chromium" in capsys.readouterr().err
    assert not (tmp_path / "arms.png").exists()
