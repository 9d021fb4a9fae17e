"""Take a PNG of the readers' app showing recommendations, with headless Chromium.

Starts the app on 127.0.0.1 against a running backend, from the repository root so it reads
``.streamlit/config.toml`` as ``make run`` does, opens it with a ``?books=…&genres=…&k=…&q=…``
link (the app picks those books and genres, asks for recommendations at once and fills the search
box), optionally presses 👎 on one card and waits for the refreshed list, screenshots the page, and
stops the app. A page that shows Streamlit's "Deploy" button is refused: readers never see one.
Needs Debian's ``chromium`` (``apt-get install chromium``)::

    python -m frontend.screenshot --api-url http://127.0.0.1:8000 --out docs/screenshots/readers-app.png
    python -m frontend.screenshot --books "" --genres fantasy --dislike 0 --out /tmp/after-a-vote.png
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from frontend.api_client import HttpBackend
from frontend.errors import ConfigError, ServiceError
from frontend.headless import Page, open_page, serve_streamlit
from frontend.settings import get_settings

APP_PATH = Path(__file__).resolve().parent / "app.py"
# Popular books in goodbooks-10k: The Hobbit, Pride and Prejudice, 1984.
DEFAULT_BOOKS = "7,10,13"
# Something to show in the search box, so the picture shows search results too.
DEFAULT_SEARCH = "tolkien"
# Ready when the cards are drawn (or the page shows an error), and no spinner is left.
READY = (
    "(document.querySelectorAll('.rc-card').length > 0"
    " || document.querySelector('[data-testid=\"stAlertContentError\"]') !== null)"
    " && document.querySelector('[data-testid=\"stSpinner\"]') === null"
)
DEPLOY_BUTTON = "document.querySelector('[data-testid=\"stAppDeployButton\"]') !== null"
# Streamlit names each keyed widget's container "st-key-<key>"; the 👎 keys start "dislike-".
DISLIKE_BUTTONS = "Array.from(document.querySelectorAll('[class*=\"st-key-dislike-\"]'))"
# Longest wait for a card's buttons once the cards are drawn (a missing card fails after it).
BUTTONS_WAIT_S = 5.0
CONTENT_HEIGHT = (
    "Math.max(...Array.from(document.querySelectorAll('[data-testid=\"stMainBlockContainer\"], body'),"
    " e => e.scrollHeight))"
)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    args = _parse_args(argv)
    try:
        out = take_screenshot(
            api_url=args.api_url,
            out=args.out,
            books=args.books,
            genres=args.genres,
            dislike=args.dislike,
            how_many=args.k,
            search=args.search,
            width=args.width,
            min_height=args.height,
            chromium=args.chromium,
            backend_wait_s=args.wait_s,
        )
    except (ConfigError, ServiceError) as error:
        print(f"screenshot: {error}", file=sys.stderr)
        return 1
    print(f"screenshot: wrote {out} ({out.stat().st_size} bytes)")
    return 0


def take_screenshot(
    *,
    api_url: str,
    out: Path,
    books: str = DEFAULT_BOOKS,
    genres: str = "",
    dislike: int | None = None,
    how_many: int = 10,
    search: str = DEFAULT_SEARCH,
    width: int = 1400,
    min_height: int = 900,
    chromium: str = "chromium",
    wait_s: float = 60,
    backend_wait_s: float = 0,
) -> Path:
    """Screenshot the app with recommendations into ``out`` (PNG, ``width`` CSS pixels wide, as
    tall as the page but at least ``min_height``) and return it.

    ``books`` (ids) and ``genres`` (names), comma-separated, are what the reader picked;
    ``dislike``: press 👎 on the card at that position first and shoot the refreshed list.

    The backend at ``api_url`` gets ``backend_wait_s`` seconds to come up (for scripts that have
    just started it). Raises :class:`ServiceError` when it does not, and :class:`ConfigError` when
    Chromium is missing, the page never showed recommendations, or it showed a "Deploy" button
    (the PNG of what it did show is still written).
    """
    browser = shutil.which(chromium)
    if browser is None:
        raise ConfigError(f"{chromium!r} not found; install it with: apt-get install -y chromium")
    _wait_for_backend(HttpBackend(api_url, timeout_s=5), backend_wait_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "READCRUMBS_API_URL": api_url}
    with serve_streamlit(APP_PATH, env, timeout_s=wait_s) as app_url:
        query = {"books": books, "genres": genres, "k": how_many, "q": search}
        url = f"{app_url}/?" + urlencode({key: value for key, value in query.items() if value})
        with open_page(browser, url, width, min_height) as page:
            ready = page.wait_for(READY, timeout_s=wait_s)
            if ready and dislike is not None:
                ready = _dislike(page, dislike, wait_s)
            time.sleep(1.0)  # let fonts and covers settle after the last element arrives
            height = int(page.evaluate(CONTENT_HEIGHT) or min_height)
            page.resize(width, min(max(min_height, height + 40), 8000))
            time.sleep(0.5)
            page.screenshot(out)
            cards = int(page.evaluate("document.querySelectorAll('.rc-card').length") or 0)
            deploy_shown = bool(page.evaluate(DEPLOY_BUTTON))
    if not ready or cards == 0:
        raise ConfigError(f"the page showed no recommendations within {wait_s:g} s; see {out}")
    if deploy_shown:
        raise ConfigError(
            f"the page shows Streamlit's Deploy button (is .streamlit/config.toml read?); see {out}"
        )
    return out


def _dislike(page: Page, position: int, wait_s: float) -> bool:
    """Press 👎 on the card at ``position`` and wait for the refreshed list; ``False`` if it never came."""
    # The cards can be on the page a moment before their buttons: wait for the one to press.
    page.wait_for(f"{DISLIKE_BUTTONS}.length > {int(position)}", timeout_s=min(wait_s, BUTTONS_WAIT_S))
    key = page.evaluate(f"({DISLIKE_BUTTONS}[{int(position)}] || {{}}).className || ''")
    if not key:
        raise ConfigError(f"there is no card at position {position} to press 👎 on")
    old = next(name for name in str(key).split() if name.startswith("st-key-dislike-"))
    time.sleep(1.0)  # a click while the first run is still finishing can be lost with it
    page.evaluate(f"document.querySelector('.{old} button').click()")
    # The old answer's buttons go away once the new answer is drawn.
    return page.wait_for(f"document.querySelector('.{old}') === null && ({READY})", timeout_s=wait_s)


def _wait_for_backend(backend: HttpBackend, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            backend.check_health()
            return
        except ServiceError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.5)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Screenshot the readers' app with recommendations.")
    parser.add_argument(
        "--api-url", help="backend URL (default: READCRUMBS_API_URL or http://localhost:8000)"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/readers-app.png"))
    parser.add_argument("--books", default=DEFAULT_BOOKS, help="comma-separated book ids to pick")
    parser.add_argument("--genres", default="", help="comma-separated genres to pick, e.g. fantasy")
    parser.add_argument(
        "--dislike", type=int, default=None, help="press 👎 on the card at this position (0 = first) first"
    )
    parser.add_argument("--k", type=int, default=10, help="how many recommendations")
    parser.add_argument("--search", default=DEFAULT_SEARCH, help="text to show in the search box")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900, help="least height; the page sets the rest")
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--wait-s", type=float, default=0, help="seconds to wait for the backend to come up")
    args = parser.parse_args(argv)
    if args.api_url is None:
        args.api_url = get_settings().api_url
    return args


if __name__ == "__main__":
    sys.exit(main())
