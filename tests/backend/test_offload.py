"""Which /predict requests are resolved inline, on the event loop (backend/offload.py)."""

from __future__ import annotations

import pytest

from backend.offload import INLINE_ITEMS, resolve_inline
from backend.predictions import FUZZY_ITEMS
from backend.schemas import PredictRequest
from readcrumbs.catalogue import Catalogue
from tests.backend.tiny import tiny_catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_frame(tiny_catalogue())


def request(items: list[str | int], disliked: list[str | int] | None = None) -> PredictRequest:
    return PredictRequest(items=items, disliked=disliked or [], userid="reader-1")


def test_look_ups_are_resolved_inline(catalogue: Catalogue) -> None:
    resolved = resolve_inline(catalogue, request(["The Hobbit", "the hobbit!", 2], disliked=["Emma"]))
    assert resolved is not None
    assert [match.book.book_id for match in resolved.items.matches] == [1, 1, 2]
    assert [match.book.book_id for match in resolved.disliked.matches] == [10]


@pytest.mark.parametrize(
    "items",
    [
        ["The Hobit"],  # a typo: fuzzy matching
        ["The Hobbit", "nothing like any title"],  # unknown: fuzzy matching, then suggestions
        ["Emma by Jane Austen"],  # a step after the look-ups
        ["The Hobbit"] * (INLINE_ITEMS + 1),  # long lists
    ],
)
def test_what_needs_more_than_look_ups_goes_to_the_pool(catalogue: Catalogue, items: list[str | int]) -> None:
    assert resolve_inline(catalogue, request(items)) is None


def test_a_disliked_typo_goes_to_the_pool(catalogue: Catalogue) -> None:
    assert resolve_inline(catalogue, request(["The Hobbit"], disliked=["Brave New Wrld"])) is None


@pytest.mark.parametrize(
    "item",
    [
        "The Hobbit",
        "HOBBIT, THE",
        "Dune",
        "harry potter 2",
        "Rebecca",
        "Les Miserables",
        "1984",
        "12",
        "Pride and Prejudice by Jane Austen",
        "Fellowship of the Ring",
        "Farenheit 451",
        "Tolkien - The Hobbit",
    ],
)
def test_an_inline_resolution_is_the_one_predict_would_make(catalogue: Catalogue, item: str) -> None:
    resolved = resolve_inline(catalogue, request([item]))
    if resolved is not None:
        assert resolved.items == catalogue.resolve([item], max_fuzzy=FUZZY_ITEMS)
