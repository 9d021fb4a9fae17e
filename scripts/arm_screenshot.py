"""Take a PNG of the dashboard's Arms tab with headless Chromium.

Starts the operators' dashboard on 127.0.0.1 (it reads the event store and registry named by the
usual settings), opens it, selects the "Arms" tab, waits until its tables are drawn and
screenshots the page, then stops the dashboard. Run it after ``make simulate`` against a backend
that serves a challenger share (``READCRUMBS_CHALLENGER_SHARE``)::

    python -m scripts.arm_screenshot --out docs/screenshots/arm-comparison.png

Needs Debian's ``chromium`` (``apt-get install -y chromium``). Uses the readers' app's DevTools
helper (:mod:`frontend.headless`); this is tooling, not a service, so it may.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from frontend.errors import ConfigError
from frontend.headless import open_page, serve_streamlit

ROOT = Path(__file__).resolve().parent.parent
APP_PATH = ROOT / "monitoring" / "app.py"
CLICK_ARMS = (
    "(() => { const tab = Array.from(document.querySelectorAll('[role=\"tab\"]'))"
    ".find(b => b.innerText.trim() === 'Arms'); if (tab) { tab.click(); return true; } return false; })()"
)
# The Arms panel is drawn: its tables are present and nothing is still loading.
ARMS_READY = (
    "Array.from(document.querySelectorAll('[role=\"tabpanel\"]')).some(p => !p.hidden"
    " && p.innerText.includes('Offline metrics of each arm')"
    " && p.querySelectorAll('[data-testid=\"stDataFrame\"]').length >= 2)"
    " && document.querySelector('[data-testid=\"stSpinner\"]') === null"
)
CONTENT_HEIGHT = (
    "Math.max(...Array.from(document.querySelectorAll('[data-testid=\"stMainBlockContainer\"], body'),"
    " e => e.scrollHeight))"
)


def take_screenshot(out: Path, *, width: int, min_height: int, chromium: str, wait_s: float) -> Path:
    """Screenshot the Arms tab into ``out``; :class:`ConfigError` when it never drew."""
    browser = shutil.which(chromium)
    if browser is None:
        raise ConfigError(f"{chromium!r} not found; install it with: apt-get install -y chromium")
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        serve_streamlit(APP_PATH, os.environ, timeout_s=wait_s) as url,
        open_page(browser, f"{url}/", width, min_height) as page,
    ):
        if not page.wait_for(CLICK_ARMS, timeout_s=wait_s):
            raise ConfigError(f"the dashboard showed no Arms tab within {wait_s:g} s")
        ready = page.wait_for(ARMS_READY, timeout_s=wait_s)
        time.sleep(1.5)  # charts finish drawing after their container appears
        height = int(page.evaluate(CONTENT_HEIGHT) or min_height)
        page.resize(width, min(max(min_height, height + 40), 8000))
        time.sleep(1.0)
        page.screenshot(out)
    if not ready:
        raise ConfigError(f"the Arms tab did not finish drawing within {wait_s:g} s; see {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; 0, or 1 with one line on stderr."""
    parser = argparse.ArgumentParser(description="Screenshot the dashboard's Arms tab.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "arm-comparison.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900, help="least height; the page sets the rest")
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--wait-s", type=float, default=90)
    args = parser.parse_args(argv)
    try:
        out = take_screenshot(
            args.out, width=args.width, min_height=args.height, chromium=args.chromium, wait_s=args.wait_s
        )
    except ConfigError as error:
        print(f"arm_screenshot: {error}", file=sys.stderr)
        return 1
    print(f"arm_screenshot: wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
