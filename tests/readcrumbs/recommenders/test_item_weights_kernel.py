"""The C kernel (readcrumbs/_item_weights.c) answers exactly as the numpy path it stands in for.

Thousands of random readers (favourites, dislikes, series turned down) per item-weight model:
the same books in the same order, the same scores to the bit and the same reasons, by index and by
book_id. Then the cases the kernel hands back to numpy, ties, and what it refuses.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from readcrumbs.book_facts import BookFacts
from readcrumbs.recommend import ReaderInput, Recommendation, rank_reader
from readcrumbs.recommenders import create_model
from readcrumbs.recommenders import neighbours as nb
from readcrumbs.recommenders.neighbours import ItemWeights
from tests.readcrumbs import test_serving_identity as serving_identity
from tests.readcrumbs.test_serving_identity import N_BOOKS, random_likes

try:
    from readcrumbs import _item_weights as kernel
except ImportError:
    kernel = None  # type: ignore[assignment]
needs_kernel = pytest.mark.skipif(
    kernel is None and not os.environ.get("CI"),
    reason="readcrumbs._item_weights was not built (no C compiler)",
)
pytestmark = needs_kernel

K = 10
MODELS = {
    "itemknn": {"neighbours": 40, "shrink": 5.0},
    "itemknn-sparse": {"neighbours": 3, "shrink": 5.0},  # many readers go back to numpy
    "ease": {"l2": 20.0, "neighbours": 50},
    "edlae": {"l2": 20.0, "dropout": 0.2, "neighbours": 50},
    "rp3beta": {"alpha": 0.8, "beta": 0.3, "neighbours": 50},
}
# Five-volume series for a third of the books, so that a dislike hides the rest of its series.
TITLES = [f"Book {i} (Saga {i // 5}, #{i % 5 + 1})" if i % 3 == 0 else f"Book {i}" for i in range(N_BOOKS)]


def test_the_kernel_is_built_in_ci() -> None:
    assert kernel is not None, "readcrumbs._item_weights was not built: install gcc and reinstall"


def random_readers() -> list[ReaderInput]:
    """The identity test's readers: 1–6 favourites, and 0–2 dislikes for about half of them."""
    return [
        ReaderInput(favourites=books[signal > 0], disliked=books[signal < 0])
        for books, signal in serving_identity.random_readers()
    ]


