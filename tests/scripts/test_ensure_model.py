"""scripts.ensure_model: train only when the registry has no production version."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from readcrumbs.blobs import open_blob_store
from readcrumbs.errors import ModelNotReady
from readcrumbs.registry import PRODUCTION, Registry
from readcrumbs.settings import Settings
from scripts import ensure_model
from scripts.ensure_model import ensure_production_model, production_version


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, model_name="books")


def registry_of(settings: Settings) -> Registry:
    return Registry(open_blob_store(settings.resolved_registry_url))


def register_version(settings: Settings, *, promote: bool, seed: int = 0) -> int:
    registry = registry_of(settings)
    manifest = registry.register(
        settings.model_name,
        "popularity",
        {"scores.json": b"[1, 2, 3]"},
        params={"seed": seed},
        metrics={"fav3": {"recall@10": 0.1}},
        data_version="tiny",
    )
    if promote:
        registry.set_alias(settings.model_name, PRODUCTION, manifest.version)
    return manifest.version


class PipelineDouble:
    """Records the command it is given; optionally registers (and promotes) a version."""

    def __init__(self, settings: Settings, *, status: int = 0, promote: bool | None = True) -> None:
        self.settings = settings
        self.status = status
        self.promote = promote
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> int:
        self.commands.append(list(command))
        if self.promote is not None:
            register_version(self.settings, promote=self.promote, seed=len(self.commands))
        return self.status


def test_production_version_is_none_on_an_empty_registry(settings: Settings):
    assert production_version(settings) is None


def test_an_existing_production_model_is_kept_without_training(settings: Settings):
    register_version(settings, promote=False, seed=1)
    version = register_version(settings, promote=True, seed=2)
    pipeline = PipelineDouble(settings)
    assert ensure_production_model(settings, run=pipeline) == version == 2
    assert pipeline.commands == []


def test_no_production_model_runs_the_pipeline_once(settings: Settings):
    register_version(settings, promote=False)  # a registered but never promoted version
    pipeline = PipelineDouble(settings)
    version = ensure_production_model(settings, run=pipeline, python="/venv/bin/python")
    assert pipeline.commands == [["/venv/bin/python", "-m", "experiments.pipeline"]]
    assert version == registry_of(settings).alias("books") == 2


def test_pipeline_arguments_are_passed_on(settings: Settings):
    pipeline = PipelineDouble(settings)
    ensure_production_model(settings, run=pipeline, python="py", pipeline_args=["--models", "popularity"])
    assert pipeline.commands == [["py", "-m", "experiments.pipeline", "--models", "popularity"]]


def test_main_passes_its_arguments_to_the_pipeline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    commands: list[list[str]] = []
    monkeypatch.setattr(ensure_model, "get_settings", lambda: Settings(home=tmp_path))
    monkeypatch.setattr(ensure_model, "run_command", lambda command: commands.append(list(command)) or 5)
    assert ensure_model.main(["--models", "ease"]) == 1
    assert commands[0][1:] == ["-m", "experiments.pipeline", "--models", "ease"]


def test_a_failed_pipeline_is_reported_with_its_status(settings: Settings):
    pipeline = PipelineDouble(settings, status=3, promote=None)
    with pytest.raises(ModelNotReady, match="exited with status 3"):
        ensure_production_model(settings, run=pipeline)


def test_a_pipeline_that_promotes_nothing_is_an_error(settings: Settings):
    pipeline = PipelineDouble(settings, promote=False)
    with pytest.raises(ModelNotReady, match="still has no 'production' version"):
        ensure_production_model(settings, run=pipeline)


def test_main_exits_1_with_a_message_when_no_model_can_be_made(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path))
    monkeypatch.setattr(ensure_model, "get_settings", lambda: Settings())
    monkeypatch.setattr(ensure_model, "run_command", lambda command: 2)
    assert ensure_model.main() == 1
    assert "error: the training pipeline exited with status 2" in capsys.readouterr().err


def test_main_reports_a_bad_setting(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", "ftp://nowhere")
    monkeypatch.setattr(ensure_model, "get_settings", lambda: Settings())
    assert ensure_model.main() == 1
    assert "READCRUMBS_REGISTRY_URL" in capsys.readouterr().err
