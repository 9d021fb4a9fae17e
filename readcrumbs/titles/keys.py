"""Every name a book answers to, normalized once when the catalogue is built.

A key maps to the positions of the books that have it, most popular first, so a look-up is one
dict access and an ambiguous key resolves to its most popular book with the rest as alternatives.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from readcrumbs.series import parse_series
from readcrumbs.text import acronym, main_title, numbers_as_digits, strip_note
from readcrumbs.text import normalize_title as _normalize_title

Positions = tuple[int, ...]
VOLUME_RANGE = re.compile(r"#\s*\d+(?:\.\d+)?\s*[-–&,]\s*#?\d")
# A title's tail that only numbers a volume ("Saga, Vol. 1", "Captive Prince: Volume Two").
_VOLUME_TAIL = re.compile(r"^(?:vol|volume|book|part|no|tome)\b")
# A series' name of one word is as often a character ("Ramona and Her Mother", "Anna Dressed in
# Blood"), and a tail of one word is no name ("Boxset"): both answer for nothing alone.
TAIL_MIN_WORDS = 2


def _ranked(groups: dict[str, list[int]], rank: Sequence[int]) -> dict[str, Positions]:
    """Each group's positions, most popular (lowest rank) first."""
    return {key: tuple(sorted(set(positions), key=rank.__getitem__)) for key, positions in groups.items()}


