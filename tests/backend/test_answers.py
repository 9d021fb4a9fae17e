"""The /predict answer as dicts: the very bytes PredictResponse writes, whatever the values."""

from __future__ import annotations

import pytest

from backend.answers import answer, answer_json, book_cards, recommended_book, resolved_item
from backend.schemas import PredictResponse
from readcrumbs.catalogue import Catalogue, Match, MatchKind

# Titles and authors that a JSON encoder can get wrong: quotes, backslashes, control characters,
# accents, characters outside the BMP, HTML and a lone non-ASCII letter.
AWKWARD = [
    'He said "Hi"',
    "C:\\path\\to",
    "tab\there\nnew line\x01",
    "Café Müller",
    "🐉 Dragons",
    "<b>&amp;</b>",
    "é",
]


def catalogue() -> Catalogue:
    return Catalogue.from_columns(
        {
            "book_id": [1, 2, 3, 4, 5, 6, 7],
            "title": AWKWARD,
            "authors": list(reversed(AWKWARD)),
            "year": [1937, None, -500, 2020, 0, 1999, 2001],
            "image_url": [f"https://images.example/{i}.jpg" for i in range(7)],
        }
    )


def test_cards_carry_what_an_answer_shows_of_each_book():
    cards = book_cards(catalogue())
    assert list(cards) == [1, 2, 3, 4, 5, 6, 7]
    assert cards[2] == {
        "book_id": 2,
        "title": AWKWARD[1],
        "authors": AWKWARD[-2],
        "year": None,
        "image_url": "https://images.example/1.jpg",
    }


@pytest.mark.parametrize(
    "scores",
    [
        [0.1 + 0.2, 1e-7, 123456.789, 0.0, -1.5, 5e-324, 1.7976931348623157e308],
        [1.0, 0.5, 0.25, 0.125, 1 / 3, 2 / 3, 0.30000000000000004],
    ],
)
def test_the_answer_is_byte_for_byte_the_schemas_own(scores):
    books = catalogue()
    cards = book_cards(books)
    reasons = [AWKWARD[0], AWKWARD[4]]
    shown = [
        recommended_book(cards[book_id], score, reasons[: book_id % 3], ["fantasy"] * (book_id % 2))
        for book_id, score in zip(cards, scores, strict=True)
    ]
    matches = [
        resolved_item(Match("he said", books.book(1), MatchKind.NORMALIZED, 100.0, (books.book(2),))),
        resolved_item(Match(4, books.book(4), MatchKind.BOOK_ID, 100.0)),
        resolved_item(Match("cafe mueller", books.book(4), MatchKind.FUZZY, 87.5)),
    ]
    answered = answer(shown, "a" * 32, "12", matches, ["Nope", 99, "🐉"])
    for arm in ("production", "challenger"):
        answered["arm"] = arm
        expected = PredictResponse.model_validate(answered).model_dump_json().encode()
        assert answer_json(answered) == expected


def test_recs_repeat_the_titles_in_order():
    cards = book_cards(catalogue())
    shown = [recommended_book(cards[i], 1.0 / i, [], []) for i in (3, 1, 2)]
    answered = answer(shown, "r", "1", [], [])
    assert answered["recs"] == [AWKWARD[2], AWKWARD[0], AWKWARD[1]]
    assert answered["arm"] == "production"
