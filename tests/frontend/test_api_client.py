"""The HTTP client against a real (stub) server on 127.0.0.1: answers, refusals, failures, timeouts."""

from __future__ import annotations

import socket
import time

import pytest

from frontend.api_client import HttpBackend
from frontend.books import Book, Vote
from frontend.errors import RequestRejected, ServiceUnavailable
from tests.frontend import stub_catalogue
from tests.frontend.stub_server import StubServer


@pytest.fixture
def client(stub_server: StubServer) -> HttpBackend:
    return HttpBackend(stub_server.url + "/", timeout_s=2.0)


def test_search_sends_query_and_limit_and_reads_books(client: HttpBackend, stub_server: StubServer) -> None:
    books = client.search_books("orwell", 5)

    assert [b.title for b in books] == [row["title"] for row in stub_catalogue.search_json("orwell", 5)]
    assert all(b.authors == "George Orwell" and b.year is not None for b in books)
    request = stub_server.backend.requests[-1]
    assert (request.method, request.path, request.query) == (
        "GET",
        "/books/search",
        {"q": ["orwell"], "limit": ["5"]},
    )


def test_search_also_reads_a_books_object(client: HttpBackend, stub_server: StubServer) -> None:
    stub_server.backend.forced = (200, {"books": stub_catalogue.search_json("austen", 5), "total": 2})

    assert [b.title for b in client.search_books("austen", 5)] == ["Pride and Prejudice", "Emma"]


def test_get_book(client: HttpBackend) -> None:
    book = client.get_book(15)

    expected = stub_catalogue.book_json(15)
    assert expected is not None
    assert book == Book(15, expected["title"], expected["authors"], -720, expected["image_url"], 3.73)


def test_unknown_book_is_a_rejection_with_the_servers_detail(client: HttpBackend) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.get_book(999_999)

    assert caught.value.status == 404 and caught.value.detail == "Book not found."


def test_recommend_posts_the_contract_body_and_reads_the_answer(
    client: HttpBackend, stub_server: StubServer
) -> None:
    answer = client.recommend([7, "pride and prejudice", "Nope Nope"], "reader-1", 6)

    body = stub_server.backend.requests[-1].body
    assert body == {"items": [7, "pride and prejudice", "Nope Nope"], "userid": "reader-1", "k": 6}
    assert answer.request_id == "req-1" and answer.model_version == "stub-1"
    assert [r.position for r in answer.books] == list(range(6))
    assert answer.books[0].because == ("The Hobbit",)
    assert [(r.given, r.title) for r in answer.resolved] == [
        ("7", "The Hobbit"),
        ("pride and prejudice", "Pride and Prejudice"),
    ]
    assert answer.unknown == ("Nope Nope",)


def test_recommend_sends_the_optional_fields_when_set(client: HttpBackend, stub_server: StubServer) -> None:
    answer = client.recommend(
        [], "reader-1", 5, genres=["fantasy"], disliked=[24, "Twilight"], one_per_series=True
    )

    body = stub_server.backend.requests[-1].body
    assert body == {
        "items": [],
        "userid": "reader-1",
        "k": 5,
        "genres": ["fantasy"],
        "disliked": [24, "Twilight"],
        "one_per_series": True,
    }
    ids = [r.book.book_id for r in answer.books]
    assert ids and not {24, 3} & set(ids)
    assert all(r.because_genres == ("fantasy",) for r in answer.books)


def test_genres_are_listed_from_the_server(client: HttpBackend, stub_server: StubServer) -> None:
    genres = client.list_genres()

    assert [(g.name, g.books) for g in genres] == [
        (g["name"], g["books"]) for g in stub_catalogue.genres_json()["genres"]
    ]
    assert stub_server.backend.requests[-1].path == "/genres"


def test_a_genre_list_of_the_wrong_shape_means_unavailable(
    client: HttpBackend, stub_server: StubServer
) -> None:
    stub_server.backend.forced = (200, {"genres": "fantasy"})

    with pytest.raises(ServiceUnavailable, match="/genres"):
        client.list_genres()


def test_empty_favourites_are_rejected_with_the_servers_message(client: HttpBackend) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.recommend([], "reader-1", 10)

    assert caught.value.status == 400 and caught.value.detail == "Must enter at least one favorite book."


def test_nothing_resolvable_keeps_unknown_and_suggestions(client: HttpBackend) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.recommend(["Hunger Gamez"], "reader-1", 10)

    detail = caught.value.detail
    assert isinstance(detail, dict)
    assert detail["unknown"] == ["Hunger Gamez"] and detail["suggestions"] == ["The Hunger Games"]


def test_schema_error_is_a_rejection(client: HttpBackend, stub_server: StubServer) -> None:
    stub_server.backend.forced = (422, {"detail": [{"loc": ["body", "k"], "msg": "too big", "type": "x"}]})

    with pytest.raises(RequestRejected) as caught:
        client.recommend(["Dune"], "reader-1", 10)

    assert caught.value.status == 422 and isinstance(caught.value.detail, list)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_mean_unavailable(client: HttpBackend, stub_server: StubServer, status: int) -> None:
    stub_server.backend.forced = (status, {"detail": "Model not loaded yet"})

    with pytest.raises(ServiceUnavailable, match=rf"HTTP {status}\): Model not loaded yet"):
        client.search_books("dune", 5)


def test_an_answer_that_is_not_json_means_unavailable(client: HttpBackend, stub_server: StubServer) -> None:
    stub_server.backend.raw_body = b"<html>proxy error</html>"

    with pytest.raises(ServiceUnavailable, match="not JSON"):
        client.search_books("dune", 5)


def test_json_of_the_wrong_shape_means_unavailable(client: HttpBackend, stub_server: StubServer) -> None:
    stub_server.backend.forced = (200, ["not", "an", "object"])

    with pytest.raises(ServiceUnavailable, match="cannot read"):
        client.recommend(["Dune"], "reader-1", 10)


def test_a_slow_server_times_out_quickly(stub_server: StubServer) -> None:
    stub_server.backend.delay_s = 1.5
    client = HttpBackend(stub_server.url, timeout_s=0.3)

    started = time.perf_counter()
    with pytest.raises(ServiceUnavailable, match=r"did not answer within 0.3 s"):
        client.recommend(["Dune"], "reader-1", 10)
    assert time.perf_counter() - started < 1.4


def test_nothing_listening_means_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpBackend(f"http://127.0.0.1:{port}", timeout_s=1.0)

    with pytest.raises(ServiceUnavailable, match="Could not reach ReadCrumbs"):
        client.check_health()


def test_feedback_posts_the_contract_body(client: HttpBackend, stub_server: StubServer) -> None:
    book = Book(7, "The Hobbit", "J.R.R. Tolkien", 1937)
    client.send_feedback(Vote("reader-1", book, "req-9", 3, -1))

    assert stub_server.backend.feedback == [
        {
            "userid": "reader-1",
            "book_id": 7,
            "title": "The Hobbit",
            "request_id": "req-9",
            "position": 3,
            "feedback": -1,
        }
    ]


def test_failed_feedback_raises(client: HttpBackend, stub_server: StubServer) -> None:
    stub_server.backend.forced = (500, {"detail": "disk full"})

    with pytest.raises(ServiceUnavailable):
        client.send_feedback(Vote("reader-1", Book(7, "The Hobbit"), None, 0, 1))


def test_health(client: HttpBackend, stub_server: StubServer) -> None:
    client.check_health()

    stub_server.backend.forced = (200, {"status": "starting"})
    with pytest.raises(ServiceUnavailable, match="not healthy"):
        client.check_health()
