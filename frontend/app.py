"""The readers' app: pick a few favourite books, get recommendations, say what you think.

Run with ``streamlit run frontend/app.py --server.port 8501``; it reaches the backend at
``READCRUMBS_API_URL`` over HTTP only. A link such as ``/?books=1,2,3&k=12&q=tolkien`` opens with
those books picked, their recommendations shown and the search box filled; ``/?genres=fantasy``
opens with that genre picked and its starter list shown (used by ``python -m frontend.screenshot``).
"""

from __future__ import annotations

from typing import cast

import streamlit as st

from frontend.api_client import BackendAPI, HttpBackend
from frontend.books import Book
from frontend.cards import CARD_CSS
from frontend.errors import ServiceError
from frontend.favourites import (
    MAX_RECOMMENDATIONS,
    MIN_RECOMMENDATIONS,
    book_ids_from_query,
    genres_from_query,
    recommendations_from_query,
)
from frontend.notices import escape_markdown
from frontend.picker import MAX_QUERY_CHARS, genre_panel, paste_panel, search_panel, shelf_panel
from frontend.results import results_panel
from frontend.session import (
    HOW_MANY,
    LINK_APPLIED,
    ONE_PER_SERIES,
    PENDING,
    PICKED_GENRES,
    READER_ID,
    SEARCH_QUERY,
    Session,
    add_to_shelf,
    answer_pending,
    ask_from_shelf,
    refresh,
    start_session,
)
from frontend.settings import FrontendSettings, get_settings


def main() -> None:
    """Draw the page once (Streamlit calls this script again on every interaction)."""
    st.set_page_config(page_title="ReadCrumbs · find your next book", page_icon="📚", layout="wide")
    settings = get_settings()
    # Streamlit types its keys as str | int; this app only ever uses str keys.
    session = cast(Session, st.session_state)
    backend = start_session(session, lambda: HttpBackend(settings.api_url, settings.request_timeout_s))
    _apply_link(session, backend)
    st.markdown(CARD_CSS, unsafe_allow_html=True)

    title_column, how_many_column = st.columns([3, 1], vertical_alignment="bottom")
    with title_column:
        st.title("📚 ReadCrumbs")
        st.markdown("Tell us a few books you loved, and we'll find more you are likely to love.")
    with how_many_column:
        st.slider("How many recommendations?", MIN_RECOMMENDATIONS, MAX_RECOMMENDATIONS, key=HOW_MANY)
        st.toggle(
            "At most one book per series",
            key=ONE_PER_SERIES,
            help="One book per series: the next volume after the ones you named, not the whole series.",
            on_change=refresh,
            args=(session,),
        )

    search_tab, paste_tab = st.tabs(["🔎 Search the catalogue", "📋 Paste a list"])
    with search_tab:
        search_column, shelf_column = st.columns([3, 2], gap="large")
        with search_column:
            genre_panel(session, backend)
            search_panel(session, backend, settings.search_limit)
        with shelf_column:
            shelf_panel(session)
    with paste_tab:
        paste_column, _ = st.columns([3, 2], gap="large")
        with paste_column:
            paste_panel(session)

    st.divider()
    if session.get(PENDING) is not None:
        with st.spinner("Finding books you'll love…"):
            answer_pending(session, backend)
    results_panel(session, backend)
    _footer(session, settings)


def _apply_link(session: Session, backend: BackendAPI) -> None:
    """On a session's first run, follow the link: ``?q=`` fills the search box; ``?books=`` and
    ``?genres=`` pick those books and genres and ask for ``?k=`` recommendations."""
    if session.get(LINK_APPLIED):
        return
    session[LINK_APPLIED] = True
    query = st.query_params.get("q")
    if query:
        session[SEARCH_QUERY] = query[:MAX_QUERY_CHARS]
    book_ids = book_ids_from_query(st.query_params.get("books"))
    genres = genres_from_query(st.query_params.get("genres"))
    if not book_ids and not genres:
        return
    session[PICKED_GENRES] = genres
    lookups_work = True
    for book_id in book_ids:
        book = Book(book_id, f"Book #{book_id}")
        if lookups_work:
            try:
                book = backend.get_book(book_id)
            except ServiceError:
                lookups_work = False  # the request below will explain; one timeout is enough
        add_to_shelf(session, book)
    session[HOW_MANY] = recommendations_from_query(st.query_params.get("k"))
    ask_from_shelf(session)


def _footer(session: Session, settings: FrontendSettings) -> None:
    st.divider()
    st.caption(
        f"Your reader id for this visit: `{session[READER_ID]}`. It only ties your 👍 / 👎 to the "
        f"recommendations you saw. Recommendations by the ReadCrumbs service at "
        f"{escape_markdown(settings.api_url)}."
    )


if __name__ == "__main__":
    main()
