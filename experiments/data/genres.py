"""Which Goodreads shelf names count as genres.

goodbooks-10k's tags are readers' shelf names. The most used ones say how a reader stores a book
(``to-read``, ``owned``, ``kindle``, ``read-in-2015``), not what it is about, so the catalogue's
``genres`` skip them. The stop-list is deliberately small: exact names for the common shelves, and
a few patterns for families of them (years, star ratings, formats, reading challenges). Shelves
named after an author or a series (``stephen-king``, ``discworld``) say who wrote a book, not what
it is: :func:`shelf_names_of` lists those a catalogue's books give, for the data stage to skip.
Spellings of one genre (``sci-fi``, ``scifi``, ``sf``) merge into the most used one
(:data:`SYNONYMS`, :func:`canonical_genre`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from readcrumbs.series import parse_series
from readcrumbs.text import plain_words

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


# Other spellings of a genre → the spelling goodbooks' readers use most. Only plain synonyms,
# plurals and spellings: "historical" (history or historical fiction?) stays as it is.
SYNONYMS: dict[str, str] = {
    "ya": "young-adult",
    "ya-fiction": "young-adult",
    "young-adult-fiction": "young-adult",
    "nonfiction": "non-fiction",
    "sci-fi": "science-fiction",
    "scifi": "science-fiction",
    "sf": "science-fiction",
    "classic": "classics",
    "children": "childrens",
    "children-s": "childrens",
    "children-s-books": "childrens",
    "childrens-books": "childrens",
    "kids": "childrens",
    "kids-books": "childrens",
    "graphic-novel": "graphic-novels",
    "mysteries": "mystery",
    "memoirs": "memoir",
    "dystopia": "dystopian",
    "vampire": "vampires",
    "chicklit": "chick-lit",
    "chic-lit": "chick-lit",
    "thrillers": "thriller",
    "humour": "humor",
    "picture-book": "picture-books",
    "biographies": "biography",
    "cookbook": "cookbooks",
    "mangas": "manga",
    "cómics": "comics",
    "comic": "comics",
    "comic-books": "comics",
    "spiritual": "spirituality",
    "short-story": "short-stories",
    "fairy-tale": "fairy-tales",
    "zombie": "zombies",
    "werewolf": "werewolves",
    "dragon": "dragons",
    "angel": "angels",
    "essay": "essays",
    "play": "plays",
    "poems": "poetry",
}
# An author's surname names a shelf ("koontz") once the author has this many books.
SURNAME_MIN_BOOKS = 5


def canonical_genre(shelf: str) -> str | None:
    """The genre a shelf name stands for (synonyms merged), or None when it is no genre."""
    if not is_genre(shelf):
        return None
    name = shelf.strip().casefold()
    return SYNONYMS.get(name, name)


def _shelf(name: str) -> str:
    """A name as Goodreads writes shelves: lower case, words joined by '-'."""
    return plain_words(name).replace(" ", "-")


def shelf_names_of(titles: Iterable[str], authors: Iterable[str]) -> frozenset[str]:
    """Shelf names that name an author or a series of these books, not a genre.

    Each author's full name ("stephen-king", "j-d-robb" and "jd-robb"), the surname of an author
    with at least :data:`SURNAME_MIN_BOOKS` books ("koontz"), and each series ("discworld").
    """
    names: set[str] = set()
    surnames: Counter[str] = Counter()
    for author_list in authors:
        for author in author_list.split(","):
            words = plain_words(author).split()
            if not words:
                continue
            names.add("-".join(words))
            initials = [word for word in words[:-1] if len(word) == 1]
            if initials:
                names.add("".join(initials) + "-" + "-".join(w for w in words if len(w) > 1))
            if len(words) > 1:
                surnames[words[-1]] += 1
    names.update(surname for surname, books in surnames.items() if books >= SURNAME_MIN_BOOKS)
    for title in titles:
        ref = parse_series(title)
        if ref is not None:
            names.add(_shelf(ref.name))
    return frozenset(names)
