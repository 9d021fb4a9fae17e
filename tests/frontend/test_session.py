"""Session actions on a plain dict: the shelf, queued requests, votes sent once."""

from __future__ import annotations

import pytest

from frontend.books import Book, Genre, Recommendations, RecommendedBook, Vote
from frontend.errors import RequestRejected, ServiceUnavailable
from frontend.favourites import MAX_DISLIKED, MAX_FAVOURITES
from frontend.session import (
    GENRES,
    GENRES_ERROR,
    HOW_MANY,
    LAST_REQUEST,
    OUTCOME,
    PASTED_TEXT,
    PENDING,
    READER_ID,
    RecommendationRequest,
    add_to_shelf,
    answer_pending,
    ask_from_paste,
    ask_from_shelf,
    cast_vote,
    disliked,
    forget_genres,
    more_like_this,
    on_shelf,
    refresh,
    remove_from_shelf,
    replace_pasted_entry,
    retry,
    search,
    shelf,
    start_session,
    starter_genres,
    vote_status,
)
from tests.frontend.fake_backend import FakeBackend


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def session(backend: FakeBackend) -> dict[str, object]:
    state: dict[str, object] = {}
    start_session(state, lambda: backend)
    return state


def test_start_session_keeps_an_existing_backend_and_reader() -> None:
    mine, other = FakeBackend(), FakeBackend()
    state: dict[str, object] = {"backend": mine}

    assert start_session(state, lambda: other) is mine
    reader_id = state[READER_ID]
    start_session(state, lambda: other)
    assert state[READER_ID] == reader_id


def test_shelf_keeps_each_book_once_and_is_bounded(session: dict[str, object]) -> None:
    add_to_shelf(session, Book(1, "A"))
    add_to_shelf(session, Book(1, "A (another edition's title)"))
    add_to_shelf(session, Book(None, "Free text"))
    add_to_shelf(session, Book(None, "FREE TEXT"))
    assert [b.title for b in shelf(session)] == ["A", "Free text"]

    remove_from_shelf(session, Book(1, "A"))
    assert not on_shelf(session, Book(1, "A")) and on_shelf(session, Book(None, "free text"))

    for book_id in range(100, 100 + MAX_FAVOURITES + 5):
        add_to_shelf(session, Book(book_id, str(book_id)))
    assert len(shelf(session)) == MAX_FAVOURITES


def test_asking_queues_and_answering_sends_once(session: dict[str, object], backend: FakeBackend) -> None:
    add_to_shelf(session, Book(7, "The Hobbit"))
    add_to_shelf(session, Book(None, "Emma"))
    session[HOW_MANY] = 7
    ask_from_shelf(session)

    assert session[PENDING] == RecommendationRequest((7, "Emma"), 7, "shelf")
    assert answer_pending(session, backend) is True
    assert answer_pending(session, backend) is False
    assert backend.predictions == [([7, "Emma"], session[READER_ID], 7)]
    assert session[LAST_REQUEST] == RecommendationRequest((7, "Emma"), 7, "shelf")


def test_paste_and_replacing_an_entry(session: dict[str, object], backend: FakeBackend) -> None:
    session[PASTED_TEXT] = "1. Dune, Emma"
    ask_from_paste(session)
    assert session[PENDING] == RecommendationRequest(("Dune", "Emma"), 10, "paste")

    replace_pasted_entry(session, "Emma", "Emma (Penguin Classics)")
    assert session[PASTED_TEXT] == "Dune\nEmma (Penguin Classics)"
    assert session[PENDING] == RecommendationRequest(("Dune", "Emma (Penguin Classics)"), 10, "paste")


def test_a_failure_is_kept_and_retry_sends_the_same_request(
    session: dict[str, object], backend: FakeBackend
) -> None:
    add_to_shelf(session, Book(7, "The Hobbit"))
    ask_from_shelf(session)
    backend.down = True
    answer_pending(session, backend)
    outcome = session[OUTCOME]
    assert isinstance(outcome.error, ServiceUnavailable) and outcome.recommendations is None  # type: ignore[attr-defined]

    backend.down = False
    retry(session)
    answer_pending(session, backend)
    assert [p[0] for p in backend.predictions] == [[7]]
    assert session[OUTCOME].recommendations is not None  # type: ignore[attr-defined]


def test_retry_without_a_previous_request_does_nothing(session: dict[str, object]) -> None:
    retry(session)

    assert session[PENDING] is None


