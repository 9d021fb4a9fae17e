"""Text normalization for book-title lookup."""

from __future__ import annotations

import re
import unicodedata

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+")
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalize_title(title: str) -> str:
    """A lookup key that ignores case, accents, punctuation and a leading article.

    >>> normalize_title("  The Hobbit, or There and Back Again ")
    'hobbit or there and back again'
    >>> normalize_title("Les Misérables")
    'les miserables'
    """
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()
    return _LEADING_ARTICLE.sub("", text)
