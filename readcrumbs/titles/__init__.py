"""Understanding titles as readers type them: the keys of each book, a candidate index, a resolver.

Works on book *positions* (0..n-1 in the catalogue's order), so it knows nothing of how a book is
shown; :mod:`readcrumbs.catalogue` turns positions into books. Numpy and rapidfuzz only.

- :mod:`~readcrumbs.titles.keys`: every name a book answers to, normalized once at build time;
- :mod:`~readcrumbs.titles.candidates`: a character-trigram index that hands the fuzzy scorers a
  few dozen candidate names instead of the whole catalogue;
- :mod:`~readcrumbs.titles.resolver`: the resolution steps, in order of confidence;
- :mod:`~readcrumbs.titles.search`: search-box matching (word prefixes, typos, author + title).
"""

from readcrumbs.titles.resolver import Found, MatchKind, TitleResolver

__all__ = ["Found", "MatchKind", "TitleResolver"]
