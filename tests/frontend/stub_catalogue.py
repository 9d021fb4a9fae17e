"""A tiny catalogue and the backend's answers over it, as JSON, per DESIGN.md's HTTP contract.

Shared by the in-memory fake (AppTest) and the stub HTTP server (client tests, screenshots), so
both answer alike. Recommendations are deterministic (see :func:`predict_json`), and honour the
contract's optional fields: ``genres`` (with or without favourites), ``disliked`` and
``one_per_series``; ``GET /genres`` lists the catalogue's genres.
"""

from __future__ import annotations

import re
from typing import Any

# (book_id, title, authors, year, average rating, genres), most popular first. Covers point at a
# host that never resolves, so the app's placeholder covers are exercised; some have no cover.
# Two series run through the top of the list, so "one book per series" changes what is shown.
_ROWS: list[tuple[int, str, str, int | None, float | None, tuple[str, ...]]] = [
    (1, "The Hunger Games", "Suzanne Collins", 2008, 4.34, ("young-adult", "science-fiction")),
    (
        2,
        "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)",
        "J.K. Rowling, Mary GrandPré",
        1997,
        4.44,
        ("fantasy", "young-adult"),
    ),
    (
        23,
        "Catching Fire (The Hunger Games, #2)",
        "Suzanne Collins",
        2009,
        4.3,
        ("young-adult", "science-fiction"),
    ),
    (
        24,
        "Harry Potter and the Chamber of Secrets (Harry Potter, #2)",
        "J.K. Rowling",
        1998,
        4.37,
        ("fantasy",),
    ),
    (3, "Twilight", "Stephenie Meyer", 2005, 3.57, ("young-adult", "romance", "fantasy")),
    (
        25,
        "Mockingjay (The Hunger Games, #3)",
        "Suzanne Collins",
        2010,
        4.03,
        ("young-adult", "science-fiction"),
    ),
    (4, "To Kill a Mockingbird", "Harper Lee", 1960, 4.25, ("classics",)),
    (5, "The Great Gatsby", "F. Scott Fitzgerald", 1925, 3.89, ("classics",)),
    (6, "The Fault in Our Stars", "John Green", 2012, 4.26, ("young-adult", "romance")),
    (7, "The Hobbit", "J.R.R. Tolkien", 1937, 4.25, ("fantasy", "classics")),
    (8, "The Catcher in the Rye", "J.D. Salinger", 1951, 3.79, ("classics",)),
    (9, "Angels & Demons", "Dan Brown", 2000, 3.85, ("mystery",)),
    (10, "Pride and Prejudice", "Jane Austen", 1813, 4.24, ("classics", "romance")),
    (11, "The Kite Runner", "Khaled Hosseini", 2003, 4.26, ()),
    (12, "Divergent", "Veronica Roth", 2011, 4.24, ("young-adult", "science-fiction")),
    (13, "Nineteen Eighty-Four", "George Orwell", 1949, 4.14, ("classics", "science-fiction")),
    (14, "Animal Farm", "George Orwell", 1945, 3.87, ("classics",)),
    (15, "The Odyssey", "Homer, Robert Fagles", -720, 3.73, ("classics",)),
    (16, "The Lord of the Rings", "J.R.R. Tolkien", 1955, 4.47, ("fantasy", "classics")),
    (17, "Dune", "Frank Herbert", 1965, 4.19, ("science-fiction",)),
    (18, "Emma", "Jane Austen", 1815, 3.99, ("classics", "romance")),
    (19, "Little Women", "Louisa May Alcott", 1868, 4.04, ("classics",)),
    (20, "<b>Bold</b> & *Stars* $x$", "Test <script>Author</script>", None, None, ()),
    (21, "Jane Eyre", "Charlotte Brontë", 1847, 4.1, ("classics", "romance")),
    (22, "Fahrenheit 451", "Ray Bradbury", 1953, 3.97, ("classics", "science-fiction")),
]
CATALOGUE: list[dict[str, Any]] = [
    {"book_id": book_id, "title": title, "authors": authors, "year": year, "rating": rating, "genres": genres}
    for book_id, title, authors, year, rating, genres in _ROWS
]
# "Title (Series, #2)": the series and the volume, as goodbooks writes them.
_SERIES = re.compile(r"\((?P<name>[^()#]+?),?\s*#(?P<volume>\d+)\)\s*$")
_SERIES_OF_BARE_TITLE = {1: ("The Hunger Games", 1)}  # goodbooks' own title has no suffix here


def book_json(book_id: int) -> dict[str, Any] | None:
    """The ``GET /books/{book_id}`` body, or ``None`` for an unknown id."""
    for row in CATALOGUE:
        if row["book_id"] == book_id:
            return _public(row)
    return None


