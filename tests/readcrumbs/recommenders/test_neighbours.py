"""The sparse item-to-item weights that item-kNN and EASE share."""

from __future__ import annotations

import numpy as np
import pytest

from readcrumbs.recommenders import neighbours as nb


def test_keeps_each_rows_largest_positive_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nb, "ROW_BLOCK", 2)  # several blocks on a small matrix
    weights = np.array(
        [[0, 5, -1, 3, 1], [2, 0, 4, -3, 9], [-1, -2, 0, -3, -4], [1, 1, 1, 0, 1], [7, 6, 5, 4, 0]],
        dtype=np.float32,
    )
    kept = nb.keep_top_neighbours(weights, 2).toarray()
    expected = np.array(
        [[0, 5, 0, 3, 0], [0, 0, 4, 0, 9], [0, 0, 0, 0, 0], [1, 1, 1, 0, 1], [7, 6, 0, 0, 0]],
        dtype=np.float32,
    )
    # Row 3 has four equal weights: any two of them are right.
    np.testing.assert_array_equal(np.delete(kept, 3, axis=0), np.delete(expected, 3, axis=0))
    assert np.count_nonzero(kept[3]) == 2 and set(kept[3][kept[3] > 0]) == {1.0}


def test_a_single_book_has_no_neighbours() -> None:
    assert nb.keep_top_neighbours(np.zeros((1, 1), dtype=np.float32), 5).nnz == 0


def test_pack_round_trip() -> None:
    matrix = nb.keep_top_neighbours(np.random.default_rng(0).random((6, 6)).astype(np.float32), 3)
    arrays = nb.ItemWeights.from_csr(matrix).pack()
    assert {a.dtype for a in arrays.values()} == {
        np.dtype(np.float32),
        np.dtype(np.int32),
        np.dtype(np.int64),
    }
    assert (nb.ItemWeights.unpack(arrays).to_csr() != matrix).nnz == 0


def test_explain_reads_weight_from_each_book_to_each_shown_book_times_its_signal() -> None:
    weights = nb.keep_top_neighbours(np.array([[0, 2, 3], [1, 0, 5], [4, 6, 0]], dtype=np.float32), 2)
    item_weights = nb.ItemWeights.from_csr(weights)
    reasons = item_weights.explain_reader(
        np.array([0, 1]), np.array([1.0, -0.5], dtype=np.float32), np.array([2, 1])
    )
    # Book 0 keeps weights to 2 and 1; book 1 keeps 2 and 0 (not 1 itself).
    np.testing.assert_array_equal(reasons, [[3.0, -2.5], [2.0, 0.0]])


def test_score_reader_adds_each_books_row_times_its_signal() -> None:
    weights = nb.keep_top_neighbours(np.array([[0, 2, 3], [1, 0, 5], [4, 6, 0]], dtype=np.float32), 2)
    scores = nb.ItemWeights.from_csr(weights).score_reader(
        np.array([2, 0]), np.array([-1.0, 1.0], dtype=np.float32)
    )
    np.testing.assert_array_equal(scores, [-4.0, 2.0 - 6.0, 3.0])
