"""The book picker: genres to start from, catalogue search, the reader's shelf, and the
"paste a list" box."""

from __future__ import annotations

import streamlit as st

from frontend.api_client import BackendAPI
from frontend.books import parse_rejection
from frontend.cards import genre_label, row_html
from frontend.errors import RequestRejected, ServiceError
from frontend.favourites import MAX_FAVOURITES, split_pasted_list
from frontend.notices import escape_markdown, show_unavailable
from frontend.session import (
    GENRES_ERROR,
    PASTED_TEXT,
    PICKED_GENRES,
    SEARCH_QUERY,
    Session,
    add_to_shelf,
    ask_from_paste,
    ask_from_shelf,
    clear_shelf,
    disliked,
    forget_dislikes,
    forget_genres,
    on_shelf,
    picked_genres,
    remove_from_shelf,
    search,
    shelf,
    starter_genres,
)

# The backend refuses longer search queries; one letter matches too much to be useful.
MAX_QUERY_CHARS = 200
MIN_QUERY_CHARS = 2
# Enough chips to cover most tastes in two rows of a wide page; the backend sends the biggest first.
MAX_GENRE_CHIPS = 18
PASTE_PLACEHOLDER = "One title per line, or separated by commas:\nThe Hobbit\nPride and Prejudice\nDune"


def genre_panel(session: Session, backend: BackendAPI) -> None:
    """Genre chips: a reader with no favourites yet picks one or a few and presses Recommend."""
    names = [genre.name for genre in starter_genres(session, backend)[:MAX_GENRE_CHIPS]]
    # Keep picks the backend no longer lists selectable, so the chip can be unpicked.
    names += [name for name in picked_genres(session) if name not in names]
    if not names:
        if session.get(GENRES_ERROR):
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.caption("Genres to start from could not be loaded just now.")
            right.button("↻ Retry", key="retry-genres", on_click=forget_genres, args=(session,))
        return
    st.pills(
        "New here? Start from genres",
        names,
        selection_mode="multi",
        format_func=genre_label,
        key=PICKED_GENRES,
        help="Pick one or a few, then press Recommend: no favourites needed.",
    )


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
    genres = picked_genres(session)
    st.markdown(f"**Your favourites** ({len(books)} of at most {MAX_FAVOURITES})")
    if not books:
        st.caption(
            "Nothing picked yet. Add a few books you loved (three or more give the best picks), "
            "or start from genres."
        )
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
    if genres:
        st.caption("Genres: " + escape_markdown(", ".join(genre_label(name) for name in genres)))
    st.space("xsmall")
    ask_column, clear_column = st.columns([3, 1])
    ask_column.button(
        "✨ Recommend books",
        key="ask-shelf",
        type="primary",
        disabled=not books and not genres,
        on_click=ask_from_shelf,
        args=(session,),
        width="stretch",
    )
    if books:
        clear_column.button(
            "Clear", key="clear-shelf", on_click=clear_shelf, args=(session,), width="stretch"
        )
    _disliked_note(session)


def _disliked_note(session: Session) -> None:
    """The books turned down with 👎, which are left out of every list; the reader can undo that."""
    books = disliked(session)
    if not books:
        return
    titles = ", ".join(f"“{book.title}”" for book in books)
    text_column, button_column = st.columns([5, 1], vertical_alignment="center")
    text_column.caption("Not for you, left out of your lists: " + escape_markdown(titles))
    button_column.button(
        "Undo",
        key="forget-dislikes",
        help="Let these books be recommended again",
        on_click=forget_dislikes,
        args=(session,),
        width="stretch",
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
