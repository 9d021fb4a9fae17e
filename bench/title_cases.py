"""A seeded, labelled set of titles as readers type them, generated from goodbooks' ``books.csv``.

Each case is ``(form, typed, book_id)``; ``book_id`` is None for a negative (a title that is in no
book and must stay unknown). The forms follow issue 11's resolution order:

========== ==========================================================================
exact      the title as in books.csv
normalized lower case, punctuation dropped or changed, accents stripped
article    the leading "The"/"A"/"An" dropped (and the series note)
no_series  the title without its series note: "Catching Fire" for "... (The Hunger Games, #2)"
original   goodbooks' ``original_title`` where it differs from the title
main       the main title without its subtitle: "Unbroken" for "Unbroken: A World War II ..."
by_author  "<title> by <author>"
author_dash "<author> - <title>" (hyphen, en dash or em dash)
title_author "<title> <author>", no word between: "1984 george orwell", "the martian weir"
author_title "<author> <title>": "george orwell animal farm"
series_title "<series> <title>": "hunger games catching fire"
ampersand  "and" written "&", or "&" written "and": "War & Peace", "Angels and Demons"
added_note a bracketed note the reader added: "Dune (paperback)", "Emma (2005)"
series     series shorthand: "hunger games 2", "harry potter #1", "discworld book 8",
           "harry potter book three", "harry potter III"
typo       one or two typing slips (dropped, doubled, swapped or replaced letters)
partial    the title's first words, the rest left off ("the very hungry caterpillar")
negative   words of real titles recombined into a title no book has
number     a number written the other way: "13 reasons why", "catch twenty two"
apostrophe the apostrophes left out: "Enders Game", "the hitchhikers guide to the galaxy"
series_tail the title after its series' name: "Goblet of Fire", "Kid Lawyer" (for
           "Theodore Boone: Kid Lawyer")
inverted   a library's inverted article: "Great Gatsby, The"
added_words edition words or a year after the title, no brackets: "1984 novel", "Dune 1965"
========== ==========================================================================

Labels are kept only where they are unambiguous: a case is dropped when another book has the same
key for that form (two books titled "Rebecca", two "Harry Potter, #1"), so the right answer never
depends on a popularity tie-break. Generating with another seed gives a fresh set to check that the
resolver was not tuned to one sample.

    .venv/bin/python -m bench.title_cases --seed 11 --out var/title-cases.csv
"""

from __future__ import annotations

import argparse
import bisect
import csv
import random
import re
import string
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from readcrumbs.series import parse_series
from readcrumbs.text import normalize_title
from readcrumbs.titles.keys import VOLUME_RANGE

FORMS: tuple[str, ...] = (
    "exact",
    "normalized",
    "article",
    "no_series",
    "original",
    "main",
    "by_author",
    "author_dash",
    "title_author",
    "author_title",
    "series_title",
    "ampersand",
    "added_note",
    "series",
    "typo",
    "partial",
    "negative",
    # Added after the others, so that each earlier form keeps its cases for a seed.
    "number",
    "apostrophe",
    "series_tail",
    "inverted",
    "added_words",
)
PER_FORM = 150
_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_SUBTITLE = re.compile(r"\s*(?::|\s-\s|\s–\s|\s—\s)\s*")


@dataclass(frozen=True)
class BookRow:
    """What the generator needs of one books.csv row."""

    book_id: int
    title: str
    original_title: str
    authors: str


@dataclass(frozen=True)
class Case:
    """One typed title and the book it names (None: no book, it must stay unknown)."""

    form: str
    typed: str
    book_id: int | None


def short_title(title: str) -> str:
    """The title without a trailing parenthesised note."""
    return _NOTE.sub("", title).strip()


def first_author(authors: str) -> str:
    return authors.split(",")[0].strip()


def generate(books: Sequence[BookRow], seed: int, per_form: int = PER_FORM) -> list[Case]:
    """About ``per_form`` cases per form (fewer where the catalogue has fewer unambiguous ones)."""
    rng = random.Random(seed)
    keys = _Keys(books)
    cases: list[Case] = []
    for form in FORMS:
        maker = _MAKERS[form]
        order = list(books)
        rng.shuffle(order)
        made: list[Case] = []
        seen: set[str] = set()
        for book in order:
            for case in maker(book, rng, keys):
                if case.typed not in seen and keys.unambiguous(case):
                    seen.add(case.typed)
                    made.append(case)
                    break
            if len(made) >= per_form:
                break
        cases.extend(made)
    return cases


