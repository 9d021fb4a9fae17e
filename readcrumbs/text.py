"""Text normalization for book-title lookup."""

from __future__ import annotations

import re
import unicodedata

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+")
# Runs of anything but letters and digits (punctuation and spaces alike) become one space.
_NOT_WORD = re.compile(r"\W+")


def normalize_title(title: str) -> str:
    """A lookup key that ignores case, accents, punctuation and a leading article; "&" is "and".

    >>> normalize_title("  The Hobbit, or There and Back Again ")
    'hobbit or there and back again'
    >>> normalize_title("Les Misérables")
    'les miserables'
    >>> normalize_title("War & Peace") == normalize_title("War and Peace")
    True
    """
    if "&" in title:  # readers and titles write it both ways: "Angels & Demons"
        title = title.replace("&", " and ")
    if title.isascii():  # most titles: nothing to decompose (and this path is ~5x faster)
        text = title.casefold()
    else:
        text = unicodedata.normalize("NFKD", title)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _NOT_WORD.sub(" ", text).strip()
    return _LEADING_ARTICLE.sub("", text)


# A trailing parenthesised note: goodbooks titles carry the series there, "(Dune Chronicles, #1)".
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
# Where a subtitle starts: a colon, or a dash with spaces around it ("Title - Subtitle").
_SUBTITLE = re.compile(r"\s*:\s*|\s+[-–—]\s+")


def strip_note(title: str) -> str:
    """The title without a trailing parenthesised note.

    >>> strip_note("Catching Fire (The Hunger Games, #2)")
    'Catching Fire'
    """
    return _TRAILING_NOTE.sub("", title).strip()


def main_title(title: str) -> str:
    """The title before its subtitle (and without its note); the whole title when it has none.

    >>> main_title("Unbroken: A World War II Story of Survival, Resilience, and Redemption")
    'Unbroken'
    """
    return _SUBTITLE.split(strip_note(title), maxsplit=1)[0].strip()


def acronym(key: str) -> str:
    """The first letters of a normalized name's words: 'lord of the rings' -> 'lotr'."""
    return "".join(word[0] for word in key.split())