class CountingBackend(FakeBackend):
    """Counts book lookups; every lookup fails."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def get_book(self, book_id: int) -> Book:
        self.lookups += 1
        raise ServiceUnavailable("slow")


def test_missing_ratings_cost_one_failed_lookup_at_most() -> None:
    backend = CountingBackend()
    state: dict[str, object] = {}
    start_session(state, lambda: backend)
    add_to_shelf(state, Book(7, "The Hobbit"))
    ask_from_shelf(state)

    answer_pending(state, backend)

    answer = state[OUTCOME].recommendations  # type: ignore[attr-defined]
    assert answer.books and all(r.book.average_rating is None for r in answer.books)
    assert backend.lookups == 1


def answer_with(book: Book) -> tuple[str, RecommendedBook]:
    recommended = RecommendedBook(book, position=2)
    Recommendations("req-1", "v1", (recommended,))
    return "req-1", recommended


def test_a_vote_is_sent_once(session: dict[str, object], backend: FakeBackend) -> None:
    request_id, recommended = answer_with(Book(7, "The Hobbit"))

    cast_vote(session, backend, request_id, recommended, 1)
    cast_vote(session, backend, request_id, recommended, 1)
    cast_vote(session, backend, request_id, recommended, -1)

    assert backend.votes == [Vote(session[READER_ID], recommended.book, "req-1", 2, 1)]  # type: ignore[arg-type]
    status = vote_status(session, request_id, recommended)
    assert status is not None and status.recorded and status.value == 1


def test_the_same_book_in_a_new_answer_can_be_voted_again(
    session: dict[str, object], backend: FakeBackend
) -> None:
    _, recommended = answer_with(Book(7, "The Hobbit"))

    cast_vote(session, backend, "req-1", recommended, 1)
    cast_vote(session, backend, "req-2", recommended, 1)

    assert [v.request_id for v in backend.votes] == ["req-1", "req-2"]


def test_a_failed_vote_is_kept_as_failed_and_can_be_retried(
    session: dict[str, object], backend: FakeBackend
) -> None:
    request_id, recommended = answer_with(Book(7, "The Hobbit"))
    backend.feedback_down = True
    cast_vote(session, backend, request_id, recommended, -1)

    status = vote_status(session, request_id, recommended)
    assert status is not None and not status.recorded and "503" in status.message

    backend.feedback_down = False
    cast_vote(session, backend, request_id, recommended, -1)
    assert len(backend.votes) == 1


def test_search_is_remembered_but_failures_are_not(session: dict[str, object], backend: FakeBackend) -> None:
    backend.down = True
    with pytest.raises(ServiceUnavailable):
        search(session, backend, "Dune", 5)

    backend.down = False
    first = search(session, backend, "Dune", 5)
    again = search(session, backend, " dune ", 5)
    assert first == again and backend.searches == ["Dune"]


def test_refresh_before_any_answer_queues_nothing(session: dict[str, object]) -> None:
    refresh(session)

    assert session[PENDING] is None


def test_a_recorded_dislike_is_remembered_once_and_asks_again(
    session: dict[str, object], backend: FakeBackend
) -> None:
    add_to_shelf(session, Book(7, "The Hobbit"))
    ask_from_shelf(session)
    answer_pending(session, backend)
    first = session[OUTCOME].recommendations.books[0]  # type: ignore[attr-defined]

    cast_vote(session, backend, "req-1", first, -1)
    cast_vote(session, backend, "req-1", first, -1)  # a rerun: already recorded

    assert disliked(session) == [first.book]
    assert session[PENDING].disliked == (first.book.book_id,)  # type: ignore[attr-defined]


def test_picking_a_turned_down_book_as_a_favourite_takes_it_off_the_disliked_list(
    session: dict[str, object], backend: FakeBackend
) -> None:
    add_to_shelf(session, Book(7, "The Hobbit"))
    ask_from_shelf(session)
    answer_pending(session, backend)
    first = session[OUTCOME].recommendations.books[0]  # type: ignore[attr-defined]
    cast_vote(session, backend, "req-1", first, -1)

    more_like_this(session, first.book)

    assert disliked(session) == []
    assert session[PENDING].favourites == (7, first.book.book_id)  # type: ignore[attr-defined]
    assert session[PENDING].disliked == ()  # type: ignore[attr-defined]


def test_genres_are_asked_once_and_a_failure_until_forgotten(
    session: dict[str, object], backend: FakeBackend
) -> None:
    backend.genres_down = True
    assert starter_genres(session, backend) == [] and starter_genres(session, backend) == []
    assert backend.genre_lists == 1

    backend.genres_down = False
    forget_genres(session)
    names = [genre.name for genre in starter_genres(session, backend)]
    starter_genres(session, backend)

    assert names[0] == "classics" and backend.genre_lists == 2


def test_a_backend_without_genres_offers_none_and_no_retry(
    session: dict[str, object], backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> list[Genre]:
        raise RequestRejected("ReadCrumbs refused GET /genres (HTTP 404).", status=404, detail="Not Found")

    monkeypatch.setattr(backend, "list_genres", refuse)

    assert starter_genres(session, backend) == []
    assert session[GENRES] == [] and GENRES_ERROR not in session


def test_only_the_latest_dislikes_are_sent(session: dict[str, object], backend: FakeBackend) -> None:
    for book_id in range(1, MAX_DISLIKED + 6):
        recommended = RecommendedBook(Book(book_id, f"Book {book_id}"), position=0)
        cast_vote(session, backend, f"req-{book_id}", recommended, -1)
    ask_from_shelf(session)

    sent = session[PENDING].disliked  # type: ignore[attr-defined]
    assert sent == tuple(range(6, MAX_DISLIKED + 6))
