"""Which Goodreads shelf names count as genres.

goodbooks-10k's tags are readers' shelf names. The most used ones say how a reader stores a book
(``to-read``, ``owned``, ``kindle``, ``read-in-2015``), not what it is about, so the catalogue's
``genres`` skip them. The stop-list is deliberately small: exact names for the common shelves, and
a few patterns for families of them (years, star ratings, formats, reading challenges). Everything
else, author names included, is kept.
"""

from __future__ import annotations

import re

NON_GENRE_SHELVES: frozenset[str] = frozenset(
    {
        "abandoned",
        "books",
        "borrowed",
        "default",
        "did-not-finish",
        "dnf",
        "english",
        "have",
        "maybe",
        "netgalley",
        "novel",
        "novels",
        "pdf",
        "series",
        "wish-list",
        "wishlist",
    }
)

# Families of shelves, matched anywhere in the name (names are lower-case, words joined by '-').
NON_GENRE_PATTERNS: tuple[str, ...] = (
    r"^1001",  # '1001-books' (a reading list)
    r"(^|-)(19|20)\d\d(-|$)",  # 'read-in-2015', '2016-reads'
    r"^(to|currently|want-to)-",  # 'to-read', 'to-buy', 'currently-reading'
    r"(^|-)(re-?)?read(ing)?(-|$)",  # 'books-i-read', 're-read'
    r"(^|-)(own|owned|i-own|favou?rites?|faves?)(-|$)",  # 'owned-books', 'all-time-favorites'
    r"(^|-)my-",  # 'my-books', 'my-library'
    r"librar(y|ies)",
    r"kindle|audio|audible|(^|-)e-?books?(-|$)",  # formats, not contents
    r"book-?club",
    r"challenge",
    r"(^|-)stars?$",  # '5-stars'
)
# One alternation is searched once per name instead of once per pattern.
_NON_GENRE = re.compile("|".join(f"(?:{pattern})" for pattern in NON_GENRE_PATTERNS))


def is_genre(shelf: str) -> bool:
    """Whether a shelf name says what a book is about (``fantasy``) rather than where it sits."""
    name = shelf.strip().casefold()
    # A name without letters ('-', '1001') says nothing about the book.
    if not any(char.isalpha() for char in name) or name in NON_GENRE_SHELVES:
        return False
    return _NON_GENRE.search(name) is None
