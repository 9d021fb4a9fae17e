"""A blend: several fitted models whose per-reader normalised scores are added with fixed weights.

Each part's scores for one reader are divided by their root mean square over the catalogue
before weighting, so parts on different scales (EASE weights, cosine sums, ALS dot products)
count as much as their weight says, whatever the number of favourites. A per-reader shift
(e.g. subtracting the mean, as a z-score would) changes no ranking, so only the scale is used.
The weights are fitted on the validation split (``experiments.tune``'s blend search), never on
the held-out readers. This is the classic linear score blend of the Netflix-prize ensembles
(Töscher, Jahrer & Bell 2009), with per-reader normalisation so one set of weights serves
readers with 3 favourites and with 300.

**Two regimes by the number of favourites** (optional). A short list and a long one want
different models: on the validation split, 3 favourites are served best by a strongly shrunk
EASE, 80 % of a reader's likes by EDLAE (experiments/README.md). With ``long_from`` set, a reader
with at least that many favourites (books with a positive signal) is scored with each part's
``long_weight``, anyone else with its ``weight``; a part whose weight is 0 in a regime is not
scored there at all. This is a *switching* hybrid of two weighted hybrids (Burke 2002, "Hybrid
recommender systems: survey and experiments"), switched on the one thing every request shows.

Params: ``parts``, a list of ``{"model_type": str, "weight": float, "params": {...}}`` (plus
``"long_weight": float`` each when ``long_from`` is given), and ``long_from``, an int ≥ 1 or
absent. The artifact holds every part's arrays, each name prefixed ``part<i>.``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from readcrumbs.recommenders.base import Recommender, reader_key

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags

PREFIX = "part{}."
# Without parts given: EASE and ALS at equal weights, each with its own defaults. make train's
# parts and weights (chosen on validation) are [models.blend] of experiments/models.toml.
DEFAULT_PARTS: tuple[dict[str, Any], ...] = (
    {"model_type": "ease", "weight": 1.0},
    {"model_type": "als", "weight": 1.0},
)
# Below this root mean square a part has nothing to say about the reader (no favourite it knows).
MIN_SCALE = 1e-12


def part_specs(parts: Sequence[Mapping[str, Any]], long_from: int | None = None) -> list[dict[str, Any]]:
    """Checked, normalised part descriptions: model_type, weight (float), params (dict) and, with
    ``long_from``, long_weight (float, the weight by default)."""
    from readcrumbs.recommenders import MODEL_TYPES

    specs: list[dict[str, Any]] = []
    for part in parts:
        model_type = part.get("model_type")
        if model_type not in MODEL_TYPES or model_type == Blend.model_type:
            raise TypeError(f"a blend part needs a known, non-blend model_type; got {model_type!r}")
        unknown = set(part) - {"model_type", "weight", "long_weight", "params"}
        if unknown:
            raise TypeError(f"unknown keys in a blend part: {sorted(unknown)}")
        spec: dict[str, Any] = {"model_type": str(model_type), "weight": float(part.get("weight", 1.0))}
        if long_from is not None:
            spec["long_weight"] = float(part.get("long_weight", spec["weight"]))
        elif "long_weight" in part:
            raise TypeError("a part's long_weight needs the blend's long_from")
        specs.append({**spec, "params": dict(part.get("params", {}))})
    if not specs:
        raise TypeError("a blend needs at least one part")
    for key in ("weight", "long_weight") if long_from is not None else ("weight",):
        if not any(spec[key] for spec in specs):
            raise TypeError(f"a blend needs a part with a non-zero {key}")
    return specs


def reader_scales(scores: np.ndarray) -> np.ndarray:
    """Root mean square of each row of ``scores`` (n_readers, n_books): (n_readers, 1) float32, ≥ 1e-12."""
    return np.array([[reader_scale(row)] for row in scores], dtype=np.float32).reshape(-1, 1)


def reader_scale(scores: np.ndarray) -> np.float32:
    """Root mean square of one reader's ``scores`` (n_books,), at least 1e-12, as float32."""
    wide = scores.astype(np.float64)  # a float32 sum of 10,000 squares would lose digits
    square_sum = float(np.dot(wide, wide))
    return np.float32(max(np.sqrt(square_sum / max(len(scores), 1)), MIN_SCALE))


# A reader of no books: what ``reader_candidates`` asks each part first (read-only, shared).
_NO_BOOKS = np.zeros(0, dtype=np.int64)
_NO_BOOKS.flags.writeable = False