def search_json(query: str, limit: int) -> list[dict[str, Any]]:
    """The ``GET /books/search`` body, most popular first: title or author contains the query;
    failing that (a crude stand-in for fuzzy matching), titles sharing a word with it."""
    needle = query.strip().casefold()
    hits = [
        row for row in CATALOGUE if needle in row["title"].casefold() or needle in row["authors"].casefold()
    ]
    hits = hits or [row for row in CATALOGUE if _close(query, row["title"])]
    return [_public(row) for row in hits[:limit]]


def genres_json() -> dict[str, Any]:
    """The ``GET /genres`` body: every genre with its number of books, most books first."""
    counts: dict[str, int] = {}
    for row in CATALOGUE:
        for genre in row["genres"]:
            counts[genre] = counts.get(genre, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {"genres": [{"name": name, "books": books} for name, books in ranked]}


def predict_json(
    items: list[Any],
    userid: str,
    k: int,
    request_id: str,
    *,
    genres: list[str] | None = None,
    disliked: list[Any] | None = None,
    one_per_series: bool = False,
) -> tuple[int, dict[str, Any]]:
    """The ``POST /predict`` status and body; ids and exact titles (any case) resolve.

    Favourites alone: the most popular books not given, each "because" of the first favourite.
    Genres alone: the best-rated books of those genres, "because" of the genres. Both: the
    favourites' list with the picked genres' books moved up. ``disliked`` books are never shown;
    ``one_per_series`` keeps only the lowest volume not given of each series.
    """
    known_genres = {genre for row in CATALOGUE for genre in row["genres"]}
    picked = [genre for genre in genres or [] if genre in known_genres]
    if not items and not picked:
        return 400, {"detail": "Must enter at least one favorite book."}
    resolved: list[dict[str, Any]] = []
    unknown: list[str] = []
    for item in items:
        row = _resolve(item)
        if row is None:
            unknown.append(str(item))
        else:
            resolved.append(
                {"item": item, "book_id": row["book_id"], "title": row["title"], "match": "exact"}
            )
    if items and not resolved and not picked:
        # Like the real backend: one flat list of close titles for all the unknown entries.
        suggestions = [r["title"] for entry in unknown for r in CATALOGUE if _close(entry, r["title"])][:3]
        message = "None of the books could be found: " + ", ".join(repr(entry) for entry in unknown)
        return 400, {"detail": {"message": message, "unknown": unknown, "suggestions": suggestions}}
    given = {r["book_id"] for r in resolved}
    hidden = given | {row["book_id"] for item in disliked or [] if (row := _resolve(item)) is not None}
    candidates = [row for row in CATALOGUE if row["book_id"] not in hidden]
    if not resolved:
        candidates = sorted(
            (row for row in candidates if set(row["genres"]) & set(picked)),
            key=lambda row: -(row["rating"] or 0),
        )
    elif picked:
        candidates.sort(key=lambda row: not set(row["genres"]) & set(picked))  # stable: popularity within
    if one_per_series:
        candidates = _next_volumes_only(candidates)
    books = [
        {
            **_public(row),
            "score": round(1.0 - rank / 100, 3),
            "because": [resolved[0]["title"]] if resolved else [],
            "because_genres": [genre for genre in picked if genre in row["genres"]],
        }
        for rank, row in enumerate(candidates[:k])
    ]
    for book in books:
        del book["average_rating"]  # the contract's /predict books carry no rating
    return 200, {
        "recs": [b["title"] for b in books],
        "books": books,
        "request_id": request_id,
        "model_version": "stub-1",
        "resolved": resolved,
        "unknown": unknown,
    }


def series_of(row: dict[str, Any]) -> tuple[str, int] | None:
    """The series a catalogue row belongs to and its volume, or ``None``."""
    match = _SERIES.search(row["title"])
    if match is not None:
        return match["name"].strip(), int(match["volume"])
    return _SERIES_OF_BARE_TITLE.get(row["book_id"])


def _next_volumes_only(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``candidates`` with, of each series, only its lowest volume among them."""
    lowest: dict[str, int] = {}
    for row in candidates:
        if (series := series_of(row)) is not None:
            lowest[series[0]] = min(lowest.get(series[0], series[1]), series[1])
    return [row for row in candidates if (series := series_of(row)) is None or lowest[series[0]] == series[1]]


def _resolve(item: Any) -> dict[str, Any] | None:
    for row in CATALOGUE:
        if (isinstance(item, int) and row["book_id"] == item) or (
            isinstance(item, str) and row["title"].casefold() == item.strip().casefold()
        ):
            return row
    return None


def _close(entry: str, title: str) -> bool:
    words = {w for w in entry.casefold().split() if len(w) > 2}
    main_title = title.split(" (")[0]  # the series suffix is not what a reader misspells
    return bool(words & set(main_title.casefold().split()))


def _public(row: dict[str, Any]) -> dict[str, Any]:
    book_id = row["book_id"]
    return {
        "book_id": book_id,
        "title": row["title"],
        "authors": row["authors"],
        "year": row["year"],
        "image_url": None if book_id % 7 == 0 else f"https://covers.invalid/{book_id}.jpg",
        "average_rating": row["rating"],
    }
