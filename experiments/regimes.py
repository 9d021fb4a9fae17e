"""Where a two-regime blend should switch: validation readers give n likes, each regime ranks the rest.

The blend of ``[models.blend]`` scores a reader with its parts' ``weight`` below ``long_from``
favourites and with their ``long_weight`` from there on (readcrumbs/recommenders/blend.py). The
two validation protocols say which weights suit 3 favourites (fav3) and ~80 % of a reader's likes
(fold80), but not where between the two to switch. This command measures it, on the validation
split only: for each n, every validation reader with at least n + :data:`MIN_TO_FIND` likes gives
a seeded random n of them, each regime (as a blend of its own) ranks every other book, and
recall@10 of the rest is printed side by side. The suggested ``long_from`` is the smallest n from
which the long regime is at least as good at every n measured.

    python -m experiments.regimes
    python -m experiments.regimes --favourites 3,5,7,9,12
"""

from __future__ import annotations

import argparse
import logging
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from experiments.cli import load_settings
from experiments.config import DEFAULT_CONFIG, load_config
from experiments.evaluate import FOLD80, ranking_metrics
from experiments.fit_cache import FitCache
from experiments.train import training_tags
from experiments.tune import DEFAULT_VALIDATION_USERS, validation_split
from readcrumbs.errors import ConfigError, ReadCrumbsError
from readcrumbs.ranking import top_k
from readcrumbs.recommenders.blend import Blend
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_FAVOURITES = (3, 4, 5, 6, 7, 8, 10, 12, 15)
# A reader counts at n favourites only with at least this many likes left to find.
MIN_TO_FIND = 3
RECALL = "recall@10"


@dataclass(frozen=True)
class RegimeRow:
    """Recall@10 of each regime for readers who give ``favourites`` of their likes."""

    favourites: int
    readers: int
    short: float
    long: float


def regime_blends(blend: Blend) -> tuple[Blend, Blend]:
    """Each regime of a fitted two-regime ``blend`` as a one-regime blend of the same fitted parts."""
    if blend.long_from is None:
        raise ConfigError("the blend has one regime: give it long_from and each part a long_weight")

    def regime(weights: np.ndarray) -> Blend:
        kept = [(part, float(weight)) for part, weight in zip(blend.parts, weights, strict=True) if weight]
        parts, part_weights = [part for part, _ in kept], [weight for _, weight in kept]
        return Blend.from_parts(parts, part_weights, blend.n_books, blend.within_reach)

    return regime(blend.weights), regime(blend.long_weights)


def given_and_to_find(
    likes: sp.csr_matrix, favourites: int, seed: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """A seeded random ``favourites`` of each reader's likes, and the rest.

    ``likes``: (n_readers, n_books) CSR. Readers with fewer than ``favourites`` + :data:`MIN_TO_FIND`
    likes are left out. Returns two (n_kept, n_books) float32 CSR matrices: given and to find.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, favourites, zlib.crc32(b"regimes")]))
    given: list[np.ndarray] = []
    to_find: list[np.ndarray] = []
    for reader in range(likes.shape[0]):
        books = likes.indices[likes.indptr[reader] : likes.indptr[reader + 1]]
        if len(books) < favourites + MIN_TO_FIND:
            continue
        drawn = rng.permutation(books)
        given.append(np.sort(drawn[:favourites]))
        to_find.append(np.sort(drawn[favourites:]))
    return _rows(given, likes.shape[1]), _rows(to_find, likes.shape[1])


def _rows(rows: Sequence[np.ndarray], n_books: int) -> sp.csr_matrix:
    indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum([len(row) for row in rows])]).astype(np.int64)
    return sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), n_books)
    )


def compare_regimes(
    blend: Blend, likes: sp.csr_matrix, popularity_pct: np.ndarray, favourites: Sequence[int], seed: int
) -> list[RegimeRow]:
    """Recall@10 of each regime of ``blend`` for readers giving n of their ``likes``, per n."""
    short, long = regime_blends(blend)
    rows: list[RegimeRow] = []
    for n in favourites:
        given, to_find = given_and_to_find(likes, n, seed)
        if given.shape[0] == 0:
            log.warning("no validation reader has %d likes or more: n = %d skipped", n + MIN_TO_FIND, n)
            continue
        recalls = []
        for regime in (short, long):
            ranked = top_k(regime.score(given), given, 10)
            recalls.append(ranking_metrics(ranked, to_find, popularity_pct)[RECALL])
        rows.append(RegimeRow(n, given.shape[0], recalls[0], recalls[1]))
    return rows


def suggested_long_from(rows: Sequence[RegimeRow]) -> int | None:
    """The smallest n from which the long regime is at least as good at every n measured, or None."""
    suggestion = None
    for row in sorted(rows, key=lambda row: row.favourites, reverse=True):
        if row.long < row.short:
            break
        suggestion = row.favourites
    return suggestion


def format_rows(rows: Sequence[RegimeRow]) -> str:
    lines = [f"{'favourites':>10} {'readers':>8} {'short ' + RECALL:>16} {'long ' + RECALL:>15}"]
    lines += [f"{r.favourites:>10} {r.readers:>8} {r.short:>16.4f} {r.long:>15.4f}" for r in rows]
    return "\n".join(lines)


def parse_favourites(text: str) -> list[int]:
    """``--favourites``' numbers, ascending and unique; :class:`ConfigError` unless all are ints ≥ 1."""
    try:
        values = sorted({int(value) for value in text.split(",") if value.strip()})
    except ValueError:
        values = []
    if not values or values[0] < 1:
        raise ConfigError(f"--favourites takes whole numbers ≥ 1, e.g. 3,5,7; got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.regimes", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="model config with [models.blend]"
    )
    parser.add_argument(
        "--favourites",
        default=",".join(map(str, DEFAULT_FAVOURITES)),
        metavar="N1,N2",
        help="numbers of favourites to measure",
    )
    parser.add_argument("--validation-users", type=int, default=DEFAULT_VALIDATION_USERS)
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        favourites = parse_favourites(args.favourites)
        settings = load_settings(settings)
        params = load_config(args.config).params_of("blend")
        from experiments.data import prepare_dataset

        dataset = prepare_dataset(settings)
        split = validation_split(dataset, settings.seed, args.validation_users)
        blend, _ = FitCache(split.likes, training_tags(dataset)).fit("blend", params)
        assert isinstance(blend, Blend)
        # Every protocol splits the same readers: its given and to-find books are all their likes.
        protocol = split.evaluation.splits[FOLD80]
        likes = (protocol.inputs + protocol.targets).tocsr()
        rows = compare_regimes(blend, likes, split.evaluation.popularity_pct, favourites, settings.seed)
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_rows(rows))
    print(f"configured long_from = {blend.long_from}; suggested (validation) = {suggested_long_from(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
