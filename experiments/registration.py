"""The one way a fitted model becomes a registered version: evaluate, track, register.

``experiments.train`` (numpy and implicit engines) and ``experiments.spark_als`` (Spark MLlib)
both fit in their own way and then call :func:`evaluate_and_register`, so every version carries
the same metrics, W&B run and artifact, manifest fields and timings; :func:`registered_before`
is the shared check that an identical training (type, parameters, data, engine) exists already.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from experiments.evaluate import EvaluationSet, evaluate
from experiments.tracking import TrackedRun
from readcrumbs.model_bundle import bundle_files
from readcrumbs.recommenders import Recommender
from readcrumbs.registry import Manifest, Registry, fingerprint
from readcrumbs.settings import Settings


def registered_before(
    registry: Registry,
    settings: Settings,
    model_type: str,
    params: Mapping[str, Any],
    data_version: str,
    engine: str,
) -> Manifest | None:
    """The version already trained with these full ``params`` on ``data_version`` by ``engine``, if any."""
    return registry.find(settings.model_name, fingerprint(model_type, params, data_version, engine))


def training_config(
    model_type: str,
    params: Mapping[str, Any],
    engine: str,
    data_version: str,
    split_id: str,
    commit: str | None,
) -> dict[str, Any]:
    """What a training run is: W&B's run config and the artifact's metadata."""
    return {
        "model_type": model_type,
        "params": dict(params),
        "engine": engine,
        "data_version": data_version,
        "split_id": split_id,
        "git_commit": commit,
    }


def evaluate_and_register(
    settings: Settings,
    registry: Registry,
    run: TrackedRun,
    model: Recommender,
    catalogue: pd.DataFrame,
    evaluation: EvaluationSet,
    config: Mapping[str, Any],
    *,
    fit_seconds: float,
    extra: Mapping[str, Any] | None = None,
) -> tuple[Manifest, float]:
    """Evaluate ``model``, log it to ``run`` and register it; the manifest and the evaluate seconds.

    ``config``: :func:`training_config` of this training; ``catalogue`` is shipped with the model
    (one row per book the model indexes); ``extra`` goes into the manifest beside the timings.
    """
    started = time.perf_counter()
    metrics = evaluate(model, evaluation)
    evaluate_s = time.perf_counter() - started
    run.log_metrics(metrics, fit_seconds=fit_seconds, evaluate_seconds=evaluate_s)
    model_type, params, data_version, engine = (
        config["model_type"],
        config["params"],
        config["data_version"],
        config["engine"],
    )
    files = bundle_files(model, catalogue)
    artifact = run.log_model(
        f"{settings.model_name}-{model_type}",
        files,
        metadata={**config, "metrics": metrics},
        aliases=[f"fp-{fingerprint(model_type, params, data_version, engine)}"],
    )
    manifest = registry.register(
        settings.model_name,
        model_type,
        files,
        params=params,
        metrics=metrics,
        data_version=data_version,
        split_id=config["split_id"],
        engine=engine,
        git_commit=config["git_commit"],
        wandb_run=run.path,
        extra={
            **(extra or {}),
            "wandb_artifact": artifact if run.path else None,
            "fit_seconds": round(fit_seconds, 3),
            "evaluate_seconds": round(evaluate_s, 3),
        },
    )
    return manifest, evaluate_s
