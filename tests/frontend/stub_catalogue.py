"""A tiny catalogue and the backend's answers over it, as JSON, per DESIGN.md's HTTP contract.

Shared by the in-memory fake (AppTest) and the stub HTTP server (client tests, screenshots), so
both answer alike. Recommendations are deterministic: the most popular books not given, each
"because" of the first favourite.
"""

from __future__ import annotations

from typing import Any

# (book_id, title, authors, year, average rating), most popular first. Covers point at a host that
# never resolves, so the app's placeholder covers are exercised; some books have no cover at all.
_ROWS: list[tuple[int, str, str, int | None, float | None]] = [
    (1, "The Hunger Games", "Suzanne Collins", 2008, 4.34),
    (
        2,
        "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)",
        "J.K. Rowling, Mary GrandPré",
        1997,
        4.44,
    ),
    (3, "Twilight", "Stephenie Meyer", 2005, 3.57),
    (4, "To Kill a Mockingbird", "Harper Lee", 1960, 4.25),
    (5, "The Great Gatsby", "F. Scott Fitzgerald", 1925, 3.89),
    (6, "The Fault in Our Stars", "John Green", 2012, 4.26),
    (7, "The Hobbit", "J.R.R. Tolkien", 1937, 4.25),
    (8, "The Catcher in the Rye", "J.D. Salinger", 1951, 3.79),
    (9, "Angels & Demons", "Dan Brown", 2000, 3.85),
    (10, "Pride and Prejudice", "Jane Austen", 1813, 4.24),
    (11, "The Kite Runner", "Khaled Hosseini", 2003, 4.26),
    (12, "Divergent", "Veronica Roth", 2011, 4.24),
    (13, "Nineteen Eighty-Four", "George Orwell", 1949, 4.14),
    (14, "Animal Farm", "George Orwell", 1945, 3.87),
    (15, "The Odyssey", "Homer, Robert Fagles", -720, 3.73),
    (16, "The Lord of the Rings", "J.R.R. Tolkien", 1955, 4.47),
    (17, "Dune", "Frank Herbert", 1965, 4.19),
    (18, "Emma", "Jane Austen", 1815, 3.99),
    (19, "Little Women", "Louisa May Alcott", 1868, 4.04),
    (20, "<b>Bold</b> & *Stars* $x$", "Test <script>Author</script>", None, None),
    (21, "Jane Eyre", "Charlotte Brontë", 1847, 4.1),
    (22, "Fahrenheit 451", "Ray Bradbury", 1953, 3.97),
]
CATALOGUE: list[dict[str, Any]] = [
    {"book_id": book_id, "title": title, "authors": authors, "year": year, "rating": rating}
    for book_id, title, authors, year, rating in _ROWS
]


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


def predict_json(items: list[Any], userid: str, k: int, request_id: str) -> tuple[int, dict[str, Any]]:
    """The ``POST /predict`` status and body; ids and exact titles (any case) resolve."""
    if not items:
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
    if not resolved:
        # Like the real backend: one flat list of close titles for all the unknown entries.
        suggestions = [r["title"] for entry in unknown for r in CATALOGUE if _close(entry, r["title"])][:3]
        message = "None of the books could be found: " + ", ".join(repr(entry) for entry in unknown)
        return 400, {"detail": {"message": message, "unknown": unknown, "suggestions": suggestions}}
    given = {r["book_id"] for r in resolved}
    picks = [row for row in CATALOGUE if row["book_id"] not in given][:k]
    books = [
        {**_public(row), "score": round(1.0 - rank / 100, 3), "because": [resolved[0]["title"]]}
        for rank, row in enumerate(picks)
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


def _resolve(item: Any) -> dict[str, Any] | None:
    for row in CATALOGUE:
        if (isinstance(item, int) and row["book_id"] == item) or (
            isinstance(item, str) and row["title"].casefold() == item.strip().casefold()
        ):
            return row
    return None


def _close(entry: str, title: str) -> bool:
    words = {w for w in entry.casefold().split() if len(w) > 2}
    return bool(words & set(title.casefold().split()))


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
