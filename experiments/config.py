"""Hyper-parameters per model type: a TOML file (default ``experiments/models.toml``) plus flags.

The file has a ``[pipeline]`` table (``models``: the types ``make train`` fits, in order) and one
``[models.<type>]`` table of parameters per type. ``--param name=value`` flags override the file;
values are parsed as TOML scalars, so ``l2=300`` is an int, ``alpha=2.5`` a float, ``x=true`` a bool.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readcrumbs.errors import ConfigError
from readcrumbs.recommenders import MODEL_TYPES

DEFAULT_CONFIG = Path(__file__).with_name("models.toml")


@dataclass(frozen=True)
class ModelConfig:
    """The model types to train and each type's parameters."""

    models: list[str]
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def params_of(self, model_type: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameters of ``model_type``: the file's, then ``overrides``."""
        check_model_type(model_type)
        return {**self.params.get(model_type, {}), **dict(overrides or {})}


def check_model_type(model_type: str) -> str:
    """``model_type`` when it is known; :class:`ConfigError` otherwise."""
    if model_type not in MODEL_TYPES:
        raise ConfigError(f"unknown model type {model_type!r}; known: {', '.join(sorted(MODEL_TYPES))}")
    return model_type


def load_config(path: Path | None = None) -> ModelConfig:
    """Read a model config file (default :data:`DEFAULT_CONFIG`)."""
    path = path or DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the model config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the model config {path} is not valid TOML: {exc}") from None
    models_table = raw.get("models", {})
    if not isinstance(models_table, dict) or not all(isinstance(v, dict) for v in models_table.values()):
        raise ConfigError(f"{path}: [models.<type>] must be tables of parameters")
    for model_type in models_table:
        check_model_type(model_type)
    models = raw.get("pipeline", {}).get("models", list(models_table))
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ConfigError(f"{path}: [pipeline] models must be a list of model types")
    return ModelConfig(models=[check_model_type(m) for m in models], params=models_table)


def parse_model_list(text: str) -> list[str]:
    """``"als,ease"`` → ``["als", "ease"]``, each checked."""
    models = [name.strip() for name in text.split(",") if name.strip()]
    if not models:
        raise ConfigError("no model type given; e.g. --models als,ease")
    return [check_model_type(name) for name in models]


def parse_value(text: str) -> Any:
    """A flag's value as a TOML scalar (int, float, bool, quoted string), else the raw text."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def parse_params(assignments: Iterable[str]) -> dict[str, Any]:
    """``["l2=300", "neighbours=128"]`` → ``{"l2": 300, "neighbours": 128}``."""
    params: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(f"expected name=value, got {assignment!r}")
        params[name.strip()] = parse_value(value.strip())
    return params


def parse_grid(assignments: Iterable[str]) -> dict[str, list[Any]]:
    """``["l2=100,300", "neighbours=128"]`` → ``{"l2": [100, 300], "neighbours": [128]}``."""
    grid: dict[str, list[Any]] = {}
    for assignment in assignments:
        name, sep, values = assignment.partition("=")
        options = [parse_value(v.strip()) for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not options:
            raise ConfigError(f"expected name=v1,v2,..., got {assignment!r}")
        grid[name.strip()] = options
    return grid