@dataclass(frozen=True)
class BookKeys:
    """The look-up tables of a catalogue; ``rank[position]`` is 0 for the most popular book.

    ``titles``: exact titles; ``normalized``: :func:`normalize_title` of the title and of the
    title without its series note; ``original``: of goodbooks' ``original_title``; ``main``: of
    the title before its subtitle, and of the title after its series' name when it starts with
    it ("goblet of fire" for "Harry Potter and the Goblet of Fire (Harry Potter, #4)"); these
    three also file each key with its numbers in digits (:func:`numbers_as_digits`).
    ``series``: (series key, volume) → books; ``series_names``: a series key, its acronym
    ("lotr") or the head of an "X and the Y" name ("percy jackson") → series keys, the key itself
    first (the others are guesses); ``series_books``: a series key → its books; ``authors``: a
    normalized author name or surname → books.
    Per position: ``names``, the book's normalized title, short title and original title;
    ``plain_names``, the same without the series note (the title's short form and its original
    title); ``main_names``, its main title ('' when it has no subtitle); ``tail_names``, what
    its title says after its series' name (:func:`series_tails`); ``full_names``, its
    normalized title; ``author_names``, its normalized authors. ``sorted_names`` holds every
    name and main title once, sorted, with ``sorted_positions`` the books answering to each.
    """

    rank: Sequence[int]
    titles: dict[str, Positions]
    normalized: dict[str, Positions]
    original: dict[str, Positions]
    main: dict[str, Positions]
    series: dict[tuple[str, float], Positions]
    series_names: dict[str, tuple[str, ...]]
    series_books: dict[str, Positions]
    authors: dict[str, Positions]
    names: list[tuple[str, ...]]
    plain_names: list[tuple[str, ...]]
    main_names: list[str]
    tail_names: list[tuple[str, ...]]
    full_names: list[str]
    author_names: list[str]
    sorted_names: list[str]
    sorted_positions: list[Positions]

    @classmethod
    def build(
        cls,
        titles: Sequence[str],
        original_titles: Sequence[str],
        authors: Sequence[str],
        rank: Sequence[int],
    ) -> BookKeys:
        """Keys of n books: ``titles``, ``original_titles`` ('' when none), ``authors``
        (comma-separated), ``rank`` (n,) popularity rank, 0 the most popular."""
        exact: dict[str, list[int]] = defaultdict(list)
        normalized: dict[str, list[int]] = defaultdict(list)
        original: dict[str, list[int]] = defaultdict(list)
        main: dict[str, list[int]] = defaultdict(list)
        series: dict[tuple[str, float], list[int]] = defaultdict(list)
        series_names: dict[str, set[str]] = defaultdict(set)
        series_members: dict[str, set[int]] = defaultdict(set)
        by_author: dict[str, list[int]] = defaultdict(list)
        names: list[tuple[str, ...]] = []
        plain_names: list[tuple[str, ...]] = []
        main_names: list[str] = []
        tail_names: list[tuple[str, ...]] = []
        full_names: list[str] = []
        author_names: list[str] = []
        author_keys: dict[str, tuple[str, ...]] = {}  # many books share their authors
        author_norms: dict[str, str] = {}
        # Most books' short and main titles are their title: normalize each distinct text once.
        normalize_title = functools.lru_cache(maxsize=None)(_normalize_title)
        for position, (title, original_title, author_list) in enumerate(
            zip(titles, original_titles, authors, strict=True)
        ):
            exact[title].append(position)
            full, short = normalize_title(title), normalize_title(strip_note(title))
            book_names = dict.fromkeys(key for key in (full, short) if key)
            for key in book_names:
                normalized[key].append(position)
            full_names.append(full)
            if original_title and (key := normalize_title(original_title)):
                original[key].append(position)
                book_names[key] = None
            names.append(tuple(book_names))
            plain_names.append(tuple(name for name in book_names if name != full or full == short))
            main_key = normalize_title(main_title(title))
            main_key = main_key if len(main_key) >= 2 and main_key not in book_names else ""
            if main_key:
                main[main_key].append(position)
            main_names.append(main_key)
            ref = parse_series(title)
            tails: tuple[str, ...] = ()
            # "(Harry Potter, #1-6)" is a box set, not volume 1.
            if ref is not None and not VOLUME_RANGE.search(title):
                if short.startswith(f"{ref.key} "):  # most series' titles do not: skip the work
                    tails = tuple(sorted(series_tails(title, ref.key) - book_names.keys()))
                for tail in tails:
                    main[tail].append(position)
                series[(ref.key, ref.volume)].append(position)
                series_members[ref.key].add(position)
                series_names[ref.key].add(ref.key)
                if len(ref.key.split()) >= 2:
                    series_names[acronym(ref.key)].add(ref.key)
                # Readers call "Percy Jackson and the Olympians" "Percy Jackson".
                head, joined, _ = ref.key.partition(" and the ")
                if joined and len(head.split()) >= TAIL_MIN_WORDS:
                    series_names[head].add(ref.key)
            tail_names.append(tails)
            if author_list not in author_keys:
                author_keys[author_list] = _author_keys(author_list)
                author_norms[author_list] = normalize_title(author_list)
            author_names.append(author_norms[author_list])
            for key in author_keys[author_list]:
                by_author[key].append(position)
        # A series' name ("Harry Potter") is also the main title of a pop-up book or two; a reader
        # typing it means the series, which is no one book: when the series has two books or more
        # besides those, no main title answers to it.
        for key in list(main):
            members = {p for series_key in series_names.get(key, ()) for p in series_members[series_key]}
            if len(members - set(main[key])) >= 2:
                for position in main.pop(key):
                    main_names[position] = ""
        # Readers write numbers both ways: every title is also filed with its numbers in digits
        # ("13 reasons why"); the resolver looks a typed title up in that form too.
        for table in (normalized, original, main):
            for key, positions in list(table.items()):
                if (digits := numbers_as_digits(key)) != key:
                    table[digits].extend(positions)
        every_name: dict[str, list[int]] = defaultdict(list)
        for position, (book_names_, main_key) in enumerate(zip(names, main_names, strict=True)):
            for key in (*book_names_, main_key) if main_key else book_names_:
                every_name[key].append(position)
        ranked_names = _ranked(every_name, rank)
        sorted_names = sorted(ranked_names)
        return cls(
            rank=rank,
            titles=_ranked(exact, rank),
            normalized=_ranked(normalized, rank),
            original=_ranked(original, rank),
            main=_ranked(main, rank),
            series={key: tuple(sorted(set(p), key=rank.__getitem__)) for key, p in series.items()},
            series_names={key: _named_first(key, value) for key, value in series_names.items()},
            series_books=_ranked({key: list(members) for key, members in series_members.items()}, rank),
            authors=_ranked(by_author, rank),
            names=names,
            plain_names=plain_names,
            main_names=main_names,
            tail_names=tail_names,
            full_names=full_names,
            author_names=author_names,
            sorted_names=sorted_names,
            sorted_positions=[ranked_names[name] for name in sorted_names],
        )

    def starting_with(self, norm: str) -> Positions:
        """Books one of whose names starts with the whole words ``norm``, most popular first."""
        found: set[int] = set()
        start = bisect.bisect_left(self.sorted_names, norm)
        for index in range(start, len(self.sorted_names)):
            name, positions = self.sorted_names[index], self.sorted_positions[index]
            if not name.startswith(norm):
                break
            if len(name) == len(norm) or name[len(norm)] == " ":
                found.update(positions)
        return tuple(sorted(found, key=self.rank.__getitem__))


