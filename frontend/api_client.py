"""The app's only way to the backend: a small HTTP client over the backend's JSON API.

Every failure becomes one of two typed errors, so the page can answer each politely::

    ServiceUnavailable   refused, timed out, 5xx, or a body that is not the JSON we expect
    RequestRejected      a 4xx; ``.status`` and ``.detail`` as the server sent them

Tests of the page swap in any object with the :class:`BackendAPI` methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import requests

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

# Connecting to a live server on the same network takes milliseconds; waiting longer only
# delays the "not reachable" message.
_CONNECT_TIMEOUT_S = 3.0

T = TypeVar("T")


class BackendAPI(Protocol):
    """What the page asks of the backend."""

    def search_books(self, query: str, limit: int) -> list[Book]:
        """Catalogue books matching ``query`` by title or author, most popular first."""
        ...

    def get_book(self, book_id: int) -> Book:
        """One catalogue book."""
        ...

    def list_genres(self) -> list[Genre]:
        """The genres a reader can start from, most books first."""
        ...

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
        """``k`` books for a reader who loves ``favourites`` (book ids or free-text titles) and/or
        the ``genres``, never one of ``disliked``; ``one_per_series``: at most one book per series."""
        ...

    def send_feedback(self, vote: Vote) -> None:
        """Record a like or dislike."""
        ...

    def check_health(self) -> None:
        """Return if the backend is alive; raise :class:`ServiceUnavailable` if not."""
        ...


class HttpBackend:
    """:class:`BackendAPI` over HTTP with ``requests``; one instance per browser session."""

    def __init__(self, api_url: str, timeout_s: float, session: requests.Session | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = session or requests.Session()

    def search_books(self, query: str, limit: int) -> list[Book]:
        payload = self._call("GET", "/books/search", params={"q": query, "limit": limit})
        return _parsed("/books/search", parse_book_list, payload)

    def get_book(self, book_id: int) -> Book:
        payload = self._call("GET", f"/books/{int(book_id)}")
        return _parsed("/books/{book_id}", parse_book, payload)

    def list_genres(self) -> list[Genre]:
        payload = self._call("GET", "/genres")
        return _parsed("/genres", parse_genres, payload)

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
        items = list(favourites)
        body: dict[str, Any] = {"items": items, "userid": reader_id, "k": k}
        # Optional fields go only when set, so the request stays the prototype's when unused.
        if genres:
            body["genres"] = list(genres)
        if disliked:
            body["disliked"] = list(disliked)
        if one_per_series:
            body["one_per_series"] = True
        payload = self._call("POST", "/predict", json=body)
        return _parsed("/predict", lambda p: parse_recommendations(p, items), payload)

    def send_feedback(self, vote: Vote) -> None:
        self._call("POST", "/feedback", json=vote.as_payload())

    def check_health(self) -> None:
        payload = self._call("GET", "/health")
        if not (isinstance(payload, dict) and payload.get("status") == "ok"):
            raise ServiceUnavailable(f"ReadCrumbs at {self.api_url} says it is not healthy: {payload!r}")

    def _call(self, method: str, path: str, **kwargs: Any) -> object:
        """Send one request and return its JSON body; map every failure to a typed error."""
        url = self.api_url + path
        try:
            response = self._session.request(
                method, url, timeout=(min(_CONNECT_TIMEOUT_S, self.timeout_s), self.timeout_s), **kwargs
            )
        except requests.Timeout as exc:
            raise ServiceUnavailable(
                f"ReadCrumbs did not answer within {self.timeout_s:g} s ({method} {path})."
            ) from exc
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"Could not reach ReadCrumbs at {self.api_url}.") from exc
        detail = _detail_of(response)
        if response.status_code >= 500:
            reason = f": {detail}" if isinstance(detail, str) else "."
            raise ServiceUnavailable(f"ReadCrumbs had a problem (HTTP {response.status_code}){reason}")
        if response.status_code >= 400:
            raise RequestRejected(
                f"ReadCrumbs refused {method} {path} (HTTP {response.status_code}).",
                status=response.status_code,
                detail=detail,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceUnavailable(
                f"ReadCrumbs sent an answer that is not JSON ({method} {path})."
            ) from exc


def _parsed(path: str, parse: Callable[[object], T], payload: object) -> T:
    """``parse(payload)``, with a malformed answer reported as the backend's failure."""
    try:
        return parse(payload)
    except ValueError as exc:
        raise ServiceUnavailable(f"ReadCrumbs sent an answer this app cannot read ({path}): {exc}") from exc


def _detail_of(response: requests.Response) -> object:
    """The ``detail`` field of an error body, or ``None`` when there is none."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None