def served(
    monkeypatch: pytest.MonkeyPatch,
    model: object,
    readers: list[ReaderInput],
    book_ids: np.ndarray | None,
    *,
    compiled: bool,
) -> list[list[Recommendation]]:
    facts = BookFacts({"title": TITLES})
    with monkeypatch.context() as patch:
        if not compiled:
            patch.setattr(nb.ItemWeights, "rank_reader", lambda *args: None)
        return [rank_reader(model, facts, reader, K, book_ids) for reader in readers]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_kernel_ranks_scores_and_explains_as_numpy(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = create_model(name.split("-")[0], MODELS[name])
    model.fit(random_likes())
    readers = random_readers()
    calls: list[bool] = []
    rank = nb.ItemWeights.rank_reader

    def counted(self: ItemWeights, *args: object) -> object:
        answer = rank(self, *args)  # type: ignore[arg-type]
        calls.append(answer is not None)
        return answer

    monkeypatch.setattr(nb.ItemWeights, "rank_reader", counted)
    book_ids = np.arange(N_BOOKS, dtype=np.int64) * 7 + 1000  # names that are not indices
    for names in (None, book_ids):
        compiled = served(monkeypatch, model, readers, names, compiled=True)
        plain = served(monkeypatch, model, readers, names, compiled=False)
        for row, (fast, slow) in enumerate(zip(compiled, plain, strict=True)):
            assert fast == slow, f"{name}: reader {row} {readers[row]}"
    # The kernel answered most readers itself (not every one was handed back to numpy).
    assert sum(calls) > (0.1 if name == "itemknn-sparse" else 0.8) * len(calls)


def test_without_the_kernel_numpy_ranks_every_reader_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("readcrumbs.recommenders.neighbours._item_weights", None)
    nb._warn_uncompiled.cache_clear()
    w = weights([[(1, 1.0)], [(0, 1.0)]])
    assert rank(w, [0], [1.0], 1) is None and rank(w, [1], [1.0], 1) is None
    assert [r.message for r in caplog.records].count(
        "readcrumbs._item_weights was not built (no C compiler at install): numpy ranks every reader"
    ) == 1
    nb._warn_uncompiled.cache_clear()


def weights(rows: list[list[tuple[int, float]]]) -> ItemWeights:
    """Item weights from each book's (column, weight) entries."""
    indptr = np.cumsum([0, *map(len, rows)])
    indices = [column for row in rows for column, _ in row]
    data = [weight for row in rows for _, weight in row]
    return ItemWeights(indptr, np.array(indices, dtype=np.int32), np.array(data, dtype=np.float32))


def rank(
    w: ItemWeights, books: list[int], signal: list[float], k: int, hidden: list[int] | None = None
) -> object:
    return w.rank_reader(
        np.array(books, dtype=np.int64),
        np.array(signal, dtype=np.float32),
        np.array(books if hidden is None else hidden, dtype=np.int64),
        k,
        None,
    )


def test_ties_rank_the_lower_index_first_and_reasons_keep_the_books_order() -> None:
    # Books 0 and 1 give every other book the same weight.
    w = weights([[(c, 1.0) for c in range(6) if c != 0], [(c, 1.0) for c in range(6) if c != 1], *[[]] * 4])
    assert rank(w, [0, 1], [1.0, 1.0], 3) == [(2, 2.0, [0, 1]), (3, 2.0, [0, 1]), (4, 2.0, [0, 1])]


def test_even_terms_name_the_first_strongest_and_dislikes_are_never_reasons() -> None:
    # Four favourites with equal terms (each a quarter, under the 0.3 share), and a dislike.
    w = weights([[(5, 1.0), (6, 1.0)]] * 4 + [[(5, -0.5), (6, 2.0)]] + [[]] * 2)
    assert rank(w, [0, 1, 2, 3, 4], [1.0, 1.0, 1.0, 1.0, -1.0], 2) == [(5, 4.5, [0]), (6, 2.0, [0])]


def test_the_kernel_hands_back_what_numpy_must_rank() -> None:
    w = weights([[(1, 1.0), (2, 0.5)], [(0, 1.0)], [(0, np.nan)], []])
    assert rank(w, [0], [1.0], 3) is None  # two books above zero, three asked for
    assert rank(w, [0], [1.0], 2, hidden=[0, 2]) is None  # a hidden book is never counted
    assert rank(w, [2], [1.0], 1) is None  # a NaN score
    assert rank(w, [0], [1.0], 0) is None
    assert rank(w, [0], [1.0], 5) is None  # more than there are books
    assert rank(w, [], [], 1) is None
    assert rank(w, [0], [1.0], 2) == [(1, 1.0, [0]), (2, 0.5, [0])]


def test_bad_arrays_are_refused() -> None:
    w = weights([[(1, 1.0)], [(0, 1.0)]])
    with pytest.raises(ValueError, match="book 5"):
        rank(w, [5], [1.0], 1)
    with pytest.raises(TypeError, match="books"):
        w.rank_reader(np.array([0], dtype=np.int32), np.ones(1, np.float32), np.array([0]), 1, None)
    with pytest.raises(TypeError, match="signal"):
        w.rank_reader(np.array([0]), np.ones(1, np.float64), np.array([0]), 1, None)
    with pytest.raises(ValueError, match="lengths"):
        w.rank_reader(np.array([0]), np.ones(2, np.float32), np.array([0]), 1, None)
    with pytest.raises(ValueError, match="lengths"):
        w.rank_reader(np.array([0]), np.ones(1, np.float32), np.array([0]), 1, np.arange(5))
    corrupt = ItemWeights(w.indptr, np.array([1, 9], dtype=np.int32), w.data)
    with pytest.raises(ValueError, match="column 9"):
        rank(corrupt, [1], [1.0], 1)
    assert kernel is not None
    with pytest.raises(TypeError):
        kernel.rank(w.indptr, w.indices, w.data, np.array([0]), np.ones(1, np.float32), np.array([0]), 1)  # type: ignore[call-arg]
