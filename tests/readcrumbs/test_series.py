"""Series notes in goodbooks titles."""

from __future__ import annotations

import pytest

from readcrumbs.series import parse_series


@pytest.mark.parametrize(
    ("title", "key", "volume"),
    [
        ("Catching Fire (The Hunger Games, #2)", "hunger games", 2.0),
        ("Dune Messiah (Dune Chronicles #2)", "dune chronicles", 2.0),
        ("The Colour of Magic (Discworld, #1; Rincewind #1)", "discworld", 1.0),
        ("Anne of Green Gables Boxed Set (Anne of Green Gables, #1-8)", "anne of green gables", 1.0),
        ("Some Novella (Kate Daniels, #5.5)", "kate daniels", 5.5),
    ],
)
def test_parse_series_reads_the_first_series_of_the_note(title: str, key: str, volume: float) -> None:
    found = parse_series(title)
    assert found is not None
    assert (found.key, found.volume) == (key, volume)


@pytest.mark.parametrize(
    "title", ["The Hobbit", "Winnie-the-Pooh (Movie Tie-In Edition)", "Ender's Game (Ender's Saga)", "(#3)"]
)
def test_parse_series_needs_a_named_series_with_a_volume(title: str) -> None:
    assert parse_series(title) is None
