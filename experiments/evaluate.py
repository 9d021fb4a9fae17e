"""Offline evaluation: the product's own protocols on the held-out users (DESIGN.md).

Held-out readers are never trained on. For each of them, some liked books are the *input*
(the favourites a reader would type) and the rest are *to find*:

- ``fav3``: a seeded random 3 of the reader's likes are the input;
- ``fold80``: a seeded random 80 % of the likes are the input, the other 20 % are to find.

Every book except the input is ranked with :func:`readcrumbs.ranking.top_k`, the same ranking
``/predict`` uses. Metrics (names are part of the manifest format):

- ``recall@K``: hits in the top K / min(K, number to find), averaged over readers;
- ``ndcg@100``: DCG of the hits in the top 100 / the best DCG possible for that many to find;
- ``hit_rate@10``: share of readers with at least one hit in their top 10;
- ``coverage@10``: distinct books in all readers' top 10 / number of books in the catalogue;
- ``popularity_pct@10``: mean catalogue ``popularity_pct`` (0..100) of the recommended top-10 books.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from readcrumbs.dataset import Dataset
from readcrumbs.errors import DataError
from readcrumbs.ranking import top_k
from readcrumbs.recommenders.base import Recommender

FAV3 = "fav3"
FOLD80 = "fold80"
PROTOCOLS: tuple[str, ...] = (FAV3, FOLD80)
METRIC_NAMES: tuple[str, ...] = (
    "recall@10",
    "recall@20",
    "ndcg@100",
    "hit_rate@10",
    "coverage@10",
    "popularity_pct@10",
)
# The project's quality floor on the held-out users (issue 2): what a well-tuned EASE reaches.
QUALITY_FLOOR: dict[tuple[str, str], float] = {("fav3", "recall@10"): 0.27, ("fold80", "recall@20"): 0.35}
FAV3_INPUT = 3
FOLD80_INPUT_SHARE = 0.8
# Readers are scored this many at a time: (256, 10,000) float32 scores are 10 MiB.
BATCH_SIZE = 256
_DEPTH = 100  # the deepest cut-off any metric needs

Metrics = dict[str, dict[str, float]]


@dataclass(frozen=True)
class ProtocolSplit:
    """One protocol's input/to-find split of the evaluation readers.

    ``readers``: (n_readers,) int64 user_ids that had enough likes for the protocol;
    ``inputs`` and ``targets``: (n_readers, n_books) float32 CSR of ones, disjoint per row.
    """

    protocol: str
    readers: np.ndarray
    inputs: sp.csr_matrix
    targets: sp.csr_matrix


def protocol_seed(seed: int, protocol: str) -> np.random.SeedSequence:
    """The seed of one protocol's split: the run's seed mixed with the protocol's name."""
    return np.random.SeedSequence([seed, zlib.crc32(protocol.encode())])


def input_size(protocol: str, n_liked: int) -> int:
    """How many of a reader's ``n_liked`` likes are given as input (at least one is left to find)."""
    if protocol == FAV3:
        return FAV3_INPUT
    if protocol == FOLD80:
        return min(max(int(FOLD80_INPUT_SHARE * n_liked), 1), n_liked - 1)
    raise DataError(f"unknown evaluation protocol {protocol!r}; known: {list(PROTOCOLS)}")


