"""W&B tracking: the mode rules, offline runs under the home folder, registry links skipped offline."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from experiments import tracking
from experiments.tracking import (
    flatten_metrics,
    git_commit,
    link_to_model_registry,
    tracked_run,
    wandb_mode,
)
from readcrumbs.settings import Settings


@pytest.mark.parametrize(
    ("mode", "key", "expected"),
    [
        (None, None, "offline"),
        (None, "secret", "online"),
        ("offline", "secret", "offline"),
        ("disabled", None, "disabled"),
        ("dryrun", None, "offline"),
        ("ONLINE", None, "online"),
    ],
)
def test_wandb_mode(
    monkeypatch: pytest.MonkeyPatch, mode: str | None, key: str | None, expected: str
) -> None:
    for name, value in (("WANDB_MODE", mode), ("WANDB_API_KEY", key)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert wandb_mode() == expected


def test_flatten_metrics() -> None:
    assert flatten_metrics({"fav3": {"recall@10": 0.3}, "fold80": {"recall@20": 0.4}}) == {
        "fav3/recall@10": 0.3,
        "fold80/recall@20": 0.4,
    }


def test_a_disabled_run_has_no_path(settings: Settings) -> None:
    with tracked_run(settings, job_type="train", name="t", config={"a": 1}) as run:
        run.log_metrics({"fav3": {"recall@10": 0.5}})
        assert run.log_model("m", {"model.npz": b"x"}, {}, ["fp-1"]) == "m:fp-1"
        assert run.path is None


@pytest.mark.slow
def test_an_offline_run_is_written_under_the_home_folder(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    with tracked_run(settings, job_type="train", name="offline-test", config={"l2": 3}) as run:
        run.log_metrics({"fav3": {"recall@10": 0.5}}, fit_seconds=1.0)
        reference = run.log_model("readcrumbs-ease", {"model.npz": b"weights"}, {"k": 1}, ["fp-abc"])
        path = run.path
    assert reference == "readcrumbs-ease:fp-abc"
    assert path is not None and path.endswith(run.run.id)
    runs = list((settings.home / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert any(runs[0].rglob("*.wandb"))
    # The artifact waiting for `wandb sync` is kept under the home folder too.
    staged = list((settings.home / "wandb" / "data").rglob("*"))
    assert any(path.is_file() and path.read_bytes() == b"weights" for path in staged)


def test_an_error_inside_a_run_still_finishes_it(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    finished: list[int] = []

    class FakeRun:
        id = "r1"
        path = "p/r1"

        def finish(self, exit_code: int = 0) -> None:
            finished.append(exit_code)

    import wandb

    monkeypatch.setattr(wandb, "init", lambda **kwargs: FakeRun())
    with pytest.raises(RuntimeError), tracked_run(settings, job_type="train", name="t", config={}):
        raise RuntimeError("fit failed")
    assert finished == [1]


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_linking_is_skipped_unless_online(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    monkeypatch.setenv("WANDB_MODE", mode)
    monkeypatch.setattr(tracking, "tracked_run", _must_not_run)
    with caplog.at_level(logging.INFO, logger="experiments.tracking"):
        assert link_to_model_registry(settings, "readcrumbs-ease:fp-1", "readcrumbs", ["production"]) is False
    assert "not linking readcrumbs-ease:fp-1" in caplog.text


def test_a_version_without_an_artifact_is_not_linked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setattr(tracking, "tracked_run", _must_not_run)
    assert link_to_model_registry(settings, None, "readcrumbs", ["production"]) is False


def test_online_linking_uses_the_artifact_and_the_aliases(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "online")
    calls: list[tuple[str, object]] = []

    class FakeRun:
        id = "r2"
        path = "e/p/r2"

        def use_artifact(self, reference: str) -> str:
            calls.append(("use", reference))
            return f"artifact {reference}"

        def link_artifact(self, artifact: str, target: str, aliases: list[str]) -> None:
            calls.append(("link", (artifact, target, aliases)))

        def finish(self, exit_code: int = 0) -> None:
            calls.append(("finish", exit_code))

    import wandb

    monkeypatch.setattr(wandb, "init", lambda **kwargs: FakeRun())
    assert link_to_model_registry(settings, "readcrumbs-ease:fp-1", "readcrumbs", ["production"]) is True
    assert calls == [
        ("use", "readcrumbs-ease:fp-1"),
        ("link", ("artifact readcrumbs-ease:fp-1", "model-registry/readcrumbs", ["production"])),
        ("finish", 0),
    ]


def _must_not_run(*args: object, **kwargs: object) -> None:
    raise AssertionError("no W&B run may start for a skipped link")


def test_git_commit_outside_a_repository_is_none(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None


def test_git_commit_inside_the_repository() -> None:
    commit = git_commit()
    if commit is None:
        pytest.skip("this checkout is not a git repository")
    assert len(commit) == 40 and int(commit, 16) >= 0
