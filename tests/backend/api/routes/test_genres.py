"""GET /genres."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from backend.main import create_app
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.backend.tiny import register_version, tiny_catalogue


def test_genres_are_listed_with_book_counts_most_books_first(client):
    response = client.get("/genres")
    assert response.status_code == 200
    expected = Counter(genre for genres in tiny_catalogue()["genres"] for genre in genres)
    genres = response.json()["genres"]
    assert {genre["name"]: genre["books"] for genre in genres} == dict(expected)
    assert [genre["books"] for genre in genres] == sorted(expected.values(), reverse=True)
    assert set(genres[0]) == {"name", "books"}


def test_genres_are_503_until_a_model_is_promoted(tmp_path, settings, store):
    registry = Registry(FolderBlobStore(tmp_path / "unpromoted"))
    register_version(registry, neighbours=5)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        assert client.get("/genres").status_code == 503


def test_genres_are_documented_in_the_openapi_schema(client):
    operation = client.get("/openapi.json").json()["paths"]["/genres"]["get"]
    assert "most books first" in operation["description"] or "most books first" in operation["summary"]