class _Keys:
    """Every key a typed title could collide on, to keep only unambiguous labels."""

    def __init__(self, books: Sequence[BookRow]) -> None:
        self.books = books
        self.by_id = {book.book_id: book for book in books}
        self.titles: Counter[str] = Counter()  # every normalized name a book answers to, per book once
        self.owner: dict[str, set[int]] = defaultdict(set)
        self.series: dict[tuple[str, float], set[int]] = defaultdict(set)
        self.words: list[str] = []
        for book in books:
            for name in self.names(book):
                self.owner[name].add(book.book_id)
            ref = parse_series(book.title)
            if ref is not None:
                self.series[(ref.key, ref.volume)].add(book.book_id)
            self.words.extend(normalize_title(short_title(book.title)).split())
        self.sorted_names = sorted(self.owner)

    @staticmethod
    def names(book: BookRow) -> set[str]:
        names = {normalize_title(book.title), normalize_title(short_title(book.title))}
        if book.original_title:
            names.add(normalize_title(book.original_title))
        main = _SUBTITLE.split(short_title(book.title), maxsplit=1)[0]
        names.add(normalize_title(main))
        names.discard("")
        return names

    def owners(self, text: str) -> set[int]:
        return self.owner.get(normalize_title(text), set())

    def prefixed(self, norm: str) -> set[int]:
        """Books one of whose names starts with the words ``norm``."""
        found: set[int] = set()
        # Names are sorted: those starting with ``norm`` form one run.
        start = bisect.bisect_left(self.sorted_names, norm)
        for name in self.sorted_names[start:]:
            if not name.startswith(norm):
                break
            if name == norm or name[len(norm)] == " ":
                found |= self.owner[name]
        return found

    def unambiguous(self, case: Case) -> bool:
        norm = normalize_title(case.typed)
        if not norm:
            return False
        if case.book_id is None:
            # A negative must not be, or begin, any book's name.
            return not self.prefixed(norm)
        owners = self.owners(case.typed)
        if case.form in ("exact", "normalized", "article", "no_series", "original", "main"):
            return owners == {case.book_id}
        if case.form == "partial":
            return self.prefixed(norm) == {case.book_id} and not owners - {case.book_id}
        # The remaining forms carry more than a name: the title they start from must be one book's
        # alone, and the whole text must not be another book's name.
        book = self.by_id[case.book_id]
        return self.owners(short_title(book.title)) == {case.book_id} and not owners - {case.book_id}


