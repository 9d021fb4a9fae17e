"""Search-box matching: what a reader types into the picker, with the resolver's understanding.

Tiers, each most popular first within, each book once:

1. the book the resolver reads the query as (:class:`~readcrumbs.titles.resolver.TitleResolver`,
   so "the two towers lotr 2" or "harry poter 1" put that book first);
2. titles starting with the query;
3. books whose title and authors together hold every word of the query, each as a word start
   ("herbert dune", "lord of"), then those where some words only match with a typo ("hungry
   caterpilar", "tolkein"), fewer typos first.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from rapidfuzz import fuzz, process

from readcrumbs.text import normalize_title
from readcrumbs.titles.resolver import TitleResolver

# A word of the query matches a catalogue word with at most about one slip in five letters.
WORD_FUZZY_THRESHOLD = 80.0
# Shorter words have too many neighbours one letter away ("cat": "car", "bat", …).
WORD_FUZZY_MIN_CHARS = 4
WORD_FUZZY_LIMIT = 8


class TitleSearch:
    """Search over the keys of one catalogue's resolver."""

    def __init__(self, resolver: TitleResolver) -> None:
        keys = resolver.keys
        self.resolver = resolver
        self.rank = keys.rank
        # Most popular first, so the title-prefix scan can stop at ``limit`` and keep the best.
        self._ranked = sorted(range(len(keys.full_names)), key=keys.rank.__getitem__)
        self._ranked_titles = [keys.full_names[p] for p in self._ranked]
        postings: dict[str, set[int]] = defaultdict(set)
        for position, (title, authors) in enumerate(zip(keys.full_names, keys.author_names, strict=True)):
            for word in f"{title} {authors}".split():
                postings[word].add(position)
        self._vocabulary = sorted(postings)
        self._postings = [frozenset(postings[word]) for word in self._vocabulary]

    def search(self, query: str, limit: int) -> list[int]:
        """Positions of up to ``limit`` books for ``query``, best first (tiers of the module doc)."""
        norm = normalize_title(query)
        if not norm or limit < 1:
            return []
        found: dict[int, None] = {}
        match = self.resolver.resolve(query)
        if match is not None:
            found[match.position] = None
        prefix = norm
        for position, title in zip(self._ranked, self._ranked_titles, strict=True):
            if len(found) >= limit:
                break
            if title.startswith(prefix):
                found[position] = None
        if len(found) < limit:
            for position in self._all_words(norm.split()):
                found[position] = None
                if len(found) >= limit:
                    break
        return list(found)[:limit]

    def _all_words(self, words: list[str]) -> list[int]:
        """Books holding every word (as a word start, or with a typo), fewest typos, then most popular."""
        typos: dict[int, int] = {}
        for index, word in enumerate(words):
            exact = self._starting_with(word)
            near = self._near(word) - exact if len(word) >= WORD_FUZZY_MIN_CHARS else set()
            if index == 0:
                typos = {position: 0 for position in exact} | {position: 1 for position in near}
            else:
                typos = {
                    position: count + (position not in exact)
                    for position, count in typos.items()
                    if position in exact or position in near
                }
            if not typos:
                return []
        return sorted(typos, key=lambda position: (typos[position], self.rank[position]))

    def _starting_with(self, word: str) -> set[int]:
        books: set[int] = set()
        start = bisect.bisect_left(self._vocabulary, word)
        for index in range(start, len(self._vocabulary)):
            if not self._vocabulary[index].startswith(word):
                break
            books |= self._postings[index]
        return books

    def _near(self, word: str) -> set[int]:
        books: set[int] = set()
        for _, _, index in process.extract(
            word,
            self._vocabulary,
            scorer=fuzz.ratio,
            score_cutoff=WORD_FUZZY_THRESHOLD,
            limit=WORD_FUZZY_LIMIT,
        ):
            books |= self._postings[index]
        return books
