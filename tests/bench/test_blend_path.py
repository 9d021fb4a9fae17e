"""bench.blend_path on a tiny registry: one line per version and one per blend part."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import blend_path
from experiments.config import ModelConfig
from experiments.pipeline import run_pipeline
from readcrumbs.settings import Settings
from tests.experiments import tiny
from tests.experiments.conftest import TINY_PARAMS


def test_every_version_and_each_blend_part_is_timed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    settings = Settings(home=tmp_path / "home", data_source=str(tmp_path / "source"), seed=7)
    parts = [
        {"model_type": "ease", "weight": 1.0, "params": TINY_PARAMS["ease"]},
        {"model_type": "itemknn", "weight": 0.5, "params": TINY_PARAMS["itemknn"]},
    ]
    config = ModelConfig(
        models=["blend", "ease"], params={**TINY_PARAMS, "blend": {"parts": parts, "within_reach": True}}
    )
    run_pipeline(settings, tiny.tiny_dataset(), config, promote=False)
    assert blend_path.main(["--calls", "20", "--registry", settings.resolved_registry_url]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.startswith("v1") and " blend within reach " in line for line in lines)
    assert any(line.startswith("v2") and " ease " in line for line in lines)
    assert sum(line.lstrip().startswith("part ") for line in lines) == 2
