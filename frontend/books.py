"""What the app shows, read defensively from the backend's JSON.

The backend may add fields or leave optional ones out (an older server answers ``/predict`` with
``recs`` only), so every parser here takes what it knows, ignores the rest, and raises
``ValueError`` only when an answer cannot be shown at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Keys under which a server might echo the reader's own text for a resolved item.
_GIVEN_KEYS = ("input", "item", "given", "query", "raw")


@dataclass(frozen=True)
class Book:
    """A catalogue book as the app shows it; ``year`` is negative for books written BC."""

    book_id: int | None
    title: str
    authors: str = ""
    year: int | None = None
    image_url: str | None = None
    average_rating: float | None = None


@dataclass(frozen=True)
class RecommendedBook:
    """One recommendation; ``position`` is its index in the list (0 = top).

    ``because`` names the favourites that earned it its place, strongest first;
    ``because_genres`` the picked genres that steered it there.
    """

    book: Book
    position: int
    score: float | None = None
    because: tuple[str, ...] = ()
    because_genres: tuple[str, ...] = ()


@dataclass(frozen=True)
class Genre:
    """A genre a reader can start from, with how many catalogue books carry it."""

    name: str
    books: int = 0


@dataclass(frozen=True)
class ResolvedItem:
    """A favourite the backend recognised: what the reader gave (if echoed) and the book it became."""

    given: str | None
    title: str
    book_id: int | None = None


@dataclass(frozen=True)
class Recommendations:
    """The answer to one ``/predict``; ``request_id`` ties later feedback to it."""

    request_id: str | None
    model_version: str | None
    books: tuple[RecommendedBook, ...]
    resolved: tuple[ResolvedItem, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    """A refused request, read from a 4xx ``detail``.

    ``suggestions`` maps an unknown entry to close titles; the key ``""`` holds suggestions the
    server did not tie to one entry.
    """

    message: str
    unknown: tuple[str, ...] = ()
    suggestions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Vote:
    """A reader's like (``value`` = +1) or dislike (-1) of one recommended book."""

    reader_id: str
    book: Book
    request_id: str | None
    position: int
    value: int

    def as_payload(self) -> dict[str, Any]:
        """The ``POST /feedback`` body."""
        return {
            "userid": self.reader_id,
            "book_id": self.book.book_id,
            "title": self.book.title,
            "request_id": self.request_id,
            "position": self.position,
            "feedback": self.value,
        }


def parse_book(raw: object) -> Book:
    """A :class:`Book` from one JSON object; ``ValueError`` if it has no title."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"a book must be a JSON object, got {type(raw).__name__}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("a book needs a title")
    return Book(
        book_id=_as_int(raw.get("book_id")),
        title=title.strip(),
        authors=_as_authors(raw.get("authors")),
        year=_as_int(raw.get("year", raw.get("original_publication_year"))),
        image_url=_as_http_url(raw.get("image_url")),
        average_rating=_as_float(raw.get("average_rating")),
    )


def parse_book_list(payload: object) -> list[Book]:
    """Books from a search answer: a bare list or ``{"books": [...]}``; untitled entries are skipped."""
    if isinstance(payload, Mapping):
        payload = payload.get("books", payload.get("results"))
    if not isinstance(payload, list):
        raise ValueError("a book list must be a JSON list or an object with a 'books' list")
    books = []
    for raw in payload:
        try:
            books.append(parse_book(raw))
        except ValueError:
            continue  # one malformed row should not hide the rest of the catalogue
    return books


def parse_recommendations(payload: object, items: Sequence[int | str]) -> Recommendations:
    """A :class:`Recommendations` from a ``/predict`` answer to the favourites ``items``.

    ``books`` is preferred; a server that sends only ``recs`` (titles) still yields cards.
    """
    if not isinstance(payload, Mapping):
        raise ValueError("a /predict answer must be a JSON object")
    raw_books = payload.get("books")
    recommended: list[RecommendedBook] = []
    if isinstance(raw_books, list) and raw_books:
        for raw in raw_books:
            if not isinstance(raw, Mapping):
                continue
            try:
                book = parse_book(raw)
            except ValueError:
                continue
            recommended.append(
                RecommendedBook(
                    book=book,
                    position=len(recommended),
                    score=_as_float(raw.get("score")),
                    because=_as_strings(raw.get("because")),
                    because_genres=_as_strings(raw.get("because_genres")),
                )
            )
    else:
        for title in _as_strings(payload.get("recs")):
            recommended.append(RecommendedBook(book=Book(None, title), position=len(recommended)))
    if "books" not in payload and "recs" not in payload:
        raise ValueError("a /predict answer needs 'books' or 'recs'")
    unknown = _as_strings(payload.get("unknown"))
    return Recommendations(
        request_id=_as_text(payload.get("request_id")),
        model_version=_as_text(payload.get("model_version")),
        books=tuple(recommended),
        resolved=_parse_resolved(payload.get("resolved"), items, unknown),
        unknown=unknown,
    )


def parse_genres(payload: object) -> list[Genre]:
    """Genres from a ``GET /genres`` answer, ``{"genres": [{"name", "books"}]}``, in the order sent
    (most books first); a bare list of names or objects is read too, and unnamed entries skipped."""
    if isinstance(payload, Mapping):
        payload = payload.get("genres")
    if not isinstance(payload, list):
        raise ValueError("a genre list must be an object with a 'genres' list")
    genres: list[Genre] = []
    seen: set[str] = set()
    for raw in payload:
        name = _as_text(raw.get("name")) if isinstance(raw, Mapping) else _as_text(raw)
        if name is None or isinstance(raw, int | float) or name in seen:
            continue
        seen.add(name)
        count = _as_int(raw.get("books")) if isinstance(raw, Mapping) else None
        genres.append(Genre(name, max(count or 0, 0)))
    return genres


def parse_rejection(detail: object, fallback: str) -> Rejection:
    """A :class:`Rejection` from a 4xx ``detail``: a string, an object, or FastAPI's 422 list."""
    if isinstance(detail, str) and detail.strip():
        return Rejection(message=detail.strip())
    if isinstance(detail, Mapping):
        message = _as_text(detail.get("message")) or _as_text(detail.get("detail")) or fallback
        unknown = _as_strings(detail.get("unknown"))
        return Rejection(message, unknown, _parse_suggestions(detail.get("suggestions")))
    if isinstance(detail, list):
        problems = [_as_text(d.get("msg")) for d in detail if isinstance(d, Mapping)]
        text = "; ".join(p for p in problems if p)
        return Rejection(message=f"{fallback}: {text}" if text else fallback)
    return Rejection(message=fallback)


