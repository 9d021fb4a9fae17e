"""``make train``: data → train each model type → evaluate → register → promote the best.

    python -m experiments.pipeline [--models als,ease] [--with-feedback] [--no-promote] [--config FILE]

Every model type of the config (``[pipeline] models``) is first fitted on the training users
minus a validation split and scored on those validation readers (``experiments.tune``), then
fitted on all training users, evaluated on the held-out users, tracked in W&B and registered
with its validation metrics. A type whose parameters and data were already registered is not
trained again: its version is reused, so a second run on unchanged data is quick and adds no
versions. Then the version of the run with the best *validation* score (see
:func:`choose_by_validation`; the held-out figures are reported, never used to choose) becomes
``staging`` and, if it passes the gate, ``production``: the first model always does; later ones
must beat production on the same held-out split. When production was evaluated on another
split (new data), it is re-evaluated on this one before comparing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.cli import load_settings
from experiments.config import ModelConfig, load_config, parse_model_list
from experiments.evaluate import (
    EvaluationSet,
    Metrics,
    evaluate,
    floor_ratio,
    format_metrics,
    heldout_evaluation_set,
)
from experiments.fit_cache import FitCache
from experiments.promotion import promote
from experiments.tracking import link_to_model_registry
from experiments.train import TrainingResult, engine_of, train_and_register, training_likes, training_tags
from experiments.tune import DEFAULT_METRIC, ValidationSplit, validation_score, validation_split
from readcrumbs.dataset import Dataset
from readcrumbs.errors import PromotionRefused, ReadCrumbsError
from readcrumbs.recommenders import create_model
from readcrumbs.registry import (
    GATE_METRIC,
    GATE_PROTOCOL,
    PRODUCTION,
    STAGING,
    Manifest,
    Registry,
    fingerprint,
    open_registry,
)
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Promotion:
    """What the promotion step did: the versions behind the aliases afterwards, and why."""

    production: int | None
    staging: int | None
    promoted: bool
    message: str


@dataclass
class PipelineResult:
    """Each model type's version (new or reused), the promotion, and stage wall times (s)."""

    data_version: str
    split_id: str
    results: dict[str, TrainingResult]
    promotion: Promotion | None
    validation: dict[str, Metrics] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def validation_by_version(self) -> dict[int, Metrics]:
        """Each registered version's validation metrics (what :func:`choose_best` takes)."""
        return {
            r.manifest.version: self.validation[t] for t, r in self.results.items() if t in self.validation
        }


def gate_value(manifest: Manifest) -> float:
    """The gate's metric of a version (−inf when it was not measured)."""
    value = manifest.metric(GATE_PROTOCOL, GATE_METRIC)
    return float("-inf") if value is None else value


def run_pipeline(
    settings: Settings,
    dataset: Dataset,
    config: ModelConfig,
    *,
    models: Sequence[str] | None = None,
    promote: bool = True,
) -> PipelineResult:
    """Train, evaluate and register each model type on ``dataset``; then promote the best."""
    registry = open_registry(settings)
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    validation = validation_split(dataset, settings.seed)
    likes = training_likes(dataset)
    tags = training_tags(dataset)
    # A blend's parts fitted alone are reused, on each of the two training sets.
    validation_cache, cache = FitCache(validation.likes, tags), FitCache(likes, tags)
    group = f"pipeline-{dataset.version}"
    results: dict[str, TrainingResult] = {}
    validated: dict[str, Metrics] = {}
    seconds: dict[str, float] = {}
    for model_type in models or config.models:
        started = time.perf_counter()
        params = config.params_of(model_type)
        validated[model_type] = validation_metrics(
            settings, registry, dataset, validation, model_type, params, validation_cache
        )
        results[model_type] = train_and_register(
            settings,
            dataset,
            evaluation,
            registry,
            model_type,
            params,
            likes=likes,
            group=group,
            extra={
                VALIDATION: {"split_id": validation.evaluation.split_id, "metrics": validated[model_type]}
            },
            cache=cache,
        )
        seconds[model_type] = time.perf_counter() - started
    promotion = None
    if promote and results:
        scores = {r.manifest.version: validated[t] for t, r in results.items()}
        promotion = promote_best(
            settings, registry, dataset, evaluation, [r.manifest for r in results.values()], scores
        )
    return PipelineResult(dataset.version, evaluation.split_id, results, promotion, validated, seconds)


# The manifest's ``extra`` key of the validation split's id and metrics.
VALIDATION = "validation"


