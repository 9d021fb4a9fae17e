"""GET /books/search and GET /books/{book_id}."""

from __future__ import annotations

import pytest


def test_search_by_title_prefix(client):
    response = client.get("/books/search", params={"q": "harry"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "harry"
    assert [book["book_id"] for book in body["books"]] == [3, 4]
    assert set(body["books"][0]) == {
        "book_id",
        "title",
        "authors",
        "year",
        "image_url",
        "small_image_url",
        "average_rating",
        "ratings_count",
        "genres",
        "popularity_pct",
    }


def test_search_by_author_and_limit(client):
    books = client.get("/books/search", params={"q": "orwell", "limit": 1}).json()["books"]
    assert [book["book_id"] for book in books] == [2]  # the more popular of Orwell's two


def test_search_with_no_match_is_an_empty_list(client):
    assert client.get("/books/search", params={"q": "qqqqqqqq"}).json()["books"] == []


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "a", "limit": 0}, {"q": "a", "limit": 51}]
)
def test_search_parameter_errors_are_422(client, params):
    assert client.get("/books/search", params=params).status_code == 422


def test_get_book(client):
    response = client.get("/books/5")
    assert response.status_code == 200
    assert response.json()["title"] == "Les Misérables"
    assert client.get("/books/7").json()["year"] is None


def test_unknown_book_is_404(client):
    response = client.get("/books/9999")
    assert response.status_code == 404
    assert "9999" in response.json()["detail"]


def test_non_numeric_book_id_is_422(client):
    assert client.get("/books/emma").status_code == 422


@pytest.mark.parametrize(
    ("q", "book_id"),
    [
        ("farenheit", 14),  # a typo
        ("bradbury fahrenheit", 14),  # author then title words
        ("orwel farm", 12),  # typos in both
    ],
)
def test_search_understands_titles_as_typed(client, q, book_id):
    books = client.get("/books/search", params={"q": q}).json()["books"]
    assert books and books[0]["book_id"] == book_id