def _parse_resolved(
    raw: object, items: Sequence[int | str], unknown: Sequence[str]
) -> tuple[ResolvedItem, ...]:
    """Pair each resolved entry with the reader's text.

    A server may echo the text (``{"input": ..., "title": ...}``) or send titles only, in the order
    of the items it recognised; in the second case the pairing is by position, and only when the
    counts agree.
    """
    if not isinstance(raw, list):
        return ()
    unknown_set = set(unknown)
    recognised = [str(item) for item in items if str(item) not in unknown_set]
    pair_by_position = len(raw) == len(recognised)
    resolved = []
    for index, entry in enumerate(raw):
        given: str | None = None
        book_id: int | None = None
        if isinstance(entry, Mapping):
            title = _as_text(entry.get("title"))
            given = next((g for k in _GIVEN_KEYS if (g := _as_text(entry.get(k))) is not None), None)
            book_id = _as_int(entry.get("book_id"))
        else:
            title = _as_text(entry)
        if title is None:
            continue
        if given is None and pair_by_position:
            given = recognised[index]
        resolved.append(ResolvedItem(given=given, title=title, book_id=book_id))
    return tuple(resolved)


def _parse_suggestions(raw: object) -> dict[str, tuple[str, ...]]:
    """``{"entry": [titles]}``, ``[titles]`` or ``[{"item": ..., "suggestions": [...]}]`` as a mapping."""
    if isinstance(raw, Mapping):
        return {str(key): _as_strings(value) for key, value in raw.items()}
    if isinstance(raw, list):
        if all(isinstance(entry, str) for entry in raw):
            return {"": _as_strings(raw)}
        suggestions: dict[str, tuple[str, ...]] = {}
        for entry in raw:
            if not isinstance(entry, Mapping):
                continue
            given = next((g for k in _GIVEN_KEYS if (g := _as_text(entry.get(k))) is not None), "")
            suggestions[given] = _as_strings(entry.get("suggestions", entry.get("titles")))
        return suggestions
    return {}


def _as_text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _as_strings(value: object) -> tuple[str, ...]:
    """A list of titles (strings, or objects with a ``title``) as a tuple of non-empty strings."""
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if not isinstance(value, list):
        return ()
    texts = []
    for entry in value:
        text = _as_text(entry.get("title")) if isinstance(entry, Mapping) else _as_text(entry)
        if text is not None:
            texts.append(text)
    return tuple(texts)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except (ValueError, OverflowError):  # "nan", "inf", "abc"
            return None
    return None


def _as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _as_authors(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(a.strip() for a in value if isinstance(a, str) and a.strip())
    return value.strip() if isinstance(value, str) else ""


def _as_http_url(value: object) -> str | None:
    # Only web addresses become covers: a javascript: or data: URL from a bad catalogue row must not.
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None
