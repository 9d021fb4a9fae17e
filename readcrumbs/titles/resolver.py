"""Resolving what a reader typed to a book, in order of confidence; the first step that finds it wins.

1. ``exact``: the title exactly as in the catalogue;
2. ``normalized``: :func:`~readcrumbs.text.normalize_title` (case, accents, punctuation,
   apostrophes, a leading article), of the title or of the title without its series note;
   steps 2–4 also read numbers in words as digits ("13 reasons why", "catch twenty two");
3. ``original``: goodbooks' ``original_title`` ("Harry Potter and the Philosopher's Stone");
4. ``main_title``: the title before its subtitle ("Unbroken"), or after its series' name
   ("Goblet of Fire", "Theodore Boone: Kid Lawyer" as "Kid Lawyer");
5. ``book_id``: a string of digits that is no title stops here, for the catalogue to look it up
   as a book_id (a JSON integer never reaches the resolver);
6. ``by_author``: "<title> by <author>", "<author> - <title>" or "<title> - <author>", the title
   matched among that author's books only (typos allowed there, the author's books are few);
7. ``series``: series shorthand, "hunger games 2", "harry potter #1", "lotr 2", "percy jackson 1"
   (the head of "Percy Jackson and the Olympians"), "the two towers lotr 2", the series name
   allowed a typo ("harry poter 1");
8. ``by_author`` and ``series`` with no word between: "1984 george orwell", "orwell 1984",
   "hunger games catching fire": the words split where an author's name (or surname) ends or
   begins them, or a series' name begins them, exactly, and the rest matched as in step 6 among
   that author's or that series' books (typos only beside a name of two words or more). Then
   the notes the reader added ("(2005)", "(Book 7)", "1984 novel", "Dune 1965") are left off,
   and the rest goes through every step again;
9. ``partial``: the first words of one title, the rest left off ("the very hungry caterpillar");
10. ``fuzzy``: the closest name among trigram candidates, tolerating typos and a missing tail.

Steps 1–5 are dict look-ups on keys normalized when the catalogue was built, and step 9 a
binary search in the sorted names; steps 6–8 and 10 score candidates, and tolerate typos only
when ``fuzzy`` is on. Confidence (0..100) is 100 for a look-up, 97 for a main title, 95 for a
partial title or a series acronym (readings less certain), and the similarity where typos were
tolerated; below the threshold nothing is matched: wrong is worse than unknown. A key several
books share resolves to the best known (the lowest rank) and names the others as alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from readcrumbs.text import normalize_title, numbers_as_digits, strip_note
from readcrumbs.titles.candidates import CandidateIndex
from readcrumbs.titles.keys import BookKeys, Positions

DEFAULT_FUZZY_THRESHOLD = 85.0
# A partial title or a series acronym is a good guess, not a certainty; a main title a little better.
GUESS_CONFIDENCE = 95.0
MAIN_CONFIDENCE = 97.0
MAIN_DISCOUNT = MAIN_CONFIDENCE / 100.0
# Fuzzy scores this close are a tie.
TIE_POINTS = 0.5
MAX_ALTERNATIVES = 5
# A partial title must keep at least this many words: "the lord" names nothing in particular.
PARTIAL_MIN_WORDS = 2
# The last words of a title beside its author or series: at least this many letters ("gatsby").
SUFFIX_MIN_CHARS = 5
# "<title> by <author>"; the last " by " splits, so a title may contain one ("Stand by Me by ...").
_BY_AUTHOR = re.compile(r"^(?P<title>.+)\s+by\s+(?P<author>.+)$", re.IGNORECASE)
# What may join a series' name to a title: "percy jackson and the lightning thief".
_JOINER = re.compile(r"^and\s+(?:(?:the|a|an)\s+)?")
# A volume before the title: "harry potter book 2 chamber of secrets".
_VOLUME_LEAD = re.compile(r"^(?:(?:book|vol|volume|no|part)\s+)?\d{1,3}\s+")
_DASH = re.compile(r"^(?P<left>.+?)\s+[-–—]+\s+(?P<right>.+)$")
# Author and series names are short: a split of the typed words tries names of at most this many.
MAX_NAME_WORDS = 6
# On a normalized text: "<series> 2", "<series> book 2", "<series> vol 2" ('#' is gone by then).
_SERIES_SHORTHAND = re.compile(r"^(?P<name>.+?)\s+(?:(?:book|vol|volume|no|part)\s+)?(?P<volume>\d{1,3})$")


class MatchKind(StrEnum):
    """How an item was resolved to a book (the resolution step that found it)."""

    BOOK_ID = "book_id"
    EXACT = "exact"
    NORMALIZED = "normalized"
    ORIGINAL = "original"
    MAIN_TITLE = "main_title"
    BY_AUTHOR = "by_author"
    SERIES = "series"
    PARTIAL = "partial"
    FUZZY = "fuzzy"


@dataclass(frozen=True, slots=True)
class Found:
    """A resolved item: the book's ``position``, how and how surely (0..100), and the other books
    the same text could have meant (positions, best known first)."""

    position: int
    kind: MatchKind
    confidence: float
    alternatives: Positions = ()


def _found(positions: Positions, kind: MatchKind, confidence: float = 100.0) -> Found:
    return Found(positions[0], kind, confidence, positions[1 : 1 + MAX_ALTERNATIVES])


def typo_score(query: str, name: str) -> float:
    """100 for the same text, less 100/(len(name) + 3) per slip, floored at 0.

    Slips are edits of optimal string alignment: a letter dropped, added, replaced, or two
    neighbours swapped ("teh"), each counting one.

    The +3 lets a short title take one slip ("hobit": 89) but not two ("dr half" for "dark
    half": 83), while a long one takes several.
    """
    return 100.0 * max(0.0, 1.0 - OSA.distance(query, name) / (len(name) + 3))


def name_score(query: str, name: str) -> float:
    """How well a typed, normalized ``query`` matches a normalized ``name`` (0..100).

    The best of: the whole name with typos; the same words in another order; and the name's first
    words, as many as the query has (a title with its tail left off), discounted by the share of
    the name left off.
    """
    score = typo_score(query, name)
    query_words, name_words = query.split(), name.split()
    if len(query_words) == len(name_words) >= 2:
        score = max(score, typo_score(" ".join(sorted(query_words)), " ".join(sorted(name_words))))
    if len(name_words) > len(query_words) >= PARTIAL_MIN_WORDS:
        head = " ".join(name_words[: len(query_words)])
        score = max(score, typo_score(query, head) * (0.85 + 0.15 * len(head) / len(name)))
    return score


# A volume as readers also write it: "harry potter book one", "harry potter iii". Not "i", "v"
# or "x" alone: "Memoir I" is no volume 1, and "Kinsey Millhone X" is the book titled "X".
_CARDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_VOLUME_WORDS = {word: str(n) for n, word in enumerate(_CARDINALS, start=1)} | {
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
}


def series_shorthand(norm: str) -> re.Match[str] | None:
    """The series shorthand in a normalized text ("harry potter 3", "... book three", "... iii"),
    its volume written in digits; None when the text is no shorthand."""
    head, _, last = norm.rpartition(" ")
    if head and last in _VOLUME_WORDS:
        norm = f"{head} {_VOLUME_WORDS[last]}"
    # The regex is quadratic on long text; a shorthand ends in its volume number.
    return _SERIES_SHORTHAND.match(norm) if norm[-1].isdigit() and len(norm) < 200 else None


# What readers add after a title without brackets: "1984 novel", "Dune 1965", "Gone Girl: A
# Novel", "the hobbit book". Not "series" or "trilogy": those name the series, not its first book.
# One only: "The Children's Book ebook" is "The Children's Book".
_ADDED_WORDS = re.compile(
    r"[\s:,.-]+(?:(?:a|the)\s+)?(?:novel|book|paperback|hardcover|hardback|e-?book|audiobook|"
    r"kindle(?:\s+edition)?|edition|(?:1[5-9]|20)\d\d)\s*$",
    re.IGNORECASE,
)


def strip_notes(text: str) -> list[str]:
    """What is left of ``text`` without the notes a reader added after the title, surest first:
    without its bracketed notes, then also without an edition word or a year ("Dune (Book 1)
    (2005)" -> ["Dune"], "1984 novel" -> ["1984 novel", "1984"]; "The Graveyard Book (1st
    edition)" is "The Graveyard Book" before "The Graveyard")."""
    while (plain := strip_note(text)) != text:
        text = plain
    bare = _ADDED_WORDS.sub("", text).strip()
    return [text, bare] if bare and bare != text else [text]


def _article_slip(norm: str) -> str | None:
    """The text without a first word that is one slip away from "the" ("teh chase"), or None."""
    first, _, rest = norm.partition(" ")
    return rest if rest and len(first) >= 2 and OSA.distance(first, "the") == 1 else None


class TitleResolver:
    """The resolution steps of the module docstring over one catalogue's keys."""

    def __init__(self, keys: BookKeys, fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> None:
        if not 0.0 <= fuzzy_threshold <= 100.0:
            raise ValueError(f"fuzzy_threshold must be within 0..100, got {fuzzy_threshold}")
        self.keys = keys
        self.fuzzy_threshold = fuzzy_threshold
        self.names = CandidateIndex(keys.sorted_names)
        self._series_keys = sorted(keys.series_names)
        self._author_names = sorted(key for key in keys.authors if " " in key)

    def resolve(self, text: str, *, fuzzy: bool = True) -> Found | None:
        """Resolve a typed title (steps 1–10; ``fuzzy=False`` scores no candidates)."""
        return self._resolve(text, fuzzy, notes=True)

    def _resolve(self, text: str, fuzzy: bool, notes: bool) -> Found | None:
        keys = self.keys
        positions = keys.titles.get(text)
        if positions:
            return _found(positions, MatchKind.EXACT)
        norm = normalize_title(text)
        if not norm:
            return None
        # The keys are also filed with their numbers in digits ("catch twenty two" -> "catch 22").
        digits = numbers_as_digits(norm)
        for table, kind, confidence in (
            (keys.normalized, MatchKind.NORMALIZED, 100.0),
            (keys.original, MatchKind.ORIGINAL, 100.0),
            (keys.main, MatchKind.MAIN_TITLE, MAIN_CONFIDENCE),
        ):
            if positions := table.get(norm) or table.get(digits):
                return _found(positions, kind, confidence)
        if norm.isdecimal():
            return None  # a book_id: the catalogue looks it up (it knows ids, not positions)
        found = self._by_author(text, fuzzy) or self._series(norm, fuzzy)
        if found is not None or self._names_a_series(norm):
            return found  # "harry potter 9" names a series' volume it lacks: no other reading
        found = self._name_beside_title(norm, fuzzy) or (self._without_notes(text, fuzzy) if notes else None)
        found = found or self._partial(norm)
        if found is None and fuzzy:
            found = self._fuzzy(norm)
        return found

    # -- "title by author", "author - title" ----------------------------------------------------
    def _by_author(self, text: str, fuzzy: bool) -> Found | None:
        splits: list[tuple[str, str]] = []
        if by := _BY_AUTHOR.match(text):
            splits.append((by["title"], by["author"]))
        if dash := _DASH.match(text):
            splits += [(dash["right"], dash["left"]), (dash["left"], dash["right"])]
        for title, author in splits:
            found = self._title_of_author(normalize_title(title), normalize_title(author), fuzzy)
            if found is not None:
                return found
        return None

    def _title_of_author(self, title: str, author: str, fuzzy: bool) -> Found | None:
        if not title or not author:
            return None
        books = self.keys.authors.get(author)
        author_score = 100.0
        if books is None and fuzzy and len(author) >= 5:
            best = process.extractOne(
                author, self._author_names, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold
            )
            if best is not None:
                books, author_score = self.keys.authors[best[0]], float(best[1])
        if not books:
            return None
        return self._title_among(title, books, fuzzy, MatchKind.BY_AUTHOR, author_score)

    def _title_among(
        self, title: str, books: Positions, fuzzy: bool, kind: MatchKind, cap: float = 100.0
    ) -> Found | None:
        """The book of ``books`` (an author's or a series', best known first) that normalized
        ``title`` names: exactly, as a main title, as a title's first or last words, or with typos
        when ``fuzzy``; its confidence at most ``cap`` (how surely the author was recognised)."""
        if not title:
            return None
        partial = len(title.split()) >= PARTIAL_MIN_WORDS
        scored: list[tuple[float, int]] = []
        for position in books:
            names, main = self.keys.names[position], self.keys.main_names[position]
            # The first words of a title, or a title with typos, are looked for without its series
            # note: "vampire chronicles interview with the vampire the vampire" is no slip of
            # "Interview with the Vampire (The Vampire Chronicles, #1)".
            plain = self.keys.plain_names[position]
            if title in names:
                scored.append((100.0, position))
            elif title == main or title in self.keys.tail_names[position]:
                scored.append((MAIN_CONFIDENCE, position))
            # Its first words, or its last ("mockingbird harper lee", "gatsby fitzgerald"): among an
            # author's or a series' few books, a guess, not a leap.
            elif (partial and any(name.startswith(title + " ") for name in plain)) or (
                len(title) >= SUFFIX_MIN_CHARS and any(name.endswith(" " + title) for name in plain)
            ):
                scored.append((GUESS_CONFIDENCE, position))
            elif fuzzy:
                reachable = [name for name in (*plain, main) if name and not self._too_long(title, name)]
                if reachable:
                    scored.append((max(name_score(title, name) for name in reachable), position))
        if not scored:
            return None
        # Best score first, then the best known (books come best known first; the sort is stable).
        scored.sort(key=lambda pair: -pair[0])
        score = min(scored[0][0], cap)
        if score < self.fuzzy_threshold:
            return None
        ties = tuple(position for value, position in scored if value == scored[0][0])
        return _found(ties, kind, score)

    def _too_long(self, query: str, name: str) -> bool:
        """Whether ``query`` is so much longer than ``name`` that :func:`name_score` stays below
        the threshold: each extra letter is a slip. Skips scoring a long text against every book
        of a prolific author (a 256-letter item that names one at both ends: 1 ms, 3 ms without)."""
        extra = len(query) - len(name)
        return extra > 0 and 100.0 * (1.0 - extra / (len(name) + 3)) < self.fuzzy_threshold

    def _without_notes(self, text: str, fuzzy: bool) -> Found | None:
        """Step 8's second half: the text without the notes the reader added (:func:`strip_notes`),
        through every step once more; a guess at best, since the notes were ignored ("Dune (Book 2)")."""
        for plain in strip_notes(text):
            if not plain or plain == text:
                continue
            found = self._resolve(plain, fuzzy, notes=False)  # once: what is left has no note
            if found is not None:
                confidence = min(found.confidence, GUESS_CONFIDENCE)
                return Found(found.position, found.kind, confidence, found.alternatives)
        return None

    # -- "title author", "author title", "series title" ----------------------------------------
    def _name_beside_title(self, norm: str, fuzzy: bool) -> Found | None:
        """Step 8: an author's name ending or beginning the words, or a series' name beginning
        them, and the rest a title of theirs. Longer names are tried first ("1984 george orwell"
        is Orwell's "1984", not a "1984 george" by any Orwell)."""
        words = norm.split()
        authors, series_names = self.keys.authors, self.keys.series_names
        for size in range(min(len(words) - 1, MAX_NAME_WORDS), 0, -1):
            head, tail = " ".join(words[:size]), " ".join(words[-size:])
            # One word ("glass") is weak evidence of a name: beside it the title must be typed
            # right ("the glass magicia" is "The Glass Magician" mistyped, not a book by a Glass).
            typos = fuzzy and size > 1
            for name, rest in ((tail, words[:-size]), (head, words[size:])):
                if books := authors.get(name):
                    title = normalize_title(" ".join(rest))
                    found = self._title_among(title, books, typos, MatchKind.BY_AUTHOR)
                    if found is not None:
                        return found
            for key in series_names.get(head, ()):
                # "percy jackson and the lightning thief": the series' name, "and the", a title.
                title = _JOINER.sub("", normalize_title(" ".join(words[size:])))
                found = self._title_among(title, self.keys.series_books[key], typos, MatchKind.SERIES)
                # "harry potter 2 chamber of secrets": the volume between them, left off.
                if found is None and (untold := normalize_title(_VOLUME_LEAD.sub("", title))) != title:
                    found = self._title_among(untold, self.keys.series_books[key], typos, MatchKind.SERIES)
                if found is not None:
                    return found
        return None

    # -- series shorthand -------------------------------------------------------------------------
    def _series(self, norm: str, fuzzy: bool) -> Found | None:
        shorthand = series_shorthand(norm)
        if shorthand is None:
            return None
        name, volume = shorthand["name"], float(shorthand["volume"])
        series = self.keys.series
        for key in self.keys.series_names.get(name, ()):
            if positions := series.get((key, volume)):
                return _found(positions, MatchKind.SERIES, 100.0 if key == name else GUESS_CONFIDENCE)
        # "the two towers lotr 2": a title, then its series (name or acronym), then the volume.
        words = name.split()
        for cut in range(1, len(words)):
            title, series_name = " ".join(words[:cut]), " ".join(words[cut:])
            for key in self.keys.series_names.get(series_name, ()):
                positions = series.get((key, volume), ())
                named = tuple(p for p in positions if title in self.keys.names[p])
                if named:
                    return _found(named, MatchKind.SERIES)
        if fuzzy and len(name) >= 5:
            best = process.extractOne(
                name, self._series_keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold
            )
            if best is not None:
                for key in self.keys.series_names[best[0]]:
                    if positions := series.get((key, volume)):
                        return _found(positions, MatchKind.SERIES, float(best[1]))
        return None

    def _names_a_series(self, norm: str) -> bool:
        """Whether ``norm`` is a series' volume ("harry potter 9"), or readers' short name for a
        series alone ("percy jackson" for "Percy Jackson and the Olympians"): no one book."""
        shorthand = series_shorthand(norm)
        if shorthand is not None:
            return shorthand["name"] in self.keys.series_names
        return any(key.startswith(f"{norm} and the ") for key in self.keys.series_names.get(norm, ()))

    # -- partial and fuzzy titles ----------------------------------------------------------------
    def _partial(self, norm: str) -> Found | None:
        if len(norm.split()) < PARTIAL_MIN_WORDS:
            return None
        positions = self.keys.starting_with(norm)
        # Several books starting so ("harry potter") is a question, not an answer: suggestions.
        return _found(positions, MatchKind.PARTIAL, GUESS_CONFIDENCE) if len(positions) == 1 else None

    def _fuzzy(self, norm: str) -> Found | None:
        best = self.scored(norm, self.fuzzy_threshold)
        if not best and (rest := _article_slip(norm)):
            best = self.scored(rest, self.fuzzy_threshold)
        if not best:
            return None
        top = best[0][0]
        ties = [(position, name) for score, position, name in best if score >= top - TIE_POINTS]
        # Books that tie under different names ("harry potter" as the start of eight titles) leave
        # the reader's meaning open: unknown, with suggestions. One name several books share picks
        # the most popular.
        if len({name for _, name in ties}) > 1:
            return None
        # A number the reader typed is no slip of a letter: "percy jackson 1" is no typo of
        # "Percy Jackson's Greek Gods" ("percy jackson s ..."), whose name holds no number.
        if any(word.isdecimal() for word in norm.split()) and not any(ch.isdigit() for ch in ties[0][1]):
            return None
        positions = tuple(position for position, _ in ties)
        # Matched by its first words ("harry poter" for "harry potter collection"): other titles
        # starting with the same words make it a guess between them, so no answer.
        query_words, name_words = norm.split(), ties[0][1].split()
        if len(name_words) > len(query_words):
            head = " ".join(name_words[: len(query_words)])
            if set(self.keys.starting_with(head)) - set(positions):
                return None
        return _found(positions, MatchKind.FUZZY, top)

    def scored(self, norm: str, cutoff: float) -> list[tuple[float, int, str]]:
        """(score, position, name) of the candidate books scoring at least ``cutoff`` with their
        best-scoring name, best first, the more popular first among equal scores."""
        best: dict[int, tuple[float, str]] = {}
        main_names = self.keys.main_names
        for index in self.names.candidates(norm):
            name = self.names.names[index]
            score = name_score(norm, name)
            if score < cutoff:
                continue
            for position in self.keys.sorted_positions[index]:
                # A book whose full name this is beats one whose main title it only is.
                value = score * MAIN_DISCOUNT if name == main_names[position] else score
                if value >= cutoff and value > best.get(position, (-1.0, ""))[0]:
                    best[position] = (value, name)
        rank = self.keys.rank
        found = [(score, position, name) for position, (score, name) in best.items()]
        return sorted(found, key=lambda entry: (-entry[0], rank[entry[1]]))
