"""The book picker: catalogue search, the reader's shelf, and the "paste a list" box."""

from __future__ import annotations

import streamlit as st

from frontend.api_client import BackendAPI
from frontend.books import parse_rejection
from frontend.cards import row_html
from frontend.errors import RequestRejected, ServiceError
from frontend.favourites import MAX_FAVOURITES, split_pasted_list
from frontend.notices import escape_markdown, show_unavailable
from frontend.session import (
    PASTED_TEXT,
    SEARCH_QUERY,
    Session,
    add_to_shelf,
    ask_from_paste,
    ask_from_shelf,
    clear_shelf,
    on_shelf,
    remove_from_shelf,
    search,
    shelf,
)

# The backend refuses longer search queries; one letter matches too much to be useful.
MAX_QUERY_CHARS = 200
MIN_QUERY_CHARS = 2
PASTE_PLACEHOLDER = "One title per line, or separated by commas:\nThe Hobbit\nPride and Prejudice\nDune"


def search_panel(session: Session, backend: BackendAPI, limit: int) -> None:
    """A search box over the catalogue (title or author) with an Add button per result."""
    query: str = st.text_input(
        "Search by title or author",
        key=SEARCH_QUERY,
        type="search",
        max_chars=MAX_QUERY_CHARS,
        # Type-ahead: results follow the typing after a short pause; each query is asked once.
        live="300ms",
        placeholder="e.g. Tolkien, The Hobbit, Dune",
    )
    if len(query.strip()) < MIN_QUERY_CHARS:
        st.caption("Start typing part of a title or an author's name. No exact titles needed.")
        return
    try:
        books = search(session, backend, query, limit)
    except RequestRejected as error:
        st.warning(escape_markdown(parse_rejection(error.detail, str(error)).message), icon="🔍")
        return
    except ServiceError as error:
        # Failed searches are not remembered, so the Retry rerun searches again.
        show_unavailable(error, retry_key="retry-search")
        return
    if not books:
        st.info(
            f"No books match “{escape_markdown(query.strip())}”. "
            "Try part of the title or the author's surname.",
            icon="🔍",
        )
        return
    for index, book in enumerate(books):
        picked = on_shelf(session, book)
        text_column, button_column = st.columns([5, 1], vertical_alignment="center")
        text_column.markdown(row_html(book), unsafe_allow_html=True)
        button_column.button(
            "✓ Added" if picked else "+ Add",
            key=f"add-{index}-{book.book_id}",
            disabled=picked,
            on_click=add_to_shelf,
            args=(session, book),
            width="stretch",
        )


def shelf_panel(session: Session) -> None:
    """The picked books with cover, author and year; remove one, clear all, or ask."""
    books = shelf(session)
    st.markdown(f"**Your favourites** ({len(books)} of at most {MAX_FAVOURITES})")
    if not books:
        st.caption("Nothing picked yet. Add a few books you loved: three or more give the best picks.")
    for index, book in enumerate(books):
        text_column, button_column = st.columns([5, 1], vertical_alignment="center")
        text_column.markdown(row_html(book), unsafe_allow_html=True)
        button_column.button(
            "✕",
            key=f"remove-{index}-{book.book_id}",
            help=f"Remove {book.title}",
            on_click=remove_from_shelf,
            args=(session, book),
            width="stretch",
        )
    st.space("xsmall")
    ask_column, clear_column = st.columns([3, 1])
    ask_column.button(
        "✨ Recommend books",
        key="ask-shelf",
        type="primary",
        disabled=not books,
        on_click=ask_from_shelf,
        args=(session,),
        width="stretch",
    )
    if books:
        clear_column.button(
            "Clear", key="clear-shelf", on_click=clear_shelf, args=(session,), width="stretch"
        )


def paste_panel(session: Session) -> None:
    """A free-text box for a list of titles; the answer shows what each line became."""
    st.text_area("Paste your favourite books", key=PASTED_TEXT, height=180, placeholder=PASTE_PLACEHOLDER)
    titles = split_pasted_list(session.get(PASTED_TEXT, ""))
    if len(titles) > MAX_FAVOURITES:
        st.caption(f"Read {len(titles)} titles; the first {MAX_FAVOURITES} will be used.")
    elif titles:
        st.caption(f"Read {len(titles)} title{'s' if len(titles) > 1 else ''}. Spelling need not be exact.")
    # Never disabled: a reader who pastes and clicks at once must not lose the click to a
    # button that was disabled before the text arrived.
    st.button(
        "✨ Recommend from this list",
        key="ask-paste",
        type="primary",
        on_click=ask_from_paste,
        args=(session,),
    )
