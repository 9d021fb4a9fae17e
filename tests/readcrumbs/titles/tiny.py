"""A tiny catalogue of the books issue 11's examples name, as plain columns (no pandas)."""

from __future__ import annotations

from typing import Any

from readcrumbs.catalogue import Catalogue

# book_id, title, authors, original_title, ratings_count, popularity (likes in training)
BOOKS: list[tuple[int, str, str, str, int, int]] = [
    (1, "The Hunger Games (The Hunger Games, #1)", "Suzanne Collins", "The Hunger Games", 4780653, 70),
    (
        2,
        "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)",
        "J.K. Rowling, Mary GrandPré",
        "Harry Potter and the Philosopher's Stone",
        4602479,
        66,
    ),
    (3, "Twilight (Twilight, #1)", "Stephenie Meyer", "Twilight", 3866839, 33),
    (7, "The Hobbit", "J.R.R. Tolkien", "The Hobbit or There and Back Again", 2071616, 60),
    (17, "Catching Fire (The Hunger Games, #2)", "Suzanne Collins", "Catching Fire", 2078754, 60),
    (19, "The Fellowship of the Ring (The Lord of the Rings, #1)", "J.R.R. Tolkien", "", 1766803, 55),
    (23, "Harry Potter and the Chamber of Secrets (Harry Potter, #2)", "J.K. Rowling", "", 1821802, 55),
    (126, "Dune (Dune Chronicles #1)", "Frank Herbert", "Dune", 650000, 56),
    (
        144,
        "Unbroken: A World War II Story of Survival, Resilience, and Redemption",
        "Laura Hillenbrand",
        "",
        560000,
        68,
    ),
    (155, "The Two Towers (The Lord of the Rings, #2)", "J.R.R. Tolkien", "The Two Towers", 525000, 61),
    (296, "The Very Hungry Caterpillar Board Book", "Eric Carle", "The Very Hungry Caterpillar", 380000, 62),
    (466, "The Hobbit: Graphic Novel", "Chuck Dixon, J.R.R. Tolkien", "The Hobbit", 155338, 70),
    (1105, "Dune Messiah (Dune Chronicles #2)", "Frank Herbert", "Dune Messiah", 100000, 54),
    (3753, "Harry Potter Collection (Harry Potter, #1-6)", "J.K. Rowling", "", 24618, 80),
    (4107, "Harry Potter: A Pop-Up Book", "Andrew Williamson", "", 22847, 75),
    # More likes in the training sample than book 3, far fewer readers: the bug issue 11 names.
    (4234, "Twilight (The Mediator, #6)", "Meg Cabot", "Twilight", 32489, 90),
    (5000, "The Lighthouse Keeper's Lunch", "Ronda Armitage", "", 3000, 20),
]


def columns(books: list[tuple[int, str, str, str, int, int]] = BOOKS) -> dict[str, list[Any]]:
    """The catalogue columns of ``books``."""
    return {
        "book_id": [book[0] for book in books],
        "title": [book[1] for book in books],
        "authors": [book[2] for book in books],
        "original_title": [book[3] for book in books],
        "ratings_count": [book[4] for book in books],
        "popularity": [book[5] for book in books],
        "genres": [["fantasy"] if book[0] in (2, 7, 19) else [] for book in books],
    }


def tiny_titles_catalogue() -> Catalogue:
    return Catalogue.from_columns(columns())