def validation_metrics(
    settings: Settings,
    registry: Registry,
    dataset: Dataset,
    validation: ValidationSplit,
    model_type: str,
    params: Mapping[str, Any],
    cache: FitCache,
) -> Metrics:
    """``model_type``'s metrics on the validation readers: as recorded on its registered version
    for this very split, else fitted on the validation split's training likes and evaluated now."""
    full_params = create_model(model_type, params).params
    key = fingerprint(model_type, full_params, dataset.version, engine_of(model_type))
    known = registry.find(settings.model_name, key)
    recorded = known.extra.get(VALIDATION) if known is not None else None
    if isinstance(recorded, dict) and recorded.get("split_id") == validation.evaluation.split_id:
        return dict(recorded["metrics"])
    model, fit_s = cache.fit(model_type, full_params)
    metrics = evaluate(model, validation.evaluation)
    log.info("%s: validation score %.4f (fit %.1f s)", model_type, validation_score(metrics), fit_s)
    return metrics


def choose_by_validation(
    candidates: Sequence[Manifest], validation: Mapping[int, Metrics], metric: str = DEFAULT_METRIC
) -> Manifest:
    """The candidate with the best validation score (``metric``, default the floor ratio of
    ``experiments.tune``); the first of equals, so config order breaks ties. ``validation`` maps
    each candidate's version to its validation metrics; held-out metrics are never looked at."""
    return max(candidates, key=lambda manifest: validation_score(validation[manifest.version], metric))


def promote_best(
    settings: Settings,
    registry: Registry,
    dataset: Dataset,
    evaluation: EvaluationSet,
    candidates: Sequence[Manifest],
    validation: Mapping[int, Metrics],
) -> Promotion:
    """Make the candidate best on validation ``staging``, and ``production`` if it passes the gate.

    ``validation``: each candidate's validation metrics, by version (see :func:`choose_by_validation`).
    """
    name = settings.model_name
    best = choose_best(candidates, validation)
    registry.set_alias(name, STAGING, best.version)
    link_to_model_registry(settings, best.extra.get("wandb_artifact"), name, [STAGING])
    current = registry.alias(name, PRODUCTION)
    chosen = f"best on validation ({DEFAULT_METRIC} {validation_score(validation[best.version]):.4f})"
    if current == best.version:
        return Promotion(
            current,
            best.version,
            False,
            f"{chosen}: v{best.version} ({best.model_type}), already production",
        )
    try:
        message = promote(settings, registry, best.version, held_out=(dataset, evaluation))
    except PromotionRefused as refused:
        return Promotion(
            current, best.version, False, f"{chosen}: v{best.version}; promotion refused: {refused}"
        )
    return Promotion(best.version, best.version, True, f"{chosen}: {message}; promoted")


def choose_best(candidates: Sequence[Manifest], validation: Mapping[int, Metrics]) -> Manifest:
    """The candidate the pipeline puts forward: :func:`choose_by_validation`, never the held-out figures."""
    return choose_by_validation(candidates, validation)


def format_result(result: PipelineResult, model_name: str) -> str:
    """The final report: a metrics table per protocol, each type's version, and production."""
    rows = {
        f"{model_type} v{r.manifest.version}{' (reused)' if r.reused else ''}": r.metrics
        for model_type, r in result.results.items()
    }
    lines = [f"data {result.data_version}, held-out split {result.split_id}", "", format_metrics(rows), ""]
    if result.validation:
        lines += ["validation readers (what the choice is made on):", format_metrics(result.validation), ""]
    for model_type, r in result.results.items():
        took = f"{result.seconds.get(model_type, 0.0):.1f} s"
        ratio = floor_ratio(r.metrics)
        floor = f"quality floor {'met' if ratio >= 1 else 'missed'} ({ratio:.3f} of it)"
        state = "reused" if r.reused else "trained"
        chosen = ""
        if model_type in result.validation:
            chosen = f"; validation score {validation_score(result.validation[model_type]):.4f}"
        lines.append(f"{model_type:<12} v{r.manifest.version}  {state} ({took}); {floor}{chosen}")
    if result.promotion is not None:
        lines += ["", result.promotion.message]
        production = result.promotion.production
        lines.append(
            f"production: {model_name} v{production}" if production is not None else "production: none"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.pipeline", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--models", help="comma-separated model types (default: [pipeline] models of the config)"
    )
    parser.add_argument(
        "--with-feedback", action="store_true", help="merge the event store's feedback into the likes"
    )
    parser.add_argument("--no-promote", action="store_true", help="register only; leave the aliases alone")
    parser.add_argument(
        "--config", type=Path, default=None, help="model config file (default experiments/models.toml)"
    )
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(settings)
        config = load_config(args.config)
        models = parse_model_list(args.models) if args.models else config.models
        from experiments.data import prepare_dataset

        started = time.perf_counter()
        dataset = prepare_dataset(settings, with_feedback=args.with_feedback)
        data_s = time.perf_counter() - started
        result = run_pipeline(settings, dataset, config, models=models, promote=not args.no_promote)
        result.seconds["data"] = data_s
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_result(result, settings.model_name))
    print(f"data stage {data_s:.1f} s; total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
