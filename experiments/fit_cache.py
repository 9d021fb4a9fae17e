"""Models fitted on one likes matrix, kept by type and parameters, so a blend reuses its fitted parts.

``make train`` and the leaderboard fit EASE, ALS, … alone and then a blend of them; fitting the
blend's parts again would double the training time for the same arrays.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import scipy.sparse as sp

from readcrumbs.recommenders import Recommender, create_model
from readcrumbs.recommenders.blend import Blend
from readcrumbs.recommenders.side_information import BookTags


def model_key(model_type: str, params: Mapping[str, Any]) -> str:
    """One string per (model type, full parameters)."""
    return json.dumps([model_type, dict(params)], sort_keys=True)


class FitCache:
    """Fits each (model type, parameters) once on ``likes`` (n_users, n_books) and the books'
    tags, and remembers it."""

    def __init__(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        self.likes = likes
        self.book_tags = book_tags
        self._models: dict[str, Recommender] = {}
        self._seconds: dict[str, float] = {}

    def fit(self, model_type: str, params: Mapping[str, Any] | None = None) -> tuple[Recommender, float]:
        """The fitted model and the seconds its fit took (a blend: the sum of its parts' fits)."""
        model = create_model(model_type, params)
        key = model_key(model_type, model.params)
        if key not in self._models:
            started = time.perf_counter()
            if isinstance(model, Blend):
                fitted = [self.fit(spec["model_type"], spec["params"]) for spec in model.params["parts"]]
                model.adopt_parts([part for part, _ in fitted], self.likes.shape[1])
                self._seconds[key] = sum(seconds for _, seconds in fitted)
            else:
                model.fit(self.likes, self.book_tags)
                self._seconds[key] = time.perf_counter() - started
            self._models[key] = model
        return self._models[key], self._seconds[key]
