"""Recommender model types and their artifact format (``model.npz``, no pickles)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from readcrumbs.errors import ConfigError
from readcrumbs.recommenders.als import ALS
from readcrumbs.recommenders.base import Recommender
from readcrumbs.recommenders.blend import Blend
from readcrumbs.recommenders.ease import EASE
from readcrumbs.recommenders.edlae import EDLAE
from readcrumbs.recommenders.itemknn import ItemKNN
from readcrumbs.recommenders.like_share import LikeShare
from readcrumbs.recommenders.popularity import Popularity
from readcrumbs.recommenders.rp3beta import RP3Beta

__all__ = ["MODEL_TYPES", "Recommender", "arrays_to_npz", "create_model", "load_model", "save_model"]

MODEL_TYPES: dict[str, type[Recommender]] = {
    cls.model_type: cls for cls in (Popularity, ItemKNN, EASE, ALS, EDLAE, RP3Beta, LikeShare, Blend)
}


def create_model(model_type: str, params: Mapping[str, Any] | None = None) -> Recommender:
    """An unfitted model of ``model_type`` with ``params`` (defaults where absent)."""
    if model_type not in MODEL_TYPES:
        raise ConfigError(f"unknown model type {model_type!r}; known: {sorted(MODEL_TYPES)}")
    try:
        return MODEL_TYPES[model_type](**dict(params or {}))
    except TypeError as exc:
        raise ConfigError(f"bad parameters for {model_type}: {exc}") from None


def arrays_to_npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Named arrays as ``.npz`` bytes (read back with ``allow_pickle=False``)."""
    buffer = io.BytesIO()
    # numpy's stubs type **kwds as if it could hold allow_pickle; every value here is an array.
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def save_model(model: Recommender) -> bytes:
    """The model's arrays as ``.npz`` bytes."""
    return arrays_to_npz(model.to_arrays())


def load_model(model_type: str, data: bytes, params: Mapping[str, Any]) -> Recommender:
    """A fitted model rebuilt from :func:`save_model`'s bytes; refuses pickled objects."""
    if model_type not in MODEL_TYPES:
        raise ConfigError(f"unknown model type {model_type!r}; known: {sorted(MODEL_TYPES)}")
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return MODEL_TYPES[model_type].from_arrays(dict(arrays), params)