def _exact(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    yield Case("exact", book.title, book.book_id)


def _normalized(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = book.title
    if rng.random() < 0.5:
        title = short_title(title)
    typed = title.lower() if rng.random() < 0.7 else title.upper()
    typed = "".join(ch for ch in typed if ch not in string.punctuation or rng.random() < 0.3)
    typed = _strip_accents(typed) if rng.random() < 0.5 else typed
    if normalize_title(typed) and typed != book.title:
        yield Case("normalized", typed, book.book_id)


def _article(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    if _ARTICLE.match(title):
        yield Case("article", _ARTICLE.sub("", title), book.book_id)


def _no_series(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    if title != book.title and parse_series(book.title) is not None:
        yield Case("no_series", title, book.book_id)


def _original(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    original = book.original_title.strip()
    if original and normalize_title(original) not in {
        normalize_title(book.title),
        normalize_title(short_title(book.title)),
    }:
        yield Case("original", original, book.book_id)


def _main(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    parts = _SUBTITLE.split(short_title(book.title), maxsplit=1)
    if len(parts) == 2 and len(normalize_title(parts[0])) >= 3 and parts[1]:
        yield Case("main", parts[0], book.book_id)


def _by_author(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    if rng.random() < 0.5:
        title = title.lower()
    yield Case("by_author", f"{title} by {first_author(book.authors)}", book.book_id)


def _author_dash(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    dash = rng.choice(("-", "–", "—"))
    yield Case("author_dash", f"{first_author(book.authors)} {dash} {short_title(book.title)}", book.book_id)


def _title_author(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    author = first_author(book.authors)
    if rng.random() < 0.3 and len(author.split()) > 1:
        author = author.split()[-1]  # the surname alone
    typed = f"{short_title(book.title)} {author}"
    yield Case("title_author", typed.lower() if rng.random() < 0.5 else typed, book.book_id)


def _author_title(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    typed = f"{first_author(book.authors)} {short_title(book.title)}"
    yield Case("author_title", typed.lower() if rng.random() < 0.5 else typed, book.book_id)


def _series_title(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    ref = parse_series(book.title)
    title = short_title(book.title)
    # "harry potter harry potter and the ..." is no way to type a title.
    if ref is None or ref.key in normalize_title(title):
        return
    if VOLUME_RANGE.search(book.title):  # "(Harry Potter, #1-6)" is a box set, not volume 1
        return
    name = ref.key if rng.random() < 0.6 else ref.name
    yield Case("series_title", f"{name} {title}", book.book_id)


def _ampersand(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    swapped = title.replace(" & ", " and ") if " & " in title else title.replace(" and ", " & ")
    if swapped != title:
        yield Case("ampersand", swapped, book.book_id)


WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# Roman numerals of one letter are left out, as the resolver leaves them: "Kinsey Millhone X" is
# the book titled "X".
ROMANS = {2: "II", 3: "III", 4: "IV", 6: "VI", 7: "VII", 8: "VIII", 9: "IX"}
# No volume among them: "Knight (Book 1)" is also volume 1 of the series Knight.
NOTES = ("paperback", "hardcover", "Kindle edition", "audiobook", "novel", "2005", "1st edition")


def _added_note(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    yield Case("added_note", f"{short_title(book.title)} ({rng.choice(NOTES)})", book.book_id)


def _series(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    ref = parse_series(book.title)
    if ref is None or not ref.volume.is_integer() or keys.series[(ref.key, ref.volume)] != {book.book_id}:
        return
    if VOLUME_RANGE.search(book.title):  # "(Harry Potter, #1-6)" is a box set, not volume 1
        return
    name = ref.key if rng.random() < 0.6 else ref.name
    volume = int(ref.volume)
    patterns = ["{name} {v}", "{name} #{v}", "{name} book {v}", "{name}, #{v}"]
    words = {}
    if 1 <= volume <= len(WORDS):  # "harry potter book three", "harry potter III"
        patterns.append("{name} book {word}")
        words = {"word": WORDS[volume - 1], "roman": ROMANS.get(volume, "")}
        if volume in ROMANS:
            patterns.append("{name} {roman}")
    yield Case("series", rng.choice(patterns).format(name=name, v=volume, **words), book.book_id)


def _typo(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    letters = [i for i, ch in enumerate(title) if ch.isalpha()]
    if len(letters) < 8:
        return
    typed = title
    for _ in range(1 if len(letters) < 16 else rng.choice((1, 2))):
        typed = _slip(typed, rng)
    if normalize_title(typed) != normalize_title(title):
        yield Case("typo", typed if rng.random() < 0.5 else typed.lower(), book.book_id)


def _slip(text: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    # Not the first letter: readers rarely miss the start of a word they know.
    i = rng.choice(letters[1:])
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    if kind == "swap" and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1 :]


def _partial(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    words = short_title(book.title).split()
    if len(words) < 4:
        return
    # Keep most of the title: readers leave off a tail ("Board Book", a long second half).
    keep = rng.randint(max(3, (len(words) + 1) // 2), len(words) - 1)
    yield Case("partial", " ".join(words[:keep]), book.book_id)


def _negative(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    n_words = rng.randint(2, 5)
    typed = " ".join(rng.choice(keys.words) for _ in range(n_words)).title()
    yield Case("negative", typed, None)


_SPELLED = dict(enumerate(WORDS, 1)) | {
    11: "eleven",
    12: "twelve",
    13: "thirteen",
    14: "fourteen",
    15: "fifteen",
    16: "sixteen",
    17: "seventeen",
    18: "eighteen",
    19: "nineteen",
    20: "twenty",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    80: "eighty",
    90: "ninety",
}
# A number in a title, not a volume's ("Naruto, Vol. 5": readers write no "Vol. five").
_NUMBER = re.compile(r"(?<![#\d])(?<!vol\. )(?<!volume )(?<!no\. )\b\d{1,2}\b", re.IGNORECASE)


def _spelled(number: int) -> str | None:
    """1..99 in words ("twenty two"), None for other numbers."""
    if number in _SPELLED:
        return _SPELLED[number]
    tens, units = divmod(number, 10)
    return f"{_SPELLED[10 * tens]} {_SPELLED[units]}" if 2 <= tens <= 9 and units else None


_DIGITS = {words: number for number, words in _SPELLED.items()}
# One number word, not part of a longer number ("Thirteen Reasons Why", not "Twenty Thousand"),
# nor a name or pronoun ("A Room of One's Own", "Six's Legacy").
_NUMBER_WORD = re.compile(
    rf"(?<![\w-])({'|'.join(_DIGITS)})(?![\w'’-])(?!\s+(?:{'|'.join(_DIGITS)}|hundred|thousand)\b)",
    re.IGNORECASE,
)


def _number(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    """A number word written in digits ("13 reasons why"), or digits in words ("catch twenty two")."""
    title = short_title(book.title)
    if found := _NUMBER_WORD.search(title):
        number = str(_DIGITS[found[1].lower()])
        yield Case("number", title[: found.start()] + number + title[found.end() :], book.book_id)
    elif (found := _NUMBER.search(title)) and (words := _spelled(int(found[0]))):
        yield Case("number", title[: found.start()] + words + title[found.end() :], book.book_id)


def _apostrophe(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    if "'" in title:
        typed = title.replace("'", "")
        yield Case("apostrophe", typed.lower() if rng.random() < 0.5 else typed, book.book_id)


def _series_tail(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    ref = parse_series(book.title)
    if ref is None or len(ref.key.split()) < 2 or VOLUME_RANGE.search(book.title):
        return
    name = re.escape(ref.name)
    found = re.match(rf"^{name}(?:\s+and\s+(?:the\s+)?|\s*:\s*)(?P<tail>.+)$", short_title(book.title), re.I)
    volume_only = found is not None and re.match(r"(?i)(?:vol|volume|book|part)\b", found["tail"])
    if found and len(found["tail"].split()) >= 2 and not volume_only:
        yield Case("series_tail", found["tail"], book.book_id)


def _inverted(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    title = short_title(book.title)
    if found := _ARTICLE.match(title):
        yield Case("inverted", f"{title[found.end() :]}, {found[1]}", book.book_id)


ADDED_WORDS = ("novel", "a novel", "book", "paperback", "hardcover", "ebook", "audiobook")


def _added_words(book: BookRow, rng: random.Random, keys: _Keys) -> Iterator[Case]:
    words = rng.choice((*ADDED_WORDS, str(rng.randint(1900, 2017))))
    separator = rng.choice((" ", " ", ": ", " - "))
    yield Case("added_words", f"{short_title(book.title)}{separator}{words}", book.book_id)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_MAKERS = {
    "exact": _exact,
    "normalized": _normalized,
    "article": _article,
    "no_series": _no_series,
    "original": _original,
    "main": _main,
    "by_author": _by_author,
    "author_dash": _author_dash,
    "title_author": _title_author,
    "author_title": _author_title,
    "series_title": _series_title,
    "ampersand": _ampersand,
    "added_note": _added_note,
    "series": _series,
    "typo": _typo,
    "partial": _partial,
    "negative": _negative,
    "number": _number,
    "apostrophe": _apostrophe,
    "series_tail": _series_tail,
    "inverted": _inverted,
    "added_words": _added_words,
}


def read_books(rows: Iterable[dict[str, str]]) -> list[BookRow]:
    """BookRows from books.csv records (``original_title`` may be absent or empty)."""
    return [
        BookRow(
            book_id=int(row["book_id"]),
            title=row["title"],
            original_title=row.get("original_title") or "",
            authors=row.get("authors") or "",
        )
        for row in rows
    ]


def write_cases(cases: Sequence[Case], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["form", "typed", "book_id"])
        for case in cases:
            writer.writerow([case.form, case.typed, "" if case.book_id is None else case.book_id])


def main(argv: Sequence[str] | None = None) -> None:
    from bench.titles import load_books_rows

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--per-form", type=int, default=PER_FORM)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cases = generate(read_books(load_books_rows()), args.seed, args.per_form)
    write_cases(cases, args.out)
    print(f"{len(cases)} cases -> {args.out}")


if __name__ == "__main__":
    main()
