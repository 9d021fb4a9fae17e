"""An in-memory stand-in for the backend, for AppTest: same answers as the stub HTTP server.

It goes through the app's own JSON parsers, so a page test sees exactly what a real answer
would become. ``down`` makes every call fail like an unreachable server; ``feedback_down`` only
the feedback calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from frontend.books import Book, Recommendations, Vote, parse_book, parse_book_list, parse_recommendations
from frontend.errors import RequestRejected, ServiceUnavailable
from tests.frontend import stub_catalogue


class FakeBackend:
    """A :class:`frontend.api_client.BackendAPI` that records every call."""

    def __init__(self) -> None:
        self.down = False
        self.feedback_down = False
        self.searches: list[str] = []
        self.predictions: list[tuple[list[int | str], str, int]] = []
        self.votes: list[Vote] = []

    def search_books(self, query: str, limit: int) -> list[Book]:
        self._fail_if_down()
        self.searches.append(query)
        return parse_book_list(stub_catalogue.search_json(query, limit))

    def get_book(self, book_id: int) -> Book:
        self._fail_if_down()
        row = stub_catalogue.book_json(book_id)
        if row is None:
            raise RequestRejected("no such book", status=404, detail="Book not found.")
        return parse_book(row)

    def recommend(self, favourites: Sequence[int | str], reader_id: str, k: int) -> Recommendations:
        self._fail_if_down()
        items = list(favourites)
        self.predictions.append((items, reader_id, k))
        status, body = stub_catalogue.predict_json(items, reader_id, k, f"req-{len(self.predictions)}")
        if status != 200:
            raise RequestRejected(f"HTTP {status}", status=status, detail=body["detail"])
        return parse_recommendations(body, items)

    def send_feedback(self, vote: Vote) -> None:
        self._fail_if_down()
        if self.feedback_down:
            raise ServiceUnavailable("ReadCrumbs had a problem (HTTP 503).")
        self.votes.append(vote)

    def check_health(self) -> None:
        self._fail_if_down()

    def _fail_if_down(self) -> None:
        if self.down:
            raise ServiceUnavailable("Could not reach ReadCrumbs at http://127.0.0.1:9.")
