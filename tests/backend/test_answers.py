"""The /predict answer written from cards: the very bytes PredictResponse writes, whatever the values."""

from __future__ import annotations

import json
import math

import pytest

from backend.answers import answer, book_cards, resolved_item
from backend.schemas import PredictResponse
from readcrumbs.catalogue import Catalogue, Match, MatchKind
from readcrumbs.recommend import Recommendation

# Titles and authors that a JSON encoder can get wrong: quotes, backslashes, control characters,
# accents, characters outside the BMP, HTML, a lone non-ASCII letter and a comma.
AWKWARD = [
    'He said "Hi"',
    "C:\\path\\to",
    "tab\there\nnew line\x01",
    "Café Müller",
    "🐉 Dragons",
    "<b>&amp;</b>",
    "é",
    "One, Two",
]
YEARS = [1937, None, -500, 2020, 0, 1999, 2001, 12]


def catalogue() -> Catalogue:
    return Catalogue.from_columns(
        {
            "book_id": list(range(1, 9)),
            "title": AWKWARD,
            "authors": list(reversed(AWKWARD)),
            "year": YEARS,
            "image_url": [f"https://images.example/{i}.jpg" for i in range(8)],
        }
    )


def expected_book(book_id: int, score: float, because: list[int], genres: list[str]) -> dict[str, object]:
    """What PredictResponse shows of one book, written out by hand from the catalogue above."""
    return {
        "book_id": book_id,
        "title": AWKWARD[book_id - 1],
        "authors": AWKWARD[-book_id],
        "year": YEARS[book_id - 1],
        "image_url": f"https://images.example/{book_id - 1}.jpg",
        "score": score,
        "because": [AWKWARD[reason - 1] for reason in because],
        "because_genres": genres,
    }


def test_cards_hold_each_books_title_and_its_fixed_fields_as_json():
    cards = book_cards(catalogue())
    assert list(cards) == list(range(1, 9))
    assert cards[2].title == AWKWARD[1]
    assert json.loads(cards[2].title_json) == AWKWARD[1]
    assert json.loads(cards[2].head + b"}") == {
        "book_id": 2,
        "title": AWKWARD[1],
        "authors": AWKWARD[-2],
        "year": None,
        "image_url": "https://images.example/1.jpg",
    }


@pytest.mark.parametrize(
    "scores",
    [
        [0.1 + 0.2, 1e-7, 123456.789, 0.0, -1.5, 5e-324, 1.7976931348623157e308, -0.0],
        [1.0, 0.5, 0.25, 0.125, 1 / 3, 2 / 3, 0.30000000000000004, 1e22],
        [math.inf, -math.inf, math.nan, 1e-5, 1e16, 2.5e-310, 3.4028234663852886e38, 7.0],
    ],
)
def test_the_answer_is_byte_for_byte_the_schemas_own(scores):
    books = catalogue()
    cards = book_cards(books)
    shown = [
        Recommendation(book_id, score, [1, 5, 8][: book_id % 4], ["fantasy", 'Sci-Fi, "Hard"'][: book_id % 3])
        for book_id, score in zip(cards, scores, strict=True)
    ]
    matches = [
        Match("he said", books.book(1), MatchKind.NORMALIZED, 100.0, (books.book(2),)),
        Match(4, books.book(4), MatchKind.BOOK_ID, 100.0),
        Match("cafe mueller", books.book(4), MatchKind.FUZZY, 87.5),
    ]
    answered = answer(
        shown, cards, "a" * 32, "12", [resolved_item(match) for match in matches], ["Nope", 99, "🐉"]
    )
    for arm in ("production", "challenger"):
        expected = PredictResponse.model_validate(
            {
                "recs": [AWKWARD[book_id - 1] for book_id in cards],
                "books": [expected_book(*recommendation) for recommendation in shown],
                "request_id": "a" * 32,
                "model_version": "12",
                "resolved": [
                    {
                        "item": "he said",
                        "book_id": 1,
                        "title": AWKWARD[0],
                        "match": "normalized",
                        "confidence": 100.0,
                        "alternatives": [2],
                    },
                    {
                        "item": 4,
                        "book_id": 4,
                        "title": AWKWARD[3],
                        "match": "book_id",
                        "confidence": 100.0,
                        "alternatives": [],
                    },
                    {
                        "item": "cafe mueller",
                        "book_id": 4,
                        "title": AWKWARD[3],
                        "match": "fuzzy",
                        "confidence": 87.5,
                        "alternatives": [],
                    },
                ],
                "unknown": ["Nope", 99, "🐉"],
                "arm": arm,
            }
        )
        assert answered.json(arm) == expected.model_dump_json().encode()


@pytest.mark.parametrize("shown", [[], [Recommendation(3, 0.5, [], [])]])
def test_short_and_empty_answers_are_the_schemas_own(shown):
    cards = book_cards(catalogue())
    answered = answer(shown, cards, "r", "1", [], [])
    expected = PredictResponse(
        recs=[AWKWARD[2]] if shown else [],
        books=[expected_book(3, 0.5, [], [])] if shown else [],  # type: ignore[list-item]
        request_id="r",
        model_version="1",
        resolved=[],
        unknown=[],
    )
    assert answered.json("production") == expected.model_dump_json().encode()


def test_recs_repeat_the_titles_in_the_order_shown():
    cards = book_cards(catalogue())
    shown = [Recommendation(book_id, 1.0 / book_id, [], []) for book_id in (3, 1, 2)]
    parsed = json.loads(answer(shown, cards, "r", "1", [], []).json("challenger"))
    assert parsed["recs"] == [AWKWARD[2], AWKWARD[0], AWKWARD[1]]
    assert [book["book_id"] for book in parsed["books"]] == [3, 1, 2]
    assert parsed["arm"] == "challenger"
