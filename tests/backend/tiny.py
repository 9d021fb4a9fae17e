"""A tiny catalogue, likes and registered models for backend tests (built in milliseconds).

Fourteen books chosen for title resolution: a series note ("(Harry Potter, #1)"), an accent
("Les Misérables"), a leading article ("The Hobbit"), a digits-only title ("1984"), and two books
sharing the title "Rebecca" with different popularity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from readcrumbs.model_bundle import bundle_files
from readcrumbs.recommenders import create_model
from readcrumbs.registry import Registry
from readcrumbs.text import normalize_title

MODEL_NAME = "readcrumbs"
ADMIN_TOKEN = "test-admin-token-0123456789"

# book_id, title, authors, year, popularity (likes in training)
BOOKS: Sequence[tuple[int, str, str, int | None, int]] = (
    (1, "The Hobbit", "J.R.R. Tolkien", 1937, 40),
    (2, "1984", "George Orwell", 1949, 35),
    (3, "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)", "J.K. Rowling, Mary GrandPré", 1997, 50),
    (4, "Harry Potter and the Chamber of Secrets (Harry Potter, #2)", "J.K. Rowling", 1998, 30),
    (5, "Les Misérables", "Victor Hugo", 1862, 10),
    (6, "Rebecca", "Daphne du Maurier", 1938, 20),
    (7, "Rebecca", "Rebecca Someone", None, 2),
    (8, "Dune (Dune Chronicles, #1)", "Frank Herbert", 1965, 25),
    (9, "Pride and Prejudice", "Jane Austen", 1813, 45),
    (10, "Emma", "Jane Austen", 1815, 15),
    (11, "The Fellowship of the Ring (The Lord of the Rings, #1)", "J.R.R. Tolkien", 1954, 33),
    (12, "Animal Farm", "George Orwell", 1945, 28),
    (13, "Brave New World", "Aldous Huxley", 1932, 22),
    (14, "Fahrenheit 451", "Ray Bradbury", 1953, 21),
)


def tiny_catalogue() -> pd.DataFrame:
    """The fourteen books with every catalogue column (readcrumbs/dataset.py)."""
    popularity = np.array([book[4] for book in BOOKS], dtype=np.int64)
    return pd.DataFrame(
        {
            "book_id": np.array([book[0] for book in BOOKS], dtype=np.int64),
            "title": [book[1] for book in BOOKS],
            "title_norm": [normalize_title(book[1]) for book in BOOKS],
            "authors": [book[2] for book in BOOKS],
            "year": pd.array([book[3] for book in BOOKS], dtype="Int64"),
            "average_rating": np.linspace(3.5, 4.5, len(BOOKS)),
            "ratings_count": popularity * 10,
            "image_url": [f"http://img/{book[0]}m.jpg" for book in BOOKS],
            "small_image_url": [f"http://img/{book[0]}s.jpg" for book in BOOKS],
            "genres": [["fantasy"] if book[0] in (1, 3, 4, 8, 11) else ["classics"] for book in BOOKS],
            "popularity": popularity,
            "popularity_pct": pd.Series(popularity).rank(pct=True).to_numpy() * 100.0,
        }
    )


def tiny_likes(n_users: int = 80, seed: int = 0) -> sp.csr_matrix:
    """(n_users, 14) float32 CSR: each book liked with a probability that follows its popularity."""
    rng = np.random.default_rng(seed)
    probability = np.array([book[4] for book in BOOKS], dtype=np.float64) / 60.0
    dense = (rng.random((n_users, len(BOOKS))) < probability).astype(np.float32)
    dense[np.arange(len(BOOKS)) % n_users, np.arange(len(BOOKS))] = 1.0  # every book liked once
    return sp.csr_matrix(dense)


def register_version(registry: Registry, neighbours: int, *, promote: bool = False) -> int:
    """Fit an item-kNN with ``neighbours`` on the tiny likes, register it and optionally promote it."""
    model = create_model("itemknn", {"neighbours": neighbours})
    model.fit(tiny_likes())
    manifest = registry.register(
        MODEL_NAME,
        "itemknn",
        bundle_files(model, tiny_catalogue()),
        params=model.params,
        metrics={"fav3": {"recall@10": 0.1}},
        data_version="tiny",
    )
    if promote:
        registry.promote(MODEL_NAME, manifest.version, force=True)
    return manifest.version


def predict_payload(*items: str | int, userid: str = "reader-1", **extra: object) -> dict[str, object]:
    """A /predict body as the prototype's clients send it (plus any ``extra`` fields)."""
    return {"items": list(items), "userid": userid, **extra}
