"""An in-memory stand-in for the backend, for AppTest: same answers as the stub HTTP server.

It goes through the app's own JSON parsers, so a page test sees exactly what a real answer
would become. ``down`` makes every call fail like an unreachable server; ``feedback_down`` only
the feedback calls, ``genres_down`` only ``GET /genres``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from frontend.books import (
    Book,
    Genre,
    Recommendations,
    Vote,
    parse_book,
    parse_book_list,
    parse_genres,
    parse_recommendations,
)
from frontend.errors import RequestRejected, ServiceUnavailable
from tests.frontend import stub_catalogue


@dataclass(frozen=True)
class Prediction:
    """One ``/predict`` the page asked for, with every field of the request."""

    items: list[int | str]
    reader_id: str
    k: int
    genres: list[str]
    disliked: list[int | str]
    one_per_series: bool


class FakeBackend:
    """A :class:`frontend.api_client.BackendAPI` that records every call."""

    def __init__(self) -> None:
        self.down = False
        self.feedback_down = False
        self.genres_down = False
        self.searches: list[str] = []
        self.genre_lists = 0
        self.requests: list[Prediction] = []
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

    def list_genres(self) -> list[Genre]:
        self._fail_if_down()
        self.genre_lists += 1
        if self.genres_down:
            raise ServiceUnavailable("ReadCrumbs did not answer within 10 s (GET /genres).")
        return parse_genres(stub_catalogue.genres_json())

    def recommend(
        self,
        favourites: Sequence[int | str],
        reader_id: str,
        k: int,
        *,
        genres: Sequence[str] = (),
        disliked: Sequence[int | str] = (),
        one_per_series: bool = False,
    ) -> Recommendations:
        self._fail_if_down()
        items = list(favourites)
        self.predictions.append((items, reader_id, k))
        self.requests.append(Prediction(items, reader_id, k, list(genres), list(disliked), one_per_series))
        status, body = stub_catalogue.predict_json(
            items,
            reader_id,
            k,
            f"req-{len(self.predictions)}",
            genres=list(genres),
            disliked=list(disliked),
            one_per_series=one_per_series,
        )
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
