"""Reading pasted lists and links."""

from __future__ import annotations

import pytest

from frontend.favourites import (
    DEFAULT_RECOMMENDATIONS,
    MAX_FAVOURITES,
    MAX_RECOMMENDATIONS,
    MIN_RECOMMENDATIONS,
    book_ids_from_query,
    recommendations_from_query,
    split_pasted_list,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dune\nEmma\n", ["Dune", "Emma"]),
        ("Dune, Emma ,  Jane Eyre", ["Dune", "Emma", "Jane Eyre"]),
        ("1. Dune\n2) Emma\n- Jane Eyre\n* It\n• Nana", ["Dune", "Emma", "Jane Eyre", "It", "Nana"]),
        ("\"Dune\"\n'Emma'\n“Jane Eyre”", ["Dune", "Emma", "Jane Eyre"]),
        ("Dune\nDUNE\n dune ", ["Dune"]),
        ("1984\n", ["1984"]),
        ("   \n\n", []),
        ("", []),
    ],
)
def test_split_pasted_list(text: str, expected: list[str]) -> None:
    assert split_pasted_list(text) == expected


def test_commas_inside_parentheses_do_not_split_a_title() -> None:
    text = "Harry Potter and the Sorcerer's Stone (Harry Potter, #1), Dune"

    assert split_pasted_list(text) == ["Harry Potter and the Sorcerer's Stone (Harry Potter, #1)", "Dune"]


def test_commas_inside_a_title_on_its_own_line_are_kept() -> None:
    assert split_pasted_list("Love, Rosie\nDune") == ["Love, Rosie", "Dune"]


def test_book_ids_from_query() -> None:
    assert book_ids_from_query("7, 16,junk,7 3") == [7, 16, 3]
    assert book_ids_from_query(None) == [] and book_ids_from_query("") == []
    assert len(book_ids_from_query(",".join(str(i) for i in range(MAX_FAVOURITES + 10)))) == MAX_FAVOURITES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_RECOMMENDATIONS),
        ("abc", DEFAULT_RECOMMENDATIONS),
        ("-3", DEFAULT_RECOMMENDATIONS),
        ("1", MIN_RECOMMENDATIONS),
        ("12", 12),
        ("500", MAX_RECOMMENDATIONS),
    ],
)
def test_recommendations_from_query_is_clamped(value: str | None, expected: int) -> None:
    assert recommendations_from_query(value) == expected
