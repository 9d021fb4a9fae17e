"""The labelled set of typed titles and the title benchmark's tallies, on the tiny title catalogue."""

from __future__ import annotations

from bench.title_cases import FORMS, BookRow, Case, generate
from bench.titles import BY_HAND, evaluate, read_by_hand
from readcrumbs.catalogue import Catalogue
from tests.readcrumbs.titles.tiny import BOOKS, columns

ROWS = [BookRow(book_id, title, original, authors) for book_id, title, authors, original, _, _ in BOOKS]


def test_the_labelled_set_is_seeded():
    assert generate(ROWS, seed=3) == generate(ROWS, seed=3)
    assert generate(ROWS, seed=3) != generate(ROWS, seed=4)


def test_cases_cover_the_forms_with_one_book_each():
    cases = generate(ROWS, seed=3)
    assert {case.form for case in cases} <= set(FORMS)
    assert {"exact", "original", "main", "by_author", "series", "negative"} <= {case.form for case in cases}
    ids = {row.book_id for row in ROWS}
    for case in cases:
        assert (case.book_id is None) == (case.form == "negative")
        assert case.book_id is None or case.book_id in ids


def test_shared_titles_give_no_labelled_case():
    # "Twilight" names books 3 and 4234: an exact or original "Twilight" case would be ambiguous.
    cases = generate(ROWS, seed=3, per_form=50)
    assert not [case for case in cases if case.typed == "Twilight"]


def test_evaluate_tallies_right_wrong_and_unknown():
    catalogue = Catalogue.from_columns(columns())
    cases = [
        Case("exact", "Catching Fire (The Hunger Games, #2)", 17),  # right
        Case("exact", "Catching Fire (The Hunger Games, #2)", 1),  # wrong book
        Case("typo", "qqqqqq", 1),  # unknown
        Case("negative", "qqqqqq", None),  # right: stays unknown
    ]
    results = evaluate(catalogue, cases)
    assert (results["exact"]["right"], results["exact"]["wrong"]) == (0.5, 0.5)
    assert results["typo"]["unknown"] == 1.0
    assert results["negative"]["right"] == 1.0
    assert results["overall"]["n"] == 4
    assert results["overall"]["right"] == 0.5


def test_the_titles_labelled_by_hand_are_many_distinct_and_well_formed():
    cases = read_by_hand(BY_HAND)
    assert len(cases) >= 300
    assert len({case.typed for case in cases}) == len(cases)
    assert all(case.form == "by_hand" and case.typed.strip() for case in cases)
    assert all(case.book_id is None or case.book_id > 0 for case in cases)
    # Some must stay unknown: a series alone, a book the catalogue lacks.
    assert sum(case.book_id is None for case in cases) >= 10
