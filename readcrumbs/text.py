"""Text normalization for book-title lookup."""

from __future__ import annotations

import re
import unicodedata

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+")
# Runs of anything but letters and digits (punctuation and spaces alike) become one space.
_NOT_WORD = re.compile(r"\W+")
# Readers leave apostrophes out ("Enders Game", "Hitchhikers Guide"): a word keeps its letters.
_APOSTROPHE = re.compile(r"['’ʼ`]")
# Commas that are no word break: a thousands separator ("20,000 Leagues"), and a library's
# inverted article with it ("Great Gatsby, The"). One pattern, starting with the comma so the
# engine jumps from comma to comma: most titles hold one (in their series note), and a pattern
# that starts with a look-behind is tried at every position (1.5 µs a title instead of 0.3).
_COMMA_NOISE = re.compile(r",(?:(?<=\d,)(?=\d{3}\b)|\s*(?:the|a|an)\s*$)", re.IGNORECASE)

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_UNITS += ["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
_UNITS += ["eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_ORDINALS += ["tenth", "eleventh", "twelfth"]
_NUMBERS = {word: n for n, word in enumerate(_UNITS)} | {word: 10 * n for n, word in enumerate(_TENS, 2)}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}  # and "th" for the rest, up to "twelfth"
_ORDINAL_DIGITS = {word: f"{n}{_ORDINAL_SUFFIX.get(n, 'th')}" for n, word in enumerate(_ORDINALS, 1)}
_NUMBER_WORDS = frozenset(_NUMBERS) | frozenset(_SCALES) | frozenset(_ORDINAL_DIGITS)


def plain_words(text: str) -> str:
    """Lower case, accents and punctuation dropped, single spaces, no leading article; "&" is "and".

    >>> plain_words("Ender's Game")
    'ender s game'
    """
    if "&" in text:  # readers and titles write it both ways: "Angels & Demons"
        text = text.replace("&", " and ")
    if text.isascii():  # most titles: nothing to decompose (and this path is ~5x faster)
        text = text.casefold()
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _NOT_WORD.sub(" ", text).strip()
    return _LEADING_ARTICLE.sub("", text)


def normalize_title(title: str) -> str:
    """A lookup key that ignores case, accents, punctuation, apostrophes and a leading (or a
    library's trailing) article; "&" is "and".

    >>> normalize_title("  The Hobbit, or There and Back Again ")
    'hobbit or there and back again'
    >>> normalize_title("Les Misérables")
    'les miserables'
    >>> normalize_title("War & Peace") == normalize_title("War and Peace")
    True
    >>> normalize_title("Ender's Game"), normalize_title("20,000 Leagues Under the Sea")
    ('enders game', '20000 leagues under the sea')
    >>> normalize_title("Great Gatsby, The")
    'great gatsby'
    """
    if "'" in title or not title.isascii():
        title = _APOSTROPHE.sub("", title)
    if "," in title:
        title = _COMMA_NOISE.sub("", title)
    return plain_words(title)


def numbers_as_digits(words: str) -> str:
    """Numbers spelled in words written in digits, in a normalized title (:func:`normalize_title`).

    Readers write numbers both ways ("50 shades of grey", "Catch Twenty-Two"): the catalogue's
    keys are also filed under this form, and a typed title is looked up in it too. Ordinals up
    to "twelfth" become "1st" … "12th". Number words that do not make one number stay several:
    "nineteen eighty four" is "19 84", on both sides alike.

    >>> numbers_as_digits("twenty thousand leagues under the sea")
    '20000 leagues under the sea'
    >>> numbers_as_digits("catch twenty two"), numbers_as_digits("second foundation")
    ('catch 22', '2nd foundation')
    """
    split = words.split(" ")
    if _NUMBER_WORDS.isdisjoint(split):  # most titles
        return words
    out: list[str] = []
    index = 0
    while index < len(split):
        word = split[index]
        if word in _ORDINAL_DIGITS:
            out.append(_ORDINAL_DIGITS[word])
            index += 1
        elif word in _NUMBER_WORDS:
            value, index = _read_number(split, index)
            out.append(str(value))
        else:
            out.append(word)
            index += 1
    return " ".join(out)


def _read_number(words: list[str], start: int) -> tuple[int, int]:
    """The number spelled from ``words[start]`` on, and the index of the first word after it."""
    total = current = 0
    index = start
    while index < len(words) and (word := words[index]) in _NUMBER_WORDS and word not in _ORDINAL_DIGITS:
        if word in _SCALES:
            scale = _SCALES[word]
            if scale == 100 and current < 100:  # "hundred", "one hundred", "twenty hundred"
                current = 100 * (current or 1)
            elif scale > 100 and current < scale and total % (scale * 1000) == 0:
                total += scale * (current or 1)
                current = 0
            else:
                break
        else:
            value = _NUMBERS[word]
            last_two = current % 100
            if index > start and value == 0:  # "zero" joins nothing
                break
            if value >= 20 and last_two == 0:  # "twenty", "one hundred twenty"
                current += value
            elif value < 20 and (last_two == 0 or (last_two >= 20 and last_two % 10 == 0 and value < 10)):
                current += value  # "one", "twenty one", "one hundred one"
            else:
                break
            if value == 0:
                index += 1
                break
        index += 1
    return total + current, index


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
