"""Fixtures of the training, evaluation and registry-CLI tests: tiny data, a tmp home, no W&B."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.config import ModelConfig
from readcrumbs.dataset import Dataset
from readcrumbs.settings import Settings
from tests.experiments import tiny

# Small and quick; each still learns the tiny world's series.
TINY_PARAMS = {
    "als": {"factors": 4, "iterations": 5, "regularization": 0.1, "alpha": 5.0, "seed": 1},
    "ease": {"l2": 5.0, "neighbours": 10},
    "itemknn": {"neighbours": 10, "shrink": 0.0},
    "popularity": {},
}


def assert_one_error_line(err: str, text: str) -> None:
    """A refused command says why in one ``error:`` line (log lines may come before it), no traceback."""
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and text in errors[0], err
    assert "Traceback" not in err


@pytest.fixture(autouse=True)
def _no_wandb(monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B off unless a test turns it on (offline, into its own tmp folder)."""
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    for name in ("WANDB_DIR", "WANDB_DATA_DIR", "WANDB_CACHE_DIR"):
        # tracked_run fills these in with setdefault. Setting first makes monkeypatch record
        # the original state, so whatever a test leaves here is undone afterwards.
        monkeypatch.setenv(name, "unset")
        monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with every bit of state under the test's tmp folder."""
    return Settings(home=tmp_path / "home", data_source=str(tmp_path / "source"), registry_url=None, seed=7)


@pytest.fixture
def dataset() -> Dataset:
    return tiny.tiny_dataset()


@pytest.fixture
def model_config() -> ModelConfig:
    return ModelConfig(models=["als", "ease", "itemknn", "popularity"], params=TINY_PARAMS)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The tiny parameters as a model config file, for the command lines."""
    lines = ["[pipeline]", 'models = ["als", "ease", "itemknn", "popularity"]']
    for model_type, params in TINY_PARAMS.items():
        lines.append(f"[models.{model_type}]")
        lines += [f"{name} = {value!r}" for name, value in params.items()]
    path = tmp_path / "models.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