def split_readers(likes: sp.csr_matrix, readers: np.ndarray, protocol: str, seed: int) -> ProtocolSplit:
    """Split each reader's likes into input and to-find, reproducibly.

    ``likes``: (n_readers, n_books) CSR, row i the likes of ``readers[i]``. Readers with too few
    likes to leave one to find after the input are skipped.
    """
    likes = sp.csr_matrix(likes)
    likes.sort_indices()
    rng = np.random.default_rng(protocol_seed(seed, protocol))
    kept: list[int] = []
    input_rows: list[np.ndarray] = []
    target_rows: list[np.ndarray] = []
    for row in range(likes.shape[0]):
        liked = likes.indices[likes.indptr[row] : likes.indptr[row + 1]]
        if len(liked) < 2 or input_size(protocol, len(liked)) >= len(liked):
            continue
        n_input = input_size(protocol, len(liked))
        shuffled = rng.permutation(liked)
        kept.append(row)
        input_rows.append(np.sort(shuffled[:n_input]))
        target_rows.append(np.sort(shuffled[n_input:]))
    n_books = likes.shape[1]
    return ProtocolSplit(
        protocol=protocol,
        readers=np.asarray(readers, dtype=np.int64)[kept],
        inputs=_rows_to_csr(input_rows, n_books),
        targets=_rows_to_csr(target_rows, n_books),
    )


def _rows_to_csr(rows: Sequence[np.ndarray], n_books: int) -> sp.csr_matrix:
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    indptr = np.concatenate([[0], np.cumsum([len(row) for row in rows])]).astype(np.int64)
    return sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), n_books)
    )


