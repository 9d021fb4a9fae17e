"""Experiment tracking with Weights & Biases: one run per training/evaluation.

Mode: ``WANDB_MODE`` when it is set (``offline``, ``online`` or ``disabled``); otherwise online
when ``WANDB_API_KEY`` is set and offline when it is not, so nothing needs an account. Runs are
written under ``$READCRUMBS_HOME/wandb`` (unless ``WANDB_DIR`` says otherwise); ``wandb sync``
uploads offline runs later. Only online runs can link a model to the W&B model registry; in other
modes that step is skipped with a log line, never an error. Artifact files waiting for
``wandb sync`` (``WANDB_DATA_DIR``) and downloads (``WANDB_CACHE_DIR``) also stay under
``$READCRUMBS_HOME/wandb`` unless those variables are set.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

PROJECT = "readcrumbs"
ONLINE = "online"
OFFLINE = "offline"
DISABLED = "disabled"
# The W&B model registry's collection that registered versions are linked to.
REGISTRY_COLLECTION = "model-registry/{name}"


def wandb_mode() -> str:
    """``WANDB_MODE`` if set, else ``online`` with an API key and ``offline`` without."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if mode:
        # "dryrun" is W&B's old name for offline.
        return OFFLINE if mode == "dryrun" else mode
    return ONLINE if os.environ.get("WANDB_API_KEY") else OFFLINE


def git_commit(repo: Path | None = None) -> str | None:
    """The checked-out commit of the repository holding this code, or None outside git."""
    folder = repo or Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def flatten_metrics(metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """``{"fav3": {"recall@10": x}}`` → ``{"fav3/recall@10": x}``, the keys W&B charts group by."""
    return {
        f"{protocol}/{name}": value for protocol, values in metrics.items() for name, value in values.items()
    }


class TrackedRun:
    """One W&B run: metrics, summary and model files."""

    def __init__(self, run: Any, mode: str) -> None:
        self.run = run
        self.mode = mode

    @property
    def path(self) -> str | None:
        """``entity/project/run_id`` (``project/run_id`` offline); None when tracking is disabled."""
        return None if self.mode == DISABLED else str(self.run.path)

    def log_metrics(self, metrics: Mapping[str, Mapping[str, float]], **extra: float) -> None:
        """Log ``{protocol: {name: value}}`` (and scalar ``extra``) and keep them in the run summary."""
        values = {**flatten_metrics(metrics), **extra}
        self.run.log(values)
        self.run.summary.update(values)

    def log_model(
        self,
        artifact_name: str,
        files: Mapping[str, bytes],
        metadata: Mapping[str, Any],
        aliases: Sequence[str],
    ) -> str:
        """Upload a model version's files as a ``model`` artifact; its reference ``name:alias``."""
        import wandb

        artifact = wandb.Artifact(artifact_name, type="model", metadata=dict(metadata))
        for file, data in files.items():
            with artifact.new_file(file, mode="wb") as handle:
                handle.write(data)
        self.run.log_artifact(artifact, aliases=list(aliases))
        return f"{artifact_name}:{aliases[0]}" if aliases else f"{artifact_name}:latest"


@contextmanager
def tracked_run(
    settings: Settings,
    *,
    job_type: str,
    name: str,
    config: Mapping[str, Any],
    group: str | None = None,
) -> Iterator[TrackedRun]:
    """A W&B run for the ``with`` block, finished when the block ends (marked failed on an error)."""
    import wandb

    mode = wandb_mode()
    directory = os.environ.get("WANDB_DIR") or str(settings.home)
    Path(directory).mkdir(parents=True, exist_ok=True)
    # W&B stages artifact files (kept until `wandb sync` uploads them) and caches downloads
    # under the user's home by default; keep them with the rest of the local state.
    os.environ.setdefault("WANDB_DATA_DIR", str(Path(directory) / "wandb" / "data"))
    os.environ.setdefault("WANDB_CACHE_DIR", str(Path(directory) / "wandb" / "cache"))
    run = wandb.init(
        project=os.environ.get("WANDB_PROJECT", PROJECT),
        job_type=job_type,
        name=name,
        group=group,
        config=dict(config),
        mode=mode,  # type: ignore[arg-type]
        dir=directory,
        reinit="create_new",
        # Console capture and the system monitor cost CPU that training needs on small machines.
        settings=wandb.Settings(console="off", x_disable_stats=True, silent=True),
    )
    failed = True
    try:
        yield TrackedRun(run, mode)
        failed = False
    finally:
        run.finish(exit_code=1 if failed else 0)
    log.info("W&B run %s (%s) finished", run.id, mode)


def link_to_model_registry(
    settings: Settings, artifact_ref: str | None, model_name: str, aliases: Sequence[str]
) -> bool:
    """Link a logged model artifact to the W&B model registry under ``aliases``; True when linked.

    Only an online run can reach the model registry: offline and disabled modes, or a version
    that has no artifact, are skipped with a log line.
    """
    mode = wandb_mode()
    if mode != ONLINE or not artifact_ref:
        log.info(
            "W&B %s: not linking %s to the model registry as %s",
            mode,
            artifact_ref or "a version without a W&B artifact",
            ", ".join(aliases),
        )
        return False
    with tracked_run(
        settings, job_type="registry", name=f"link-{model_name}", config={"aliases": list(aliases)}
    ) as tracked:
        artifact = tracked.run.use_artifact(artifact_ref)
        tracked.run.link_artifact(
            artifact, REGISTRY_COLLECTION.format(name=model_name), aliases=list(aliases)
        )
    return True
