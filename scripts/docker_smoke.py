"""Smoke test of a running ReadCrumbs stack from outside its containers (``make docker-test``).

    python -m scripts.docker_smoke api --api-url http://127.0.0.1:8000 --ids-out ids.env
    python -m scripts.docker_smoke events --events-url URL --request-id ID [--feedback-id ID]
    python -m scripts.docker_smoke page --url http://127.0.0.1:8501/?books=7 --ready app --out app.png

``api`` checks ``/health`` and ``/ready``, asks for one prediction and likes its first book, and
writes the two ids as shell assignments (``REQUEST_ID=…``, ``FEEDBACK_ID=…``). ``events`` waits
until that prediction (and feedback) are in the event store (the backend writes them in the
background). ``page`` opens a Streamlit page in headless Chromium, waits until it has drawn its
content and saves a PNG. Each exits 1 with a sentence on stderr when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from readcrumbs.errors import ReadCrumbsError

FAVOURITES = ["The Hobbit", 2, 13]  # a title and two book_ids, so both lookups are exercised
USERID = "docker-smoke"

# JavaScript conditions: the page has drawn its content and nothing is still loading.
NOT_LOADING = "document.querySelector('[data-testid=\"stSpinner\"]') === null"
READY = {
    # The readers' app with recommendations (the cards) for the books in its URL.
    "app": f"document.querySelectorAll('.rc-card').length > 0 && {NOT_LOADING}",
    # The operators' dashboard with its title and at least one metric or chart.
    "dashboard": (
        "document.querySelector('h1') !== null"
        " && document.querySelectorAll('[data-testid=\"stMetric\"], .js-plotly-plot').length > 0"
        f" && {NOT_LOADING}"
    ),
}


class SmokeFailed(ReadCrumbsError):
    """A check of the running stack failed."""


def call(url: str, body: dict[str, Any] | None = None, timeout_s: float = 30) -> dict[str, Any]:
    """GET (or POST ``body`` as JSON to) ``url``; the JSON answer. Raises SmokeFailed unless 2xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            result: dict[str, Any] = json.load(answer)
            return result
    except urllib.error.HTTPError as error:
        raise SmokeFailed(f"{url} answered {error.code}: {error.read()[:300]!r}") from error
    except (urllib.error.URLError, OSError) as error:
        raise SmokeFailed(f"{url} did not answer: {error}") from error


def check_api(api_url: str) -> tuple[str, str]:
    """Health, readiness, one prediction and one like of its first book; (request_id, feedback_id)."""
    if call(f"{api_url}/health").get("status") != "ok":
        raise SmokeFailed("/health did not say ok")
    ready = call(f"{api_url}/ready")
    print(
        f"ready: {ready['model']['model_type']} v{ready['model']['version']}, {ready['catalogue_size']} books"
    )
    answer = call(f"{api_url}/predict", {"items": FAVOURITES, "userid": USERID, "k": 5})
    if len(answer["books"]) != 5 or answer["unknown"]:
        raise SmokeFailed(f"/predict gave {len(answer['books'])} books, unknown {answer['unknown']}")
    first = answer["books"][0]
    print(f"predict: {answer['request_id']} -> {[book['title'] for book in answer['books']]}")
    feedback = call(
        f"{api_url}/feedback",
        {
            "feedback": "like",
            "userid": USERID,
            "book_id": first["book_id"],
            "request_id": answer["request_id"],
        },
    )
    print(f"feedback: {feedback['feedback_id']} likes {feedback['title']!r}")
    return str(answer["request_id"]), str(feedback["feedback_id"])


def check_events(events_url: str, request_id: str, feedback_id: str | None, wait_s: float) -> None:
    """Wait until the prediction (and the feedback, when given) are in the event store."""
    from readcrumbs.events import open_event_store

    store = open_event_store(events_url)
    deadline = time.monotonic() + wait_s
    while True:
        prediction = store.get_prediction(request_id)
        feedback_ids = set(store.feedback_frame()["feedback_id"]) if feedback_id else set()
        if prediction is not None and (feedback_id is None or feedback_id in feedback_ids):
            print(
                f"events: {events_url} has prediction {request_id}"
                + (f" and feedback {feedback_id}" if feedback_id else "")
            )
            return
        if time.monotonic() >= deadline:
            missing = "prediction" if prediction is None else "feedback"
            raise SmokeFailed(f"{events_url} has no {missing} of request {request_id} after {wait_s:g} s")
        time.sleep(1)


def screenshot_page(url: str, ready: str, out: Path, chromium: str, wait_s: float) -> None:
    """Open ``url`` in headless Chromium, wait for the ``ready`` condition, save a PNG to ``out``."""
    import shutil

    from frontend.headless import open_page
    from frontend.screenshot import CONTENT_HEIGHT

    browser = shutil.which(chromium)
    if browser is None:
        raise SmokeFailed(f"{chromium!r} not found; install it with: apt-get install -y chromium")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_page(browser, url, 1400, 900) as page:
        drawn = page.wait_for(READY[ready], timeout_s=wait_s)
        time.sleep(1.0)  # let fonts and images settle after the last element arrives
        height = int(page.evaluate(CONTENT_HEIGHT) or 900)
        page.resize(1400, min(max(900, height + 40), 8000))
        time.sleep(0.5)
        page.screenshot(out)
    if not drawn:
        raise SmokeFailed(f"{url} did not draw its {ready} content within {wait_s:g} s; see {out}")
    print(f"page: {url} -> {out} ({out.stat().st_size} bytes)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Smoke-test a running ReadCrumbs stack from outside.")
    commands = parser.add_subparsers(dest="command", required=True)
    api = commands.add_parser("api", help="/health, /ready, one /predict and one /feedback")
    api.add_argument("--api-url", required=True)
    api.add_argument("--ids-out", type=Path, required=True, help="file for REQUEST_ID=… FEEDBACK_ID=…")
    events = commands.add_parser("events", help="the prediction (and feedback) reached the event store")
    events.add_argument("--events-url", required=True)
    events.add_argument("--request-id", required=True)
    events.add_argument("--feedback-id")
    events.add_argument("--wait-s", type=float, default=60)
    page = commands.add_parser("page", help="a Streamlit page draws; save a screenshot")
    page.add_argument("--url", required=True)
    page.add_argument("--ready", choices=sorted(READY), required=True)
    page.add_argument("--out", type=Path, required=True)
    page.add_argument("--chromium", default="chromium")
    page.add_argument("--wait-s", type=float, default=120)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry; exit status 0 when the check passed."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "api":
            request_id, feedback_id = check_api(args.api_url.rstrip("/"))
            args.ids_out.parent.mkdir(parents=True, exist_ok=True)
            args.ids_out.write_text(f"REQUEST_ID={request_id}\nFEEDBACK_ID={feedback_id}\n")
        elif args.command == "events":
            check_events(args.events_url, args.request_id, args.feedback_id, args.wait_s)
        else:
            screenshot_page(args.url, args.ready, args.out, args.chromium, args.wait_s)
    except (ReadCrumbsError, KeyError) as error:
        print(f"docker_smoke: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
