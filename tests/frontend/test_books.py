"""Reading the backend's JSON defensively."""

from __future__ import annotations

import pytest

from frontend.books import (
    Book,
    Genre,
    Vote,
    parse_book,
    parse_book_list,
    parse_genres,
    parse_recommendations,
    parse_rejection,
)


def test_book_with_every_field() -> None:
    raw: dict[str, object] = {
        "book_id": "3",
        "title": "  Dune ",
        "authors": ["Frank Herbert", " ", "Someone Else"],
        "year": 1965.0,
        "image_url": "https://example.org/dune.jpg",
        "average_rating": "4.19",
        "extra": "ignored",
    }

    expected = Book(3, "Dune", "Frank Herbert, Someone Else", 1965, "https://example.org/dune.jpg", 4.19)
    assert parse_book(raw) == expected


@pytest.mark.parametrize("raw", [{}, {"title": ""}, {"title": None}, ["Dune"], "Dune"])
def test_book_without_a_title_is_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_book(raw)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("year", float("nan"), None),
        ("year", "nan", None),
        ("year", "inf", None),
        ("year", True, None),
        ("year", "-720", -720),
        ("average_rating", float("inf"), None),
        ("average_rating", "n/a", None),
        ("image_url", "javascript:alert(1)", None),
        ("image_url", "data:image/png;base64,xx", None),
        ("image_url", 42, None),
    ],
)
def test_bad_optional_fields_are_dropped_not_fatal(field: str, value: object, expected: object) -> None:
    book = parse_book({"title": "Dune", field: value})

    assert getattr(book, field) == expected


def test_catalogue_column_name_for_year_is_understood() -> None:
    assert parse_book({"title": "Dune", "original_publication_year": 1965.0}).year == 1965


def test_book_list_bare_or_wrapped_skips_bad_rows() -> None:
    rows = [{"book_id": 1, "title": "A"}, {"book_id": 2}, "junk", {"book_id": 3, "title": "C"}]

    assert [b.title for b in parse_book_list(rows)] == ["A", "C"]
    assert [b.title for b in parse_book_list({"books": rows})] == ["A", "C"]
    with pytest.raises(ValueError):
        parse_book_list({"items": rows})


def test_recommendations_from_books() -> None:
    payload = {
        "recs": ["B", "C"],
        "books": [
            {"book_id": 2, "title": "B", "score": 0.9, "because": ["A"]},
            {"book_id": None, "title": ""},  # unreadable: skipped, positions stay dense
            {"book_id": 3, "title": "C", "score": "0.5", "because": [{"title": "A"}, 7]},
        ],
        "request_id": "r1",
        "model_version": 4,
    }

    answer = parse_recommendations(payload, ["A"])

    assert [(r.book.title, r.position, r.score, r.because) for r in answer.books] == [
        ("B", 0, 0.9, ("A",)),
        ("C", 1, 0.5, ("A", "7")),
    ]
    assert (answer.request_id, answer.model_version, answer.unknown) == ("r1", "4", ())


def test_recommendations_from_an_older_server_that_sends_titles_only() -> None:
    answer = parse_recommendations({"recs": ["B", "C"]}, ["A"])

    assert [(r.book.book_id, r.book.title, r.position) for r in answer.books] == [
        (None, "B", 0),
        (None, "C", 1),
    ]
    assert answer.request_id is None


def test_recommendations_need_books_or_recs() -> None:
    with pytest.raises(ValueError):
        parse_recommendations({"request_id": "r1"}, ["A"])
    with pytest.raises(ValueError):
        parse_recommendations(["B"], ["A"])


def test_resolved_titles_are_paired_with_the_reader_text_by_position() -> None:
    payload = {"books": [], "resolved": ["The Hobbit", "Emma"], "unknown": ["zzz"]}

    answer = parse_recommendations(payload, ["the hobit", "zzz", "emma"])

    assert [(r.given, r.title) for r in answer.resolved] == [("the hobit", "The Hobbit"), ("emma", "Emma")]
    assert answer.unknown == ("zzz",)


def test_resolved_titles_are_not_paired_when_counts_disagree() -> None:
    answer = parse_recommendations({"books": [], "resolved": ["The Hobbit"]}, ["the hobit", "emma"])

    assert [(r.given, r.title) for r in answer.resolved] == [(None, "The Hobbit")]


def test_resolved_objects_keep_their_echo() -> None:
    payload = {"books": [], "resolved": [{"query": "hobit", "title": "The Hobbit", "book_id": 7}, {"x": 1}]}

    answer = parse_recommendations(payload, ["hobit", "other"])

    assert [(r.given, r.title, r.book_id) for r in answer.resolved] == [("hobit", "The Hobbit", 7)]


def test_rejection_from_a_string() -> None:
    assert parse_rejection("Must enter at least one favorite book.", "x").message.startswith("Must enter")


@pytest.mark.parametrize(
    ("suggestions", "expected"),
    [
        ({"zz": ["A", "B"]}, {"zz": ("A", "B")}),
        (["A", "B"], {"": ("A", "B")}),
        ([{"item": "zz", "suggestions": ["A"]}, "junk"], {"zz": ("A",)}),
        (None, {}),
    ],
)
def test_rejection_from_an_object_with_any_suggestion_shape(suggestions: object, expected: object) -> None:
    detail = {"message": "Not found: zz", "unknown": ["zz"], "suggestions": suggestions}

    rejection = parse_rejection(detail, "fallback")

    assert (rejection.message, rejection.unknown, rejection.suggestions) == (
        "Not found: zz",
        ("zz",),
        expected,
    )


def test_rejection_from_a_schema_error_list_or_nothing() -> None:
    detail = [{"loc": ["body", "k"], "msg": "Input should be less than 100"}, "junk"]

    assert parse_rejection(detail, "Refused").message == "Refused: Input should be less than 100"
    assert parse_rejection(None, "Refused").message == "Refused"
    assert parse_rejection({"unknown": ["zz"]}, "Refused").message == "Refused"


def test_vote_payload_matches_the_feedback_contract() -> None:
    vote = Vote("reader", Book(7, "The Hobbit"), "req-1", 2, 1)

    assert vote.as_payload() == {
        "userid": "reader",
        "book_id": 7,
        "title": "The Hobbit",
        "request_id": "req-1",
        "position": 2,
        "feedback": 1,
    }


def test_recommendations_read_the_genres_that_steered_each_book() -> None:
    answer = parse_recommendations(
        {
            "books": [
                {"book_id": 1, "title": "A", "because": [], "because_genres": ["fantasy", 3, ""]},
                {"book_id": 2, "title": "B", "because": ["Dune"]},
                "not a book",
            ]
        },
        [],
    )

    assert [(r.because, r.because_genres) for r in answer.books] == [((), ("fantasy", "3")), (("Dune",), ())]


def test_genres_in_the_contract_shape_keep_their_order() -> None:
    payload = {"genres": [{"name": "fantasy", "books": 120}, {"name": "classics", "books": 80}]}

    assert parse_genres(payload) == [Genre("fantasy", 120), Genre("classics", 80)]


def test_genres_skip_bad_entries_and_repeats() -> None:
    payload = {"genres": [{"name": "fantasy", "books": "x"}, {"books": 3}, 7, "horror", {"name": "fantasy"}]}

    assert parse_genres(payload) == [Genre("fantasy", 0), Genre("horror", 0)]


@pytest.mark.parametrize("payload", [None, {"genres": "fantasy"}, "fantasy", {}])
def test_genres_of_the_wrong_shape_are_refused(payload: object) -> None:
    with pytest.raises(ValueError):
        parse_genres(payload)
