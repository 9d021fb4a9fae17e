"""A blend: several fitted models whose per-reader normalised scores are added with fixed weights.

Each part's scores for one reader are divided by their root mean square over the catalogue
before weighting, so parts on different scales (EASE weights, cosine sums, ALS dot products)
count as much as their weight says, whatever the number of favourites. A per-reader shift
(e.g. subtracting the mean, as a z-score would) changes no ranking, so only the scale is used.
The weights are fitted on the validation split (``experiments.tune``'s blend search), never on
the held-out readers. This is the classic linear score blend of the Netflix-prize ensembles
(Töscher, Jahrer & Bell 2009), with per-reader normalisation so one set of weights serves
readers with 3 favourites and with 300.

Params: ``parts``, a list of ``{"model_type": str, "weight": float, "params": {...}}``.
The artifact holds every part's arrays, each name prefixed ``part<i>.``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from readcrumbs.recommenders.base import Recommender

if TYPE_CHECKING:
    import scipy.sparse as sp

PREFIX = "part{}."
# Without parts given: EASE and ALS at equal weights, each with its own defaults. make train's
# parts and weights (chosen on validation) are [models.blend] of experiments/models.toml.
DEFAULT_PARTS: tuple[dict[str, Any], ...] = (
    {"model_type": "ease", "weight": 1.0},
    {"model_type": "als", "weight": 1.0},
)
# Below this root mean square a part has nothing to say about the reader (no favourite it knows).
MIN_SCALE = 1e-12


def part_specs(parts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Checked, normalised part descriptions: model_type, weight (float) and params (dict)."""
    from readcrumbs.recommenders import MODEL_TYPES

    specs: list[dict[str, Any]] = []
    for part in parts:
        model_type = part.get("model_type")
        if model_type not in MODEL_TYPES or model_type == Blend.model_type:
            raise TypeError(f"a blend part needs a known, non-blend model_type; got {model_type!r}")
        unknown = set(part) - {"model_type", "weight", "params"}
        if unknown:
            raise TypeError(f"unknown keys in a blend part: {sorted(unknown)}")
        specs.append(
            {
                "model_type": str(model_type),
                "weight": float(part.get("weight", 1.0)),
                "params": dict(part.get("params", {})),
            }
        )
    if not specs:
        raise TypeError("a blend needs at least one part")
    return specs


def reader_scales(scores: np.ndarray) -> np.ndarray:
    """Root mean square of each row of ``scores`` (n_readers, n_books): (n_readers, 1) float32, ≥ 1e-12."""
    return np.array([[reader_scale(row)] for row in scores], dtype=np.float32).reshape(-1, 1)


def reader_scale(scores: np.ndarray) -> np.float32:
    """Root mean square of one reader's ``scores`` (n_books,), at least 1e-12, as float32."""
    square_sum = float(np.dot(scores.astype(np.float64), scores.astype(np.float64)))
    return np.float32(max(np.sqrt(square_sum / max(len(scores), 1)), MIN_SCALE))


def _reader_key(books: np.ndarray, signal: np.ndarray) -> bytes:
    """The bytes of one reader's books and signals (what their blend factors depend on)."""
    return np.asarray(books, dtype=np.int64).tobytes() + np.asarray(signal, dtype=np.float32).tobytes()


class Blend:
    """Weighted sum of its parts' scores, each divided by its per-reader root mean square."""

    model_type: ClassVar[str] = "blend"

    def __init__(self, parts: Sequence[Mapping[str, Any]] = DEFAULT_PARTS) -> None:
        from readcrumbs.recommenders import create_model

        specs = part_specs(parts)
        self.params: dict[str, Any] = {"parts": specs}
        self.parts: list[Recommender] = [create_model(s["model_type"], s["params"]) for s in specs]
        # Each part's own params include its defaults: the blend's params name what was fitted.
        for spec, part in zip(specs, self.parts, strict=True):
            spec["params"] = dict(part.params)
        self.weights = np.array([s["weight"] for s in specs], dtype=np.float32)  # (n_parts,)
        self.n_books = 0  # the catalogue size the parts were fitted on
        self._last_factors: tuple[bytes, list[np.float32]] = (b"", [])

    @classmethod
    def from_parts(cls, parts: Sequence[Recommender], weights: Sequence[float], n_books: int) -> Self:
        """A blend of ``parts`` already fitted on ``n_books`` books (so they are not fitted again)."""
        blend = cls(
            [
                {"model_type": part.model_type, "weight": weight, "params": part.params}
                for part, weight in zip(parts, weights, strict=True)
            ]
        )
        blend.parts = list(parts)
        blend.n_books = int(n_books)
        return blend

    def fit(self, likes: sp.csr_matrix) -> None:
        self.n_books = likes.shape[1]
        for part in self.parts:
            part.fit(likes)

    def _combine(self, part_scores: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.float32]]:
        """One reader's blended scores (n_books,) float32, and each part's factor weight / scale.

        Serving and the batch both go through here, one reader at a time, so they add the same
        float32 numbers in the same order and rank identically.
        """
        factors = [
            np.float32(w) / reader_scale(scores) for w, scores in zip(self.weights, part_scores, strict=True)
        ]
        total = np.zeros(len(part_scores[0]), dtype=np.float32)
        for factor, scores in zip(factors, part_scores, strict=True):
            total += factor * scores
        return total, factors

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        parts = [part.score(histories) for part in self.parts]  # each (n_readers, n_books)
        total = np.zeros(histories.shape, dtype=np.float32)
        for row in range(histories.shape[0]):
            total[row] = self._combine([scores[row] for scores in parts])[0]
        return total

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        scores, factors = self._combine([part.score_reader(books, signal) for part in self.parts])
        # Serving explains the reader it just scored: keep the factors so explain_reader need not
        # score every part again. One tuple, assigned at once, so concurrent readers never mix.
        self._last_factors = (_reader_key(books, signal), factors)
        return scores

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        # Each part's terms, on the scale at which that part's scores were blended for this reader.
        key, factors = self._last_factors
        if key != _reader_key(books, signal):
            _, factors = self._combine([part.score_reader(books, signal) for part in self.parts])
        shares = np.zeros((len(shown), len(books)), dtype=np.float32)
        for factor, part in zip(factors, self.parts, strict=True):
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