def split_id(
    data_version: str, heldout_users: np.ndarray, seed: int, protocols: Sequence[str] = PROTOCOLS
) -> str:
    """What two evaluations must share to be compared: data, held-out readers, protocols and seed."""
    key = json.dumps(
        {
            "data_version": data_version,
            "heldout": hashlib.sha256(
                np.sort(np.asarray(heldout_users, dtype=np.int64)).tobytes()
            ).hexdigest(),
            "protocols": {protocol: [seed, zlib.crc32(protocol.encode())] for protocol in protocols},
            "fav3_input": FAV3_INPUT,
            "fold80_input_share": FOLD80_INPUT_SHARE,
        },
        sort_keys=True,
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class EvaluationSet:
    """Every protocol's split of one set of evaluation readers, plus what the metrics need.

    ``popularity_pct``: (n_books,) float64 in [0, 100], index order; ``split_id`` names the set.
    """

    splits: dict[str, ProtocolSplit]
    popularity_pct: np.ndarray
    split_id: str


def heldout_evaluation_set(
    dataset: Dataset, seed: int, protocols: Sequence[str] = PROTOCOLS
) -> EvaluationSet:
    """The evaluation set of ``dataset``'s held-out users (never trained on)."""
    readers = np.sort(np.asarray(dataset.heldout_users, dtype=np.int64))
    if len(readers) == 0:
        raise DataError(f"data version {dataset.version} has no held-out users to evaluate on")
    return evaluation_set(
        dataset.likes_matrix(readers),
        readers,
        dataset.catalogue["popularity_pct"].to_numpy(dtype=np.float64),
        seed=seed,
        protocols=protocols,
        split_key=split_id(dataset.version, readers, seed, protocols),
    )


def evaluation_set(
    likes: sp.csr_matrix,
    readers: np.ndarray,
    popularity_pct: np.ndarray,
    *,
    seed: int,
    split_key: str,
    protocols: Sequence[str] = PROTOCOLS,
) -> EvaluationSet:
    """Split ``likes`` (n_readers, n_books) of ``readers`` for every protocol."""
    splits = {protocol: split_readers(likes, readers, protocol, seed) for protocol in protocols}
    return EvaluationSet(
        splits=splits, popularity_pct=np.asarray(popularity_pct, dtype=np.float64), split_id=split_key
    )


def evaluate(model: Recommender, evaluation: EvaluationSet, batch_size: int = BATCH_SIZE) -> Metrics:
    """Every metric of every protocol: ``{protocol: {metric name: value}}``."""
    return {
        protocol: evaluate_split(model, split, evaluation.popularity_pct, batch_size)
        for protocol, split in evaluation.splits.items()
    }


def evaluate_split(
    model: Recommender, split: ProtocolSplit, popularity_pct: np.ndarray, batch_size: int = BATCH_SIZE
) -> dict[str, float]:
    """The metrics of one protocol; readers are scored ``batch_size`` at a time."""
    n_readers, n_books = split.inputs.shape
    if n_readers == 0:
        raise DataError(f"no evaluation reader has enough likes for protocol {split.protocol}")
    # top_k never pads with input books, so a tiny catalogue can rank fewer than _DEPTH.
    depth = min(_DEPTH, n_books - int(np.diff(split.inputs.indptr).max()))
    rankings = np.zeros((n_readers, depth), dtype=np.int64)
    for start in range(0, n_readers, batch_size):
        batch = split.inputs[start : start + batch_size]
        rankings[start : start + batch.shape[0]] = top_k(model.score(batch), batch, depth)
    return ranking_metrics(rankings, split.targets, popularity_pct)


def ranking_metrics(
    rankings: np.ndarray, targets: sp.csr_matrix, popularity_pct: np.ndarray
) -> dict[str, float]:
    """Metrics of ranked lists against the books to find.

    ``rankings``: (n_readers, depth) int book indices, best first (depth 100 on a real
    catalogue; shallower only when the catalogue is); ``targets``: (n_readers, n_books) CSR of
    the books to find; ``popularity_pct``: (n_books,) in [0, 100].
    """
    n_readers, depth = rankings.shape
    n_books = targets.shape[1]
    # hits[i, r]: the book at rank r of reader i is one to find. Dense a block at a time, so
    # memory stays (BATCH_SIZE, n_books) whatever the number of readers.
    hits = np.zeros((n_readers, depth), dtype=bool)
    for start in range(0, n_readers, BATCH_SIZE):
        block = targets[start : start + BATCH_SIZE].toarray() > 0
        hits[start : start + block.shape[0]] = np.take_along_axis(
            block, rankings[start : start + BATCH_SIZE], 1
        )
    n_to_find = np.diff(targets.indptr).astype(np.float64)  # (n_readers,)
    discounts = 1.0 / np.log2(np.arange(2, depth + 2))  # (depth,)
    ideal = np.cumsum(discounts)[np.minimum(n_to_find, depth).astype(np.int64) - 1]
    top10 = rankings[:, :10]
    return {
        "recall@10": float(np.mean(hits[:, :10].sum(axis=1) / np.minimum(10, n_to_find))),
        "recall@20": float(np.mean(hits[:, :20].sum(axis=1) / np.minimum(20, n_to_find))),
        "ndcg@100": float(np.mean((hits[:, :100] * discounts[:100]).sum(axis=1) / ideal)),
        "hit_rate@10": float(np.mean(hits[:, :10].any(axis=1))),
        "coverage@10": float(len(np.unique(top10)) / n_books),
        "popularity_pct@10": float(np.mean(popularity_pct[top10])),
    }


def floor_ratio(metrics: Metrics) -> float:
    """How far the metrics reach towards :data:`QUALITY_FLOOR`: the smallest value / floor (≥ 1 meets it).

    A missing metric counts as 0.
    """
    return min(
        metrics.get(protocol, {}).get(name, 0.0) / floor for (protocol, name), floor in QUALITY_FLOOR.items()
    )


def format_metrics(rows: Mapping[str, Metrics], protocols: Sequence[str] = PROTOCOLS) -> str:
    """A plain-text table per protocol: one line per row label (e.g. model type), one column per metric."""
    label_width = max([len("model"), *(len(label) for label in rows)])
    lines: list[str] = []
    for protocol in protocols:
        header = f"{protocol:<{label_width}}  " + "  ".join(f"{name:>17}" for name in METRIC_NAMES)
        lines += [header, "-" * len(header)]
        for label, metrics in rows.items():
            values = metrics.get(protocol, {})
            cells = "  ".join(
                f"{values[name]:>17.4f}" if name in values else f"{'-':>17}" for name in METRIC_NAMES
            )
            lines.append(f"{label:<{label_width}}  {cells}")
        lines.append("")
    return "\n".join(lines).rstrip("\n")
