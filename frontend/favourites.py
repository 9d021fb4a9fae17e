"""Turning what a reader types or links into a list of favourites."""

from __future__ import annotations

import re

# More favourites than this adds nothing to a recommendation and risks an oversize request.
MAX_FAVOURITES = 50
# Books turned down that are sent with a request: the latest ones. Older dislikes say less about
# what to show now, and a request must stay small.
MAX_DISLIKED = 50

MIN_RECOMMENDATIONS = 5
MAX_RECOMMENDATIONS = 20
DEFAULT_RECOMMENDATIONS = 10

# "- Dune", "* Dune", "• Dune", "1. Dune", "2) Dune": list markers people paste along with titles.
_LIST_MARKER = re.compile(r"^(?:[-*•·]|\d{1,3}[.)])\s+")
_QUOTES = "\"'“”‘’«»"


def split_pasted_list(text: str) -> list[str]:
    """The titles in a pasted list, in order, each once (ignoring case).

    One title per line; a single line is split on commas outside parentheses, so
    ``"Dune, Emma"`` gives two titles and ``"Harry Potter and the Sorcerer's Stone (Harry Potter, #1)"``
    stays one. List markers and surrounding quotes are dropped.

    >>> split_pasted_list("1. Dune\\n- 'Emma'\\n\\ndune")
    ['Dune', 'Emma']
    """
    lines = [line for line in text.splitlines() if line.strip()]
    pieces = _split_outside_parentheses(lines[0]) if len(lines) == 1 else lines
    titles: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        title = _LIST_MARKER.sub("", piece.strip()).strip().strip(_QUOTES).strip()
        if title and title.casefold() not in seen:
            seen.add(title.casefold())
            titles.append(title)
    return titles


def book_ids_from_query(value: str | None) -> list[int]:
    """Book ids from a ``?books=1,2,3`` query value, in order, each once; other text is ignored."""
    if not value:
        return []
    ids: list[int] = []
    for piece in re.split(r"[,\s]+", value):
        if piece.isdigit() and int(piece) not in ids:
            ids.append(int(piece))
    return ids[:MAX_FAVOURITES]


def genres_from_query(value: str | None) -> list[str]:
    """Genre names from a ``?genres=fantasy,classics`` query value, in order, each once."""
    if not value:
        return []
    genres: list[str] = []
    for piece in value.split(","):
        name = piece.strip()
        if name and name not in genres:
            genres.append(name)
    return genres[:MAX_FAVOURITES]


def recommendations_from_query(value: str | None) -> int:
    """A ``?k=`` query value clamped to the allowed range; the default when absent or not a number."""
    if value is None or not value.strip().isdigit():
        return DEFAULT_RECOMMENDATIONS
    return max(MIN_RECOMMENDATIONS, min(MAX_RECOMMENDATIONS, int(value)))


def _split_outside_parentheses(line: str) -> list[str]:
    pieces: list[str] = []
    depth = 0
    current: list[str] = []
    for char in line:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces
