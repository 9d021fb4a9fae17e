"""One browser session's state, and the actions that change it.

Streamlit reruns the whole page on every click, so anything that must survive a rerun (the
reader id, the shelf, the picked genres, the books the reader turned down, the last answer, which
votes were sent) lives in the session mapping (``st.session_state``; a plain dict in tests).
Actions run as widget callbacks, once per click: that, plus the vote ledger, is why a rerun never
re-sends a request. A vote that changes what the reader wants (👎, or "more like this" after a 👍)
queues a fresh request, so the list the reader sees follows the vote at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from frontend.api_client import BackendAPI
from frontend.books import Book, Genre, Recommendations, RecommendedBook, Vote
from frontend.errors import RequestRejected, ServiceError
from frontend.favourites import DEFAULT_RECOMMENDATIONS, MAX_DISLIKED, MAX_FAVOURITES, split_pasted_list

Session = MutableMapping[str, Any]

READER_ID = "reader_id"
BACKEND = "backend"
SHELF = "shelf"
PASTED_TEXT = "pasted_text"
HOW_MANY = "how_many"
SEARCH_QUERY = "search_query"
PENDING = "pending_request"
LAST_REQUEST = "last_request"
OUTCOME = "outcome"
VOTES = "votes"
SEARCH_CACHE = "search_cache"
DETAILS_CACHE = "details_cache"
LINK_APPLIED = "link_applied"
PICKED_GENRES = "picked_genres"
GENRES = "genres"
GENRES_ERROR = "genres_error"
DISLIKED = "disliked"
ONE_PER_SERIES = "one_per_series"


@dataclass(frozen=True)
class RecommendationRequest:
    """What to send to ``/predict``: ``favourites`` are book ids (shelf) or typed titles (paste);
    ``genres`` the picked genres; ``disliked`` the books (ids, else titles) the reader turned down."""

    favourites: tuple[int | str, ...]
    how_many: int
    source: Literal["shelf", "paste"]
    genres: tuple[str, ...] = ()
    disliked: tuple[int | str, ...] = ()
    one_per_series: bool = False


@dataclass(frozen=True)
class Outcome:
    """The answer to the last request: recommendations, or the error that stopped them."""

    request: RecommendationRequest
    recommendations: Recommendations | None = None
    error: ServiceError | None = None


@dataclass(frozen=True)
class VoteStatus:
    """A vote the reader cast: ``recorded`` once the backend accepted it."""

    value: int
    recorded: bool
    message: str = ""


def start_session(session: Session, make_backend: Callable[[], BackendAPI]) -> BackendAPI:
    """Fill in what a new session needs (once) and return its backend client.

    A client already in the session (a test's fake) is kept.
    """
    session.setdefault(READER_ID, uuid.uuid4().hex)
    session.setdefault(SHELF, [])
    session.setdefault(VOTES, {})
    session.setdefault(SEARCH_CACHE, {})
    session.setdefault(DETAILS_CACHE, {})
    session.setdefault(HOW_MANY, DEFAULT_RECOMMENDATIONS)
    session.setdefault(PENDING, None)
    session.setdefault(OUTCOME, None)
    session.setdefault(PICKED_GENRES, [])
    session.setdefault(DISLIKED, [])
    session.setdefault(ONE_PER_SERIES, False)
    if BACKEND not in session:
        session[BACKEND] = make_backend()
    backend: BackendAPI = session[BACKEND]
    return backend


def shelf(session: Session) -> list[Book]:
    """The books the reader picked, in the order picked."""
    books: list[Book] = session[SHELF]
    return books


def add_to_shelf(session: Session, book: Book) -> None:
    """Put ``book`` on the shelf unless it is there already or the shelf is full; a book the
    reader had turned down is no longer."""
    books = shelf(session)
    if len(books) < MAX_FAVOURITES and not on_shelf(session, book):
        books.append(book)
        _undislike(session, book)


def remove_from_shelf(session: Session, book: Book) -> None:
    """Take ``book`` off the shelf."""
    session[SHELF] = [other for other in shelf(session) if not _is_same_book(book, other)]


def clear_shelf(session: Session) -> None:
    """Empty the shelf."""
    session[SHELF] = []


def on_shelf(session: Session, book: Book) -> bool:
    """Whether ``book`` was already picked."""
    return any(_is_same_book(book, other) for other in shelf(session))


def picked_genres(session: Session) -> list[str]:
    """The genres the reader picked to start from, in the order offered."""
    picked: list[str] = session.get(PICKED_GENRES) or []
    return picked


def disliked(session: Session) -> list[Book]:
    """The books the reader turned down with 👎 this visit, oldest first."""
    books: list[Book] = session[DISLIKED]
    return books


def forget_dislikes(session: Session) -> None:
    """Let the books the reader turned down be recommended again (from the next request on)."""
    session[DISLIKED] = []


def ask_from_shelf(session: Session) -> None:
    """Queue a request for recommendations from the shelf and the picked genres."""
    favourites = tuple(_item(book) for book in shelf(session))
    request = RecommendationRequest(
        favourites, int(session[HOW_MANY]), "shelf", genres=tuple(picked_genres(session))
    )
    _queue(session, _with_reader_choices(session, request))


def ask_from_paste(session: Session) -> None:
    """Queue a request for recommendations from the pasted list."""
    titles = split_pasted_list(session.get(PASTED_TEXT, ""))[:MAX_FAVOURITES]
    request = RecommendationRequest(tuple(titles), int(session[HOW_MANY]), "paste")
    _queue(session, _with_reader_choices(session, request))


def refresh(session: Session) -> None:
    """Ask the last question again with the reader's current dislikes and series choice, so the
    list on screen follows a 👎 or the series toggle at once. Nothing to do before a first answer."""
    outcome: Outcome | None = session.get(OUTCOME)
    if outcome is not None and outcome.recommendations is not None:
        _queue(session, _with_reader_choices(session, outcome.request))


def more_like_this(session: Session, book: Book) -> None:
    """Make a liked recommendation one of the favourites and ask again.

    A pasted list gets the title as a new line (the reader's list stays the one source of that
    request); otherwise the book joins the shelf.
    """
    outcome: Outcome | None = session.get(OUTCOME)
    if outcome is not None and outcome.request.source == "paste":
        titles = split_pasted_list(session.get(PASTED_TEXT, ""))
        if book.title.casefold() not in {title.casefold() for title in titles}:
            session[PASTED_TEXT] = "\n".join([*titles, book.title])
        _undislike(session, book)
        ask_from_paste(session)
        return
    add_to_shelf(session, book)
    ask_from_shelf(session)


def retry(session: Session) -> None:
    """Queue the last request again (after the backend failed)."""
    last: RecommendationRequest | None = session.get(LAST_REQUEST)
    if last is not None:
        _queue(session, last)


def replace_pasted_entry(session: Session, entry: str, title: str) -> None:
    """Swap an unknown pasted ``entry`` for a suggested ``title`` and ask again."""
    titles = [title if t == entry else t for t in split_pasted_list(session.get(PASTED_TEXT, ""))]
    session[PASTED_TEXT] = "\n".join(titles)
    ask_from_paste(session)


def answer_pending(session: Session, backend: BackendAPI) -> bool:
    """Send the queued request, if any, and keep its outcome; ``True`` if one was sent."""
    request: RecommendationRequest | None = session.get(PENDING)
    if request is None:
        return False
    session[PENDING] = None
    session[LAST_REQUEST] = request
    if not request.favourites and not request.genres:
        session[OUTCOME] = Outcome(request)  # shown as "pick at least one book"; nothing to send
        return False
    try:
        recommendations = backend.recommend(
            list(request.favourites),
            session[READER_ID],
            request.how_many,
            genres=list(request.genres),
            disliked=list(request.disliked),
            one_per_series=request.one_per_series,
        )
    except ServiceError as error:
        session[OUTCOME] = Outcome(request, error=error)
    else:
        session[OUTCOME] = Outcome(request, recommendations=_with_details(session, backend, recommendations))
    return True


def vote_key(request_id: str | None, recommended: RecommendedBook) -> str:
    """The ledger key of a vote: one per card of one answer."""
    return f"{request_id}:{recommended.position}:{recommended.book.book_id}"


def vote_status(session: Session, request_id: str | None, recommended: RecommendedBook) -> VoteStatus | None:
    """The vote cast on this card, if any."""
    votes: dict[str, VoteStatus] = session[VOTES]
    return votes.get(vote_key(request_id, recommended))


def cast_vote(
    session: Session, backend: BackendAPI, request_id: str | None, recommended: RecommendedBook, value: int
) -> None:
    """Send a like (+1) or dislike (-1) once; a recorded vote is never sent again.

    A recorded dislike also puts the book on the reader's disliked list and asks again, so it
    leaves the screen and pulls similar books down. A vote that could not be saved changes
    nothing, so the card can say so and offer the buttons again.
    """
    votes: dict[str, VoteStatus] = session[VOTES]
    key = vote_key(request_id, recommended)
    if key in votes and votes[key].recorded:
        return
    vote = Vote(session[READER_ID], recommended.book, request_id, recommended.position, value)
    try:
        backend.send_feedback(vote)
    except ServiceError as error:
        votes[key] = VoteStatus(value, recorded=False, message=str(error))
        return
    votes[key] = VoteStatus(value, recorded=True)
    if value < 0:
        if not any(_is_same_book(recommended.book, other) for other in disliked(session)):
            disliked(session).append(recommended.book)
        refresh(session)


def starter_genres(session: Session, backend: BackendAPI) -> list[Genre]:
    """The genres to start from, asked once per session.

    A failure is remembered too (``GENRES_ERROR``), so a slow backend does not cost a timeout on
    every rerun; :func:`forget_genres` asks again. A backend that refuses the route has no genres.
    """
    cached: list[Genre] | None = session.get(GENRES)
    if cached is not None or session.get(GENRES_ERROR):
        return cached or []
    try:
        session[GENRES] = backend.list_genres()
    except RequestRejected:
        session[GENRES] = []  # a backend without genres (an older one): no chips, nothing to retry
    except ServiceError as error:
        session[GENRES_ERROR] = str(error)
        return []
    return list(session[GENRES])


def forget_genres(session: Session) -> None:
    """Drop the remembered genres (or failure), so the next run asks the backend again."""
    session.pop(GENRES, None)
    session.pop(GENRES_ERROR, None)


def search(session: Session, backend: BackendAPI, query: str, limit: int) -> list[Book]:
    """Catalogue search, remembered per session so reruns do not repeat it; errors are not kept."""
    cache: dict[tuple[str, int], list[Book]] = session[SEARCH_CACHE]
    key = (query.strip().casefold(), limit)
    if key not in cache:
        cache[key] = backend.search_books(query.strip(), limit)
    return cache[key]


def suggestions_for(session: Session, backend: BackendAPI, entry: str, limit: int = 3) -> list[str]:
    """Close catalogue titles for an entry the backend did not know; none if search fails."""
    try:
        return [book.title for book in search(session, backend, entry, limit)]
    except ServiceError:
        return []


def _queue(session: Session, request: RecommendationRequest) -> None:
    session[PENDING] = request


def _item(book: Book) -> int | str:
    """How ``/predict`` names a book: its id when known, else its title."""
    return book.book_id if book.book_id is not None else book.title


def _undislike(session: Session, book: Book) -> None:
    session[DISLIKED] = [other for other in disliked(session) if not _is_same_book(book, other)]


def _with_reader_choices(session: Session, request: RecommendationRequest) -> RecommendationRequest:
    """``request`` with the reader's current dislikes (the latest :data:`MAX_DISLIKED`) and series
    choice."""
    return replace(
        request,
        disliked=tuple(_item(book) for book in disliked(session)[-MAX_DISLIKED:]),
        one_per_series=bool(session.get(ONE_PER_SERIES, False)),
    )


def _is_same_book(book: Book, other: Book) -> bool:
    if book.book_id is not None and other.book_id is not None:
        return book.book_id == other.book_id
    return book.title.casefold() == other.title.casefold()


def _with_details(session: Session, backend: BackendAPI, answer: Recommendations) -> Recommendations:
    """Fill in what the ``/predict`` answer left out (the average rating) from ``/books/{id}``.

    A failed lookup only leaves the rating off the cards; after one failure no more are tried,
    so a slow backend costs one timeout, not one per card.
    """
    cache: dict[int, Book] = session[DETAILS_CACHE]
    completed = []
    lookups_work = True
    for recommended in answer.books:
        book = recommended.book
        if book.average_rating is None and book.book_id is not None and lookups_work:
            if book.book_id not in cache:
                try:
                    cache[book.book_id] = backend.get_book(book.book_id)
                except ServiceError:
                    lookups_work = False
            if book.book_id in cache:
                details = cache[book.book_id]
                book = replace(
                    book,
                    authors=book.authors or details.authors,
                    year=book.year if book.year is not None else details.year,
                    image_url=book.image_url or details.image_url,
                    average_rating=details.average_rating,
                )
                recommended = replace(recommended, book=book)
        completed.append(recommended)
    return replace(answer, books=tuple(completed))
