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
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from readcrumbs.recommenders.base import Recommender

PREFIX = "part{}."
# The blend that won on validation (experiments/README.md), each part with its own defaults.
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
    squares = np.einsum("ij,ij->i", scores, scores, dtype=np.float64)  # (n_readers,)
    scale = np.sqrt(squares / max(scores.shape[1], 1))
    return np.asarray(np.maximum(scale, MIN_SCALE), dtype=np.float32)[:, None]


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

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        total = np.zeros(histories.shape, dtype=np.float32)
        for weight, part in zip(self.weights, self.parts, strict=True):
            scores = part.score(histories)
            total += (weight / reader_scales(scores)) * scores
        return total

    def explain(self, favourites: np.ndarray, books: np.ndarray) -> np.ndarray:
        # Each part's contributions, on the scale that part's scores were blended at.
        from readcrumbs.ranking import favourites_matrix

        history = favourites_matrix([np.asarray(favourites)], self.n_books)
        shares = np.zeros((len(books), len(favourites)), dtype=np.float32)
        for weight, part in zip(self.weights, self.parts, strict=True):
            scale = reader_scales(part.score(history))[0, 0]
            shares += (weight / scale) * part.explain(favourites, books)
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
