"""The answer: how the favourites were read, the recommendation cards, and 👍 / 👎 on each.

A 👎 takes the book off the list for good and asks again at once; a 👍 offers "more like this",
which makes the book a favourite and asks again.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import streamlit as st

from frontend.api_client import BackendAPI
from frontend.books import Recommendations, RecommendedBook, parse_rejection
from frontend.cards import card_html
from frontend.errors import RequestRejected
from frontend.notices import escape_markdown, show_unavailable
from frontend.session import (
    OUTCOME,
    Outcome,
    Session,
    cast_vote,
    more_like_this,
    replace_pasted_entry,
    retry,
    suggestions_for,
    vote_status,
)

CARDS_PER_ROW = 5
# Unknown entries beyond this many get no search-based suggestions.
MAX_SEARCHED_ENTRIES = 10
LIKED = "👍"
DISLIKED = "👎 Noted: not for you"
MORE_LIKE_THIS = "More like this"


def results_panel(session: Session, backend: BackendAPI) -> None:
    """Whatever the last request produced: nothing yet, an error, or recommendations."""
    outcome: Outcome | None = session.get(OUTCOME)
    if outcome is None:
        _empty_state()
    elif isinstance(outcome.error, RequestRejected):
        rejection = parse_rejection(outcome.error.detail, str(outcome.error))
        st.warning(escape_markdown(rejection.message), icon="📖")
        unknown = list(rejection.unknown)
        if not unknown and outcome.request.source == "paste" and rejection.suggestions:
            unknown = [entry for entry in rejection.suggestions if entry]
        _unknown_report(session, backend, outcome, unknown, rejection.suggestions)
    elif outcome.error is not None:
        show_unavailable(outcome.error, retry_key="retry-recommend", on_retry=retry, args=(session,))
    elif outcome.recommendations is None:
        st.warning("Pick or paste at least one book you loved, or pick a genre, first.", icon="📖")
    else:
        recommendations = outcome.recommendations
        if outcome.request.source == "paste":
            _resolution_report(session, backend, outcome, recommendations)
        elif recommendations.unknown:
            _unknown_report(session, backend, outcome, list(recommendations.unknown), {})
        _cards(session, backend, recommendations, len(outcome.request.disliked))


def _empty_state() -> None:
    st.info(
        "**How it works**\n\n"
        "1. Find a few books you loved: search the catalogue or paste a list. New here? Start from genres.\n"
        "2. Press **Recommend**. Your picks appear here, each with the reason it was chosen.\n"
        "3. Tell us with 👍 or 👎 whether we got it right; it makes the next picks better.",
        icon="📚",
    )


def _resolution_report(
    session: Session, backend: BackendAPI, outcome: Outcome, recommendations: Recommendations
) -> None:
    """Each pasted line and the book it became, or that it was not found (with suggestions)."""
    unknown = {entry.casefold() for entry in recommendations.unknown}
    resolved = {item.given.casefold(): item.title for item in recommendations.resolved if item.given}
    found = sum(1 for entry in outcome.request.favourites if str(entry).casefold() not in unknown)
    label = f"How we read your list: {found} of {len(outcome.request.favourites)} found"
    with st.expander(label, expanded=bool(unknown)):
        for entry in (str(e) for e in outcome.request.favourites):
            if entry.casefold() in unknown:
                continue
            title = resolved.get(entry.casefold())
            shown = f"“{html.escape(entry)}”" + (f" → <b>{html.escape(title)}</b>" if title else "")
            st.markdown(f"✅ {shown}", unsafe_allow_html=True)
        if not resolved and recommendations.resolved:
            titles = ", ".join(f"<b>{html.escape(item.title)}</b>" for item in recommendations.resolved)
            st.markdown(f"Read as: {titles}", unsafe_allow_html=True)
        _unknown_report(session, backend, outcome, list(recommendations.unknown), {})


def _unknown_report(
    session: Session,
    backend: BackendAPI,
    outcome: Outcome,
    unknown: Sequence[str],
    suggestions: Mapping[str, tuple[str, ...]],
) -> None:
    """Every entry the backend did not know, with close titles; pasted ones can be swapped in."""
    for index, entry in enumerate(unknown):
        close = _close_titles(session, backend, entry, index, len(unknown), suggestions)
        st.markdown(
            f"❌ “{html.escape(entry)}”: not found in the catalogue"
            + ("; did you mean one of these?" if close else "; try the search instead."),
            unsafe_allow_html=True,
        )
        if not close:
            continue
        if outcome.request.source != "paste":
            st.caption("Close titles: " + escape_markdown(", ".join(close)))
            continue
        columns = st.columns(3)  # same width however many suggestions there are
        for column, title in zip(columns, close[:3], strict=False):
            column.button(
                f"Use “{escape_markdown(title)}”",
                key=f"use-{index}-{title}",
                on_click=replace_pasted_entry,
                args=(session, entry, title),
                width="stretch",
            )


def _close_titles(
    session: Session,
    backend: BackendAPI,
    entry: str,
    index: int,
    unknown_count: int,
    suggestions: Mapping[str, tuple[str, ...]],
) -> list[str]:
    """Titles to suggest for one unknown entry.

    The server's own suggestions win; a list it did not tie to an entry belongs to the entry only
    when there is one. Otherwise a catalogue search for the entry, for the first few entries only,
    so a long list of typos does not become a long wait.
    """
    if suggestions.get(entry):
        return list(suggestions[entry])
    if unknown_count == 1 and suggestions.get(""):
        return list(suggestions[""])
    if index < MAX_SEARCHED_ENTRIES:
        return suggestions_for(session, backend, entry)
    return []


def _cards(session: Session, backend: BackendAPI, recommendations: Recommendations, left_out: int) -> None:
    books = recommendations.books
    if not books:
        st.info("No recommendations came back for these favourites. Try adding a few more books.", icon="📭")
        return
    st.subheader(f"{len(books)} books you might love")
    if left_out:
        st.caption(
            f"Leaving out the {left_out} book{'s' if left_out > 1 else ''} you turned down and their "
            "series, and steering away from books like them."
        )
    for start in range(0, len(books), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW, gap="medium")
        for column, recommended in zip(columns, books[start : start + CARDS_PER_ROW], strict=False):
            with column, st.container(border=True):
                st.markdown(card_html(recommended), unsafe_allow_html=True)
                _vote_buttons(session, backend, recommendations.request_id, recommended)
    if recommendations.model_version:
        st.caption(f"Model version {escape_markdown(recommendations.model_version)}")


def _vote_buttons(
    session: Session, backend: BackendAPI, request_id: str | None, recommended: RecommendedBook
) -> None:
    status = vote_status(session, request_id, recommended)
    key = f"{request_id}-{recommended.position}"
    if status is not None and status.recorded and status.value > 0:
        # A disabled button, not a caption: it says "done" and keeps the cards of a row equally tall.
        # A card is narrow: the greyed 👍 says "liked" and leaves the room to the offer.
        liked, more = st.columns([1, 3])
        liked.button(LIKED, key=f"voted-{key}", disabled=True, help="You liked this", width="stretch")
        more.button(
            MORE_LIKE_THIS,
            key=f"more-{key}",
            help="Add this book to your favourites and refresh the list",
            on_click=more_like_this,
            args=(session, recommended.book),
            width="stretch",
        )
        return
    if status is not None and status.recorded:
        # Only until the refreshed list arrives (or when it could not): the book is left out from now on.
        st.button(DISLIKED, key=f"voted-{key}", disabled=True, width="stretch")
        return
    like, dislike = st.columns(2)
    like.button(
        "👍",
        key=f"like-{key}",
        help="I'd read this",
        on_click=cast_vote,
        args=(session, backend, request_id, recommended, 1),
        width="stretch",
    )
    dislike.button(
        "👎",
        key=f"dislike-{key}",
        help="Not for me",
        on_click=cast_vote,
        args=(session, backend, request_id, recommended, -1),
        width="stretch",
    )
    if status is not None:
        st.caption(":orange[We couldn't save that just now. Please try again.]")