class Blend:
    """Weighted sum of its parts' scores, each divided by its per-reader root mean square."""

    model_type: ClassVar[str] = "blend"

    def __init__(
        self, parts: Sequence[Mapping[str, Any]] = DEFAULT_PARTS, long_from: int | None = None
    ) -> None:
        from readcrumbs.recommenders import create_model

        if long_from is not None and (
            isinstance(long_from, bool) or not isinstance(long_from, int) or long_from < 1
        ):
            raise TypeError(f"long_from must be a whole number of favourites ≥ 1; got {long_from!r}")
        specs = part_specs(parts, long_from)
        self.params: dict[str, Any] = {"parts": specs}
        if long_from is not None:
            self.params["long_from"] = long_from
        self.parts: list[Recommender] = [create_model(s["model_type"], s["params"]) for s in specs]
        # Each part's own params include its defaults: the blend's params name what was fitted.
        for spec, part in zip(specs, self.parts, strict=True):
            spec["params"] = dict(part.params)
        self.weights = np.array([s["weight"] for s in specs], dtype=np.float32)  # (n_parts,)
        # (n_parts,): the weights of readers with at least long_from favourites.
        self.long_weights = np.array([s.get("long_weight", s["weight"]) for s in specs], dtype=np.float32)
        self.long_from = long_from
        self.n_books = 0  # the catalogue size the parts were fitted on
        self._last_factors: tuple[bytes, list[tuple[np.float32, Recommender]]] = (b"", [])

    @classmethod
    def from_parts(cls, parts: Sequence[Recommender], weights: Sequence[float], n_books: int) -> Self:
        """A one-regime blend of ``parts`` already fitted on ``n_books`` books (not fitted again)."""
        blend = cls(
            [
                {"model_type": part.model_type, "weight": weight, "params": part.params}
                for part, weight in zip(parts, weights, strict=True)
            ]
        )
        blend.adopt_parts(parts, n_books)
        return blend

    def adopt_parts(self, parts: Sequence[Recommender], n_books: int) -> None:
        """Use ``parts``, already fitted on ``n_books`` books, in the order of ``params["parts"]``."""
        self.parts = list(parts)
        self.n_books = int(n_books)

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        self.n_books = likes.shape[1]
        for part in self.parts:
            part.fit(likes, book_tags)

    def _active(self, n_favourites: int) -> list[tuple[np.float32, Recommender]]:
        """The parts a reader with ``n_favourites`` favourites is scored with, and their weights."""
        long = self.long_from is not None and n_favourites >= self.long_from
        weights = self.long_weights if long else self.weights
        return [(weight, part) for weight, part in zip(weights, self.parts, strict=True) if weight]

    @staticmethod
    def _combine(
        weighted: Sequence[tuple[np.float32, Recommender]], part_scores: Sequence[np.ndarray]
    ) -> tuple[np.ndarray, list[tuple[np.float32, Recommender]]]:
        """One reader's blended scores (n_books,) float32, and each part with its factor weight / scale.

        ``part_scores``: each of ``weighted``'s parts' (n_books,) scores for the reader. Serving
        and the batch both go through here, one reader at a time, so they add the same float32
        numbers in the same order and rank identically.
        """
        factors = [
            (np.float32(weight) / reader_scale(scores), part)
            for (weight, part), scores in zip(weighted, part_scores, strict=True)
        ]
        # The first part's product is the sum so far: one temporary fewer than zeros + add.
        total = np.multiply(part_scores[0], factors[0][0], dtype=np.float32)
        for (factor, _), scores in zip(factors[1:], part_scores[1:], strict=True):
            total += factor * scores
        return total, factors

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        total = np.zeros(histories.shape, dtype=np.float32)
        favourites = np.diff((histories > 0).tocsr().indptr)  # (n_readers,) books with a positive signal
        long = favourites >= self.long_from if self.long_from is not None else np.zeros(len(favourites), bool)
        for rows in (np.flatnonzero(~long), np.flatnonzero(long)):  # each regime's readers
            if not len(rows):
                continue
            weighted = self._active(int(favourites[rows[0]]))
            group = histories[rows]
            parts = [part.score(group) for _, part in weighted]  # each (len(rows), n_books)
            for at, row in enumerate(rows.tolist()):
                total[row] = self._combine(weighted, [scores[at] for scores in parts])[0]
        return total

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        weighted = self._active(int(np.count_nonzero(signal > 0)))
        scores, factors = self._combine(weighted, [part.score_reader(books, signal) for _, part in weighted])
        # Serving explains the reader it just scored: keep the factors so explain_reader need not
        # score every part again. One tuple, assigned at once, so concurrent readers never mix.
        self._last_factors = (reader_key(books, signal), factors)
        return scores

    def reader_candidates(self, books: np.ndarray) -> np.ndarray | None:
        # Unknown here which regime the signals pick: the union over every part (a sum of parts
        # is zero where each part is), or None if one part reaches every book. Asked first with
        # no books, which costs every model type next to nothing, so an ALS part spares the
        # item-item parts their look-ups.
        if any(part.reader_candidates(_NO_BOOKS) is None for part in self.parts):
            return None
        reached = [part.reader_candidates(books) for part in self.parts]
        return np.unique(np.concatenate([part for part in reached if part is not None]))

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        # Each part's terms, on the scale at which that part's scores were blended for this reader.
        key, factors = self._last_factors
        if key != reader_key(books, signal):
            weighted = self._active(int(np.count_nonzero(signal > 0)))
            _, factors = self._combine(weighted, [part.score_reader(books, signal) for _, part in weighted])
        shares = np.zeros((len(shown), len(books)), dtype=np.float32)
        for factor, part in factors:
            shares += factor * part.explain_reader(books, signal, shown)
        return shares

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            f"{PREFIX.format(i)}{name}": array
            for i, part in enumerate(self.parts)
            for name, array in part.to_arrays().items()
        }
        return {"n_books": np.array(self.n_books, dtype=np.int64), **arrays}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        from readcrumbs.recommenders import MODEL_TYPES

        blend = cls(**params)
        blend.n_books = int(arrays["n_books"])
        for i, spec in enumerate(blend.params["parts"]):
            prefix = PREFIX.format(i)
            own = {name[len(prefix) :]: array for name, array in arrays.items() if name.startswith(prefix)}
            blend.parts[i] = MODEL_TYPES[spec["model_type"]].from_arrays(own, spec["params"])
        return blend
