"""Series membership as goodbooks titles carry it: a trailing note such as ``(The Hunger Games, #2)``.

Shared by title resolution (series shorthand such as "hunger games 2") and by ranking (the option
of at most one book per series). Only the first series of a note counts: in
``(Discworld, #8; Rincewind #1)`` the book is Discworld volume 8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from readcrumbs.text import normalize_title

# "(Name, #2)", "(Name #2)", "(Name, #1.5)", "(Name, #1-3)"; a note without a volume number
# ("(Movie Tie-In Edition)") is not a series.
_SERIES_NOTE = re.compile(r"\((?P<name>[^()#;]*?),?\s*#\s*(?P<volume>\d+(?:\.\d+)?)[^()]*\)\s*$")


@dataclass(frozen=True, slots=True)
class SeriesRef:
    """A book's place in a series: ``name`` as written, ``key`` its normalized form, ``volume`` its number."""

    name: str
    key: str
    volume: float


def parse_series(title: str) -> SeriesRef | None:
    """The series a goodbooks title names in its trailing note, or None.

    >>> parse_series("Catching Fire (The Hunger Games, #2)")
    SeriesRef(name='The Hunger Games', key='hunger games', volume=2.0)
    >>> parse_series("Dune Messiah (Dune Chronicles #2)").volume
    2.0
    >>> parse_series("The Hobbit") is None
    True
    """
    found = _SERIES_NOTE.search(title)
    if found is None:
        return None
    name = found["name"].strip()
    key = normalize_title(name)
    if not key:
        return None
    return SeriesRef(name=name, key=key, volume=float(found["volume"]))
