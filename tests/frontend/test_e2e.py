"""End to end: the readers' app against a real backend (uvicorn) and a real SQLite event store.

A reader picks three books through the search box, asks for recommendations, gets ten, likes
one, and the like is in the event store tied to the request that showed it. A first-time reader
starts from a genre chip (``GET /genres``, ``/predict`` with ``genres`` and no items) with at most
one book per series, turns one book down, and the refreshed list leaves it out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.main import create_app
from frontend.session import OUTCOME, READER_ID
from frontend.settings import get_settings
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.events import open_event_store
from readcrumbs.registry import Registry
from tests.backend.conftest import make_settings
from tests.backend.live import serve_in_thread
from tests.backend.tiny import register_version, tiny_catalogue
from tests.frontend.conftest import APP_PATH


@pytest.fixture
def events_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def api_url(tmp_path: Path, events_url: str) -> Iterator[str]:
    """A real backend serving a tiny promoted model, logging to SQLite."""
    registry_folder = tmp_path / "registry"
    register_version(Registry(FolderBlobStore(registry_folder)), neighbours=8, promote=True)
    settings = make_settings(
        tmp_path / "home", registry_url=f"file://{registry_folder}", events_url=events_url
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def wait_for_feedback(events_url: str, count: int) -> list:  # type: ignore[type-arg]
    """The feedback in the event store once ``count`` records are there (or after 10 s)."""
    store = open_event_store(events_url)
    try:
        deadline = time.monotonic() + 10
        while len(feedback := store.feedback()) < count and time.monotonic() < deadline:
            time.sleep(0.05)  # the backend writes events off the request path, in batches
        return feedback
    finally:
        store.close()


def add_first_result(app: AppTest, query: str) -> None:
    app.text_input(key="search_query").input(query).run()
    add = next(button for button in app.button if str(button.key).startswith("add-") and not button.disabled)
    add.click().run()


@pytest.mark.slow
def test_reader_picks_books_gets_ten_and_their_like_is_logged(
    api_url: str, events_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READCRUMBS_API_URL", api_url)
    get_settings.cache_clear()
    app = AppTest.from_file(str(APP_PATH), default_timeout=30)
    app.run()
    for query in ("hobbit", "austen", "orwell"):
        add_first_result(app, query)
    app.button(key="ask-shelf").click().run()

    assert not app.exception
    outcome = app.session_state[OUTCOME]
    assert outcome.error is None, outcome.error
    books = outcome.recommendations.books
    assert len(books) == 10
    first = books[0]
    like_key = f"like-{outcome.recommendations.request_id}-{first.position}"
    app.button(key=like_key).click().run()
    assert not app.exception

    store = open_event_store(events_url)
    try:
        deadline = time.monotonic() + 10
        while not (feedback := store.feedback()) and time.monotonic() < deadline:
            time.sleep(0.05)  # the backend writes events off the request path, in batches
        assert len(feedback) == 1
        like = feedback[0]
        assert like.value == 1
        assert like.book_id == first.book.book_id
        assert like.request_id == outcome.recommendations.request_id
        assert like.userid == app.session_state[READER_ID]
        prediction = store.get_prediction(like.request_id)
        assert prediction is not None and first.book.book_id in prediction.prediction_ids
    finally:
        store.close()
    get_settings.cache_clear()


@pytest.mark.slow
def test_first_time_reader_starts_from_a_genre_and_a_dislike_refreshes_the_list(
    api_url: str, events_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READCRUMBS_API_URL", api_url)
    get_settings.cache_clear()
    app = AppTest.from_file(str(APP_PATH), default_timeout=30)
    app.run()
    catalogue = tiny_catalogue()
    genre = "fantasy"
    in_genre = {int(row.book_id) for row in catalogue.itertuples() if genre in list(row.genres)}

    # Two clicks: a genre chip, then Recommend (the series toggle is a setting, not a step).
    app.toggle(key="one_per_series").set_value(True).run()
    app.pills(key="picked_genres").select(genre).run()
    app.button(key="ask-shelf").click().run()

    assert not app.exception
    outcome = app.session_state[OUTCOME]
    assert outcome.error is None, outcome.error
    assert outcome.request.favourites == () and outcome.request.genres == (genre,)
    books = outcome.recommendations.books
    shown = [b.book.book_id for b in books]
    assert shown and shown[0] in in_genre
    assert all(genre in b.because_genres for b in books if b.book.book_id in in_genre)
    cards = "\n".join(m.value for m in app.markdown if 'class="rc-card"' in m.value)
    assert "Popular in fantasy" in cards
    # Harry Potter #1 and #2 are both fantasy; one book per series shows one of them.
    assert not {3, 4} <= set(shown)

    request_id = outcome.recommendations.request_id
    turned_down = books[0].book.book_id
    app.button(key=f"dislike-{request_id}-0").click().run()

    assert not app.exception
    refreshed = app.session_state[OUTCOME]
    assert refreshed.error is None, refreshed.error
    assert refreshed.request.disliked == (turned_down,) and refreshed.request.one_per_series
    assert refreshed.recommendations.request_id != request_id
    assert turned_down not in [b.book.book_id for b in refreshed.recommendations.books]
    feedback = wait_for_feedback(events_url, 1)
    assert [(f.value, f.book_id, f.request_id) for f in feedback] == [(-1, turned_down, request_id)]
    get_settings.cache_clear()
