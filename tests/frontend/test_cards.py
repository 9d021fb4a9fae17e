"""HTML of covers, cards and rows: escaped, with a placeholder under every cover."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from frontend.books import Book, RecommendedBook
from frontend.cards import (
    because_text,
    card_html,
    cover_style,
    format_authors,
    format_rating,
    format_year,
    placeholder_cover,
    row_html,
)

HOSTILE = Book(
    book_id=9,
    title='<img src=x onerror="alert(1)"> & Friends',
    authors="<script>evil()</script>, B",
    year=2001,
    image_url='https://example.org/a.jpg");background:url(javascript:alert(1)',
    average_rating=4.5,
)


def test_card_escapes_every_text_from_the_catalogue() -> None:
    snippet = card_html(RecommendedBook(HOSTILE, position=3, because=("</div><script>x</script>",)))

    assert "<script>" not in snippet and "<img" not in snippet
    assert html.escape(HOSTILE.title) in snippet
    assert 'data-position="3"' in snippet
    assert "Because you liked “&lt;/div&gt;&lt;script&gt;x&lt;/script&gt;”" in snippet


def test_cover_url_cannot_break_out_of_the_style() -> None:
    style = cover_style(HOSTILE)

    cover_layer = style.split(", url(")[0]
    assert cover_layer.count('"') == 2  # only the url("...") quotes; the one in the address is encoded
    assert "%22" in cover_layer and "%28" in cover_layer


def test_cover_without_image_is_the_placeholder_alone() -> None:
    book = Book(1, "Dune")

    assert cover_style(book) == f'background-image: url("{placeholder_cover(book)}");'


def test_cover_with_image_keeps_the_placeholder_underneath() -> None:
    book = Book(1, "Dune", image_url="https://example.org/dune.jpg")

    layers = re.findall(r'url\("([^"]+)"\)', cover_style(book))
    assert layers == ["https://example.org/dune.jpg", placeholder_cover(book)]


def test_placeholder_shows_the_title_escaped_and_is_stable() -> None:
    book = Book(4, "Pride & <Prejudice> and a very long subtitle that goes on and on and on forever")
    svg = unquote(placeholder_cover(book).removeprefix("data:image/svg+xml,"))

    assert svg.startswith("<svg") and "Pride &amp;" in svg and "&lt;Prejudice&gt;" in svg
    assert svg.count("<tspan") == 5 and "…" in svg
    assert placeholder_cover(book) == placeholder_cover(Book(4, book.title))


def test_row_shows_title_author_and_year() -> None:
    snippet = row_html(Book(15, "The Odyssey", "Homer, Robert Fagles", -720))

    assert "The Odyssey" in snippet and "Homer, Robert Fagles · 720 BC" in snippet


def test_formatting() -> None:
    assert format_year(None) == "" and format_year(1997) == "1997" and format_year(-50) == "50 BC"
    assert format_authors("") == "Unknown author"
    assert format_authors("A, B, C") == "A, B et al."
    assert format_rating(None) == "" and format_rating(4.256) == "★ 4.26"
    assert because_text(()) == ""
    assert because_text(("A", "B", "C", "D")) == "Because you liked “A”, “B” and 2 more"


def test_because_in_plain_words() -> None:
    assert because_text(("Dune",)) == "Because you liked “Dune”"
    assert because_text(("Dune", "Emma")) == "Because you liked “Dune” and “Emma”"
    assert because_text((), ("fantasy",)) == "Popular in fantasy"
    assert because_text((), ("science-fiction", "young-adult", "horror")) == (
        "Popular in science fiction, young adult and horror"
    )
    assert (
        because_text(("Dune",), ("fantasy", "romance"))
        == "Because you liked “Dune”; popular in fantasy and romance"
    )


def test_the_reason_on_a_card_is_escaped() -> None:
    card = card_html(RecommendedBook(Book(1, "X"), 0, because=("<b>A</b>",), because_genres=("a&b",)))
    assert "Because you liked “&lt;b&gt;A&lt;/b&gt;”; popular in a&amp;b" in card