def series_tails(title: str, series_key: str) -> set[str]:
    """What a title says after its series' name, as readers name the book alone: none, or the
    rest with and without its subtitle.

    The name must be followed by "and" ("Harry Potter and the Goblet of Fire") or by a subtitle
    ("Theodore Boone: Kid Lawyer"); ``series_key`` is the normalized name.

    >>> series_tails("Harry Potter and the Goblet of Fire (Harry Potter, #4)", "harry potter")
    {'goblet of fire'}
    >>> sorted(series_tails("Harry Potter and the Cursed Child - Parts One and Two", "harry potter"))
    ['cursed child', 'cursed child parts one and two']
    >>> series_tails("Theodore Boone: Kid Lawyer (Theodore Boone, #1)", "theodore boone")
    {'kid lawyer'}
    >>> series_tails("Saga, Vol. 1 (Saga, #1)", "saga"), series_tails("Anna in Blood (Anna, #1)", "anna")
    (set(), set())
    """
    if len(series_key.split()) < TAIL_MIN_WORDS:
        return set()
    short, main = strip_note(title), main_title(title)
    if main != short and _normalize_title(main) == series_key:
        tails = {_normalize_title(short[len(main) :])}  # the subtitle
    else:
        joined = f"{series_key} and "
        tails = {  # normalized once more: the rest's leading article left off
            _normalize_title(norm[len(joined) :])
            for norm in (_normalize_title(short), _normalize_title(main))
            if norm.startswith(joined)
        }
    return {tail for tail in tails if len(tail.split()) >= TAIL_MIN_WORDS and not _VOLUME_TAIL.match(tail)}


def _named_first(name: str, series_keys: set[str]) -> tuple[str, ...]:
    """The series ``name`` answers to, the one it names outright first, then those it is the
    acronym of: "eon" is the series Eon before "The Edge of Never"."""
    return tuple(sorted(series_keys, key=lambda key: (key != name, key)))


def _author_keys(authors: str) -> tuple[str, ...]:
    """Each author's normalized full name, with its initials also run together ("j k rowling",
    "jk rowling"), and surname ("frank herbert", "herbert")."""
    keys: dict[str, None] = {}
    for author in authors.split(","):
        full = _normalize_title(author)
        if not full:
            continue
        keys[full] = None
        words = full.split()
        if joined := _initials_joined(words):
            keys[joined] = None
        if len(words) > 1 and len(words[-1]) > 2:
            keys[words[-1]] = None
    return tuple(keys)


def _initials_joined(words: list[str]) -> str:
    """The name with each run of initials written as one word ("george rr martin"), or '' when
    it has no two initials in a row."""
    out: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1:
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    if run:
        out.append(run)
    return " ".join(out) if len(out) < len(words) else ""
