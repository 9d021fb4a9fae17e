"""The evaluation protocols (fav3, fold80) and the metrics' definitions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from experiments.evaluate import (
    FAV3,
    FOLD80,
    METRIC_NAMES,
    PROTOCOLS,
    EvaluationSet,
    ProtocolSplit,
    evaluate,
    evaluate_split,
    floor_ratio,
    format_metrics,
    heldout_evaluation_set,
    input_size,
    ranking_metrics,
    split_id,
    split_readers,
)
from readcrumbs.dataset import Dataset
from readcrumbs.errors import DataError
from readcrumbs.ranking import favourites_matrix
from readcrumbs.recommenders import create_model
from tests.experiments import tiny


class Oracle:
    """Scores each reader's books to find highest (readers come in split order): metrics must be perfect."""

    model_type: ClassVar[str] = "oracle"
    params: ClassVar[dict[str, Any]] = {}

    def __init__(self, split: ProtocolSplit) -> None:
        self.targets = split.targets
        self.next_reader = 0

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        rows = slice(self.next_reader, self.next_reader + histories.shape[0])
        self.next_reader += histories.shape[0]
        return np.asarray(self.targets[rows].toarray(), dtype=np.float32)


class ScoresInputsHighest:
    """Scores the input books highest: ranking must still never return them."""

    model_type: ClassVar[str] = "echo"

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        return np.asarray(histories.toarray() * 100.0, dtype=np.float32)

    def fit(self, likes: sp.csr_matrix) -> None: ...

    def explain(self, favourites: np.ndarray, books: np.ndarray) -> np.ndarray:
        return np.zeros((len(books), len(favourites)), dtype=np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> ScoresInputsHighest:
        return cls()


def likes_of(rows: list[list[int]], n_books: int) -> sp.csr_matrix:
    return favourites_matrix([np.array(row, dtype=np.int64) for row in rows], n_books)


@pytest.fixture
def heldout_likes(dataset: Dataset) -> tuple[sp.csr_matrix, np.ndarray]:
    readers = np.sort(dataset.heldout_users)
    return dataset.likes_matrix(readers), readers


def test_fav3_gives_three_likes_and_hides_the_rest(heldout_likes: tuple[sp.csr_matrix, np.ndarray]) -> None:
    likes, readers = heldout_likes
    split = split_readers(likes, readers, FAV3, seed=1)
    assert np.array_equal(split.readers, readers)
    assert (np.diff(split.inputs.indptr) == 3).all()
    for row in range(len(readers)):
        given, hidden = set(split.inputs[row].indices), set(split.targets[row].indices)
        assert not given & hidden
        assert given | hidden == set(likes[row].indices)


def test_fold80_gives_eighty_percent_of_likes(heldout_likes: tuple[sp.csr_matrix, np.ndarray]) -> None:
    likes, readers = heldout_likes
    split = split_readers(likes, readers, FOLD80, seed=1)
    n_liked = np.diff(likes.indptr)
    assert np.array_equal(np.diff(split.inputs.indptr), (0.8 * n_liked).astype(int))
    assert np.array_equal(np.diff(split.inputs.indptr) + np.diff(split.targets.indptr), n_liked)


@pytest.mark.parametrize(
    ("protocol", "n_liked", "expected"),
    [(FAV3, 10, 3), (FOLD80, 10, 8), (FOLD80, 13, 10), (FOLD80, 2, 1), (FOLD80, 4, 3)],
)
def test_input_size(protocol: str, n_liked: int, expected: int) -> None:
    assert input_size(protocol, n_liked) == expected


def test_input_size_refuses_an_unknown_protocol() -> None:
    with pytest.raises(DataError, match="unknown evaluation protocol"):
        input_size("fav4", 10)


def test_readers_with_too_few_likes_are_skipped() -> None:
    likes = likes_of([[0, 1, 2], [0, 1, 2, 3], [5]], 8)
    split = split_readers(likes, np.array([10, 11, 12]), FAV3, seed=0)
    assert split.readers.tolist() == [11]
    assert split.targets.shape == (1, 8)
    fold = split_readers(likes, np.array([10, 11, 12]), FOLD80, seed=0)
    assert fold.readers.tolist() == [10, 11]


def test_the_split_is_reproducible_and_depends_on_the_seed(
    heldout_likes: tuple[sp.csr_matrix, np.ndarray],
) -> None:
    likes, readers = heldout_likes
    first, again = split_readers(likes, readers, FAV3, 3), split_readers(likes, readers, FAV3, 3)
    other = split_readers(likes, readers, FAV3, 4)
    assert (first.inputs != again.inputs).nnz == 0
    assert (first.inputs != other.inputs).nnz > 0


def test_protocols_draw_independently(heldout_likes: tuple[sp.csr_matrix, np.ndarray]) -> None:
    likes, readers = heldout_likes
    fav3 = split_readers(likes, readers, FAV3, 3)
    fold80 = split_readers(likes, readers, FOLD80, 3)
    # Were fav3 the first three of fold80's shuffle, every fav3 input would be in fold80's input.
    contained = [set(fav3.inputs[r].indices) <= set(fold80.inputs[r].indices) for r in range(len(readers))]
    assert not all(contained)


def test_ranking_metrics_by_hand() -> None:
    # Reader 0 must find books 1 and 7; reader 1 must find book 3 only.
    targets = likes_of([[1, 7], [3]], 30)
    rankings = np.array([[1, *range(8, 27), 7], [4, 5, 6, *range(8, 26)]])  # (2, 21): book 7 is 21st
    popularity = np.linspace(0, 100, 30)
    metrics = ranking_metrics(rankings[:, :20], targets, popularity)
    assert metrics["recall@10"] == pytest.approx((1 / 2 + 0 / 1) / 2)
    assert metrics["recall@20"] == pytest.approx((1 / 2 + 0) / 2)  # book 7 is 21st: not in the top 20
    assert metrics["hit_rate@10"] == pytest.approx(0.5)
    ideal0 = 1 + 1 / math.log2(3)
    assert metrics["ndcg@100"] == pytest.approx((1 / ideal0 + 0) / 2)
    top10 = set(rankings[0, :10]) | set(rankings[1, :10])
    assert metrics["coverage@10"] == pytest.approx(len(top10) / 30)
    assert metrics["popularity_pct@10"] == pytest.approx(popularity[rankings[:, :10]].mean())


def test_recall_divides_by_what_can_be_found_in_k() -> None:
    # 30 books to find: a perfect top 10 is recall@10 = 1, not 10/30.
    targets = likes_of([list(range(30))], 40)
    rankings = np.arange(40)[None, :]
    metrics = ranking_metrics(rankings, targets, np.zeros(40))
    assert metrics["recall@10"] == 1.0
    assert metrics["recall@20"] == 1.0
    assert metrics["ndcg@100"] == pytest.approx(1.0)


def test_a_model_that_knows_the_answers_scores_perfectly(dataset: Dataset) -> None:
    evaluation = heldout_evaluation_set(dataset, seed=1)
    for protocol in PROTOCOLS:
        split = evaluation.splits[protocol]
        metrics = evaluate_split(Oracle(split), split, evaluation.popularity_pct, batch_size=5)  # type: ignore[arg-type]
        assert metrics["recall@10"] == pytest.approx(1.0)
        assert metrics["hit_rate@10"] == pytest.approx(1.0)
        assert metrics["ndcg@100"] == pytest.approx(1.0)


def test_input_books_are_never_counted_as_found(dataset: Dataset) -> None:
    evaluation = heldout_evaluation_set(dataset, seed=1)
    metrics = evaluate(ScoresInputsHighest(), evaluation)
    # Were the inputs ranked, every reader would "hit". With them excluded every other book
    # scores 0, ties go to the lowest indices (series 0), and only series-0 readers hit.
    series0 = sum(
        tiny.cluster_of_book(dataset.interactions[dataset.interactions.user_id == user].book_id.iloc[0]) == 0
        for user in dataset.heldout_users
    )
    for protocol in PROTOCOLS:
        assert metrics[protocol]["hit_rate@10"] == pytest.approx(series0 / len(dataset.heldout_users))


def test_batches_do_not_change_the_result(dataset: Dataset) -> None:
    evaluation = heldout_evaluation_set(dataset, seed=1)
    model = create_model("itemknn", {"neighbours": 10})
    model.fit(dataset.likes_matrix(dataset.training_users()))
    assert evaluate(model, evaluation, batch_size=1) == evaluate(model, evaluation, batch_size=256)


def test_a_model_that_learned_beats_popularity(dataset: Dataset) -> None:
    evaluation = heldout_evaluation_set(dataset, seed=1)
    likes = dataset.likes_matrix(dataset.training_users())
    scores = {}
    for model_type in ("ease", "popularity"):
        model = create_model(model_type, {"l2": 5.0} if model_type == "ease" else {})
        model.fit(likes)
        scores[model_type] = evaluate(model, evaluation)
    assert set(scores["ease"]) == set(PROTOCOLS)
    assert set(scores["ease"][FAV3]) == set(METRIC_NAMES)
    assert scores["ease"][FAV3]["recall@10"] > scores["popularity"][FAV3]["recall@10"]


def test_split_id_names_data_readers_and_seed() -> None:
    readers = np.array([3, 1, 2])
    base = split_id("v1", readers, 42)
    assert base == split_id("v1", np.array([1, 2, 3]), 42)  # order does not matter
    assert base != split_id("v2", readers, 42)
    assert base != split_id("v1", np.array([1, 2, 4]), 42)
    assert base != split_id("v1", readers, 43)


def test_the_heldout_set_carries_the_split_id(dataset: Dataset) -> None:
    evaluation = heldout_evaluation_set(dataset, seed=5)
    assert evaluation.split_id == split_id(dataset.version, dataset.heldout_users, 5)
    assert set(evaluation.splits) == set(PROTOCOLS)
    assert set(evaluation.splits[FAV3].readers) <= set(dataset.heldout_users)


def test_no_heldout_users_is_a_data_error(dataset: Dataset) -> None:
    empty = Dataset(dataset.version, dataset.interactions, dataset.catalogue, np.zeros(0, dtype=np.int64))
    with pytest.raises(DataError, match="no held-out users"):
        heldout_evaluation_set(empty, seed=1)


def test_a_protocol_without_readers_is_a_data_error() -> None:
    split = split_readers(likes_of([[0, 1]], 5), np.array([1]), FAV3, seed=0)
    evaluation = EvaluationSet({FAV3: split}, np.zeros(5), "s")
    with pytest.raises(DataError, match="enough likes"):
        evaluate(ScoresInputsHighest(), evaluation)


def test_format_metrics_lists_every_metric_per_protocol() -> None:
    metrics = {protocol: dict.fromkeys(METRIC_NAMES, 0.25) for protocol in PROTOCOLS}
    text = format_metrics({"ease v1": metrics, "als v2": {FAV3: {"recall@10": 0.5}}})
    for name in METRIC_NAMES:
        assert name in text
    assert "0.2500" in text and "0.5000" in text
    assert text.count("ease v1") == len(PROTOCOLS)


def test_floor_ratio_is_the_weakest_headline_metric_against_its_floor() -> None:
    metrics = {FAV3: {"recall@10": 0.27}, FOLD80: {"recall@20": 0.175}}
    assert floor_ratio(metrics) == pytest.approx(0.5)
    metrics[FOLD80]["recall@20"] = 0.7
    assert floor_ratio(metrics) == pytest.approx(1.0)
    assert floor_ratio({FAV3: {"recall@10": 0.5}}) == 0.0
