"""Grid search of hyper-parameters on a validation split carved from the training users.

The held-out users are never looked at: they are dropped, and a seeded set of the remaining
users with enough likes becomes the validation readers (evaluated with the same protocols),
while the rest are trained on. Every trial is a W&B run (job type ``tune``, one group per search).

    python -m experiments.tune --model ease --grid l2=100,300,1000 --grid neighbours=128,256
    python -m experiments.tune            # every [tune.<type>] grid of experiments/models.toml

Prints a table of trials and the best parameters. "Best" is by default the trial that reaches
furthest towards the quality floor on both protocols (the smallest of fav3 recall@10 / 0.27
and fold80 recall@20 / 0.35); ``--metric fav3/recall@10`` or any ``protocol/metric`` instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
import tomllib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from experiments.cli import load_settings
from experiments.config import (
    DEFAULT_CONFIG,
    ModelConfig,
    check_model_type,
    load_config,
    parse_grid,
    parse_value,
)
from experiments.evaluate import EvaluationSet, Metrics, evaluate, floor_ratio, heldout_evaluation_set
from experiments.fit_cache import FitCache
from experiments.tracking import tracked_run
from experiments.train import fit_model, training_likes, training_tags
from readcrumbs.dataset import Dataset
from readcrumbs.errors import ConfigError, DataError, ReadCrumbsError
from readcrumbs.recommenders.blend import Blend
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_VALIDATION_USERS = 2_000
DEFAULT_VALIDATION_MIN_LIKES = 10
# "floor": the smallest ratio of a headline metric to its quality floor, so both protocols count.
FLOOR_METRIC = "floor"
DEFAULT_METRIC = FLOOR_METRIC


def validation_dataset(
    dataset: Dataset,
    seed: int,
    n_users: int = DEFAULT_VALIDATION_USERS,
    min_likes: int = DEFAULT_VALIDATION_MIN_LIKES,
) -> Dataset:
    """``dataset`` without its held-out users, with validation readers in their place.

    The validation readers are a seeded sample of training users with at least ``min_likes``
    likes (all users if none has that many); everyone else is left to train on.
    """
    heldout = np.asarray(dataset.heldout_users, dtype=np.int64)
    interactions = dataset.interactions[~dataset.interactions["user_id"].isin(heldout)]
    likes_per_user = interactions.groupby("user_id").size().sort_index()
    if len(likes_per_user) < 2:
        raise DataError("fewer than two training users: nothing to carve a validation split from")
    eligible = likes_per_user.index[likes_per_user >= min_likes].to_numpy(dtype=np.int64)
    if len(eligible) == 0:
        eligible = likes_per_user.index.to_numpy(dtype=np.int64)
    wanted = min(n_users, len(eligible), len(likes_per_user) - 1)
    # A seed of its own, so the validation readers never coincide with the held-out draw by design.
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(b"validation")]))
    validation = np.sort(rng.choice(eligible, size=wanted, replace=False))
    return Dataset(
        version=f"{dataset.version}-validation",
        interactions=interactions.reset_index(drop=True),
        catalogue=dataset.catalogue,
        heldout_users=validation,
        info={"validation_of": dataset.version, "validation_users": int(wanted)},
        training_signal=dataset.signal[~dataset.signal["user_id"].isin(heldout)].reset_index(drop=True),
        book_tags=dataset.book_tags,
    )


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def metric_value(metrics: Metrics, metric: str) -> float:
    """A metric, ``protocol/name`` (e.g. ``fav3/recall@10``) or ``floor`` (:func:`floor_ratio`)."""
    if metric == FLOOR_METRIC:
        return floor_ratio(metrics)
    protocol, _, name = metric.partition("/")
    try:
        return metrics[protocol][name]
    except KeyError:
        raise ConfigError(
            f"unknown metric {metric!r}; e.g. {FLOOR_METRIC}, fav3/recall@10 or fold80/recall@20"
        ) from None


@dataclass(frozen=True)
class ValidationSplit:
    """The validation readers' evaluation set and the training likes of everyone else.

    ``likes``: (n_training_users, n_books) float32 CSR, neither held-out nor validation readers.
    """

    evaluation: EvaluationSet
    likes: sp.csr_matrix


def validation_split(dataset: Dataset, seed: int, n_users: int = DEFAULT_VALIDATION_USERS) -> ValidationSplit:
    """What every choice (type, parameters, blend weights) is made on: never the held-out readers."""
    validation = validation_dataset(dataset, seed, n_users)
    return ValidationSplit(heldout_evaluation_set(validation, seed), training_likes(validation))


def validation_score(metrics: Metrics, metric: str = DEFAULT_METRIC) -> float:
    """The one number that ranks models on validation: :func:`metric_value` (default: the floor ratio)."""
    return metric_value(metrics, metric)


@dataclass(frozen=True)
class Trial:
    """One point of the grid: the parameters tried, their validation metrics and fit time (s)."""

    model_type: str
    params: dict[str, Any]
    metrics: Metrics
    fit_seconds: float


def tune(
    settings: Settings,
    dataset: Dataset,
    model_type: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    base_params: Mapping[str, Any] | None = None,
    validation_users: int = DEFAULT_VALIDATION_USERS,
) -> list[Trial]:
    """Fit and evaluate ``model_type`` at every grid point on a validation split of ``dataset``."""
    check_model_type(model_type)
    validation = validation_dataset(dataset, settings.seed, validation_users)
    evaluation = heldout_evaluation_set(validation, settings.seed)
    likes, tags = training_likes(validation), training_tags(validation)
    group = f"tune-{model_type}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    trials: list[Trial] = []
    for point in grid_points(grid):
        params = {**dict(base_params or {}), **point}
        config = {"model_type": model_type, "params": params, "data_version": dataset.version}
        with tracked_run(
            settings, job_type="tune", name=f"{model_type}-{point}", config=config, group=group
        ) as run:
            model, fit_s = fit_model(model_type, params, likes, tags)
            metrics = evaluate(model, evaluation)
            run.log_metrics(metrics, fit_seconds=fit_s)
        trials.append(Trial(model_type, dict(model.params), metrics, fit_s))
        log.info("%s %s: %s", model_type, point, _headline(metrics))
    return trials


def tune_blend(
    settings: Settings,
    dataset: Dataset,
    parts: Sequence[tuple[str, Mapping[str, Any]]],
    weights: Sequence[float],
    *,
    validation_users: int = DEFAULT_VALIDATION_USERS,
    within_reach: bool = False,
) -> list[Trial]:
    """Blend weights on the validation split: every combination of ``weights`` for the parts
    after the first (whose weight is 1, as only ratios matter). Each part is fitted once.
    ``within_reach``: the blends' own (readcrumbs/recommenders/blend.py)."""
    if len(parts) < 2:
        raise ConfigError("a blend search needs at least two parts, e.g. --blend ease,als")
    split = validation_split(dataset, settings.seed, validation_users)
    cache = FitCache(split.likes, training_tags(dataset))
    fitted = [cache.fit(model_type, params) for model_type, params in parts]
    fit_s = sum(seconds for _, seconds in fitted)
    trials: list[Trial] = []
    for combination in itertools.product(weights, repeat=len(parts) - 1):
        point = (1.0, *combination)
        model = Blend.from_parts([model for model, _ in fitted], point, split.likes.shape[1], within_reach)
        metrics = evaluate(model, split.evaluation)
        names = [f"{i}:{model_type}" for i, (model_type, _) in enumerate(parts)]
        trials.append(
            Trial("blend", {**model.params, **dict(zip(names, point, strict=True))}, metrics, fit_s)
        )
        log.info("blend %s: %s", point, _headline(metrics))
    return trials


def blend_toml(trial: Trial) -> str:
    """A trial's ``[models.blend]`` table, as models.toml spells it."""
    lines = [
        "[models.blend]",
        *(["within_reach = true"] if trial.params.get("within_reach") else []),
        "parts = [",
    ]
    for part in trial.params["parts"]:
        params = ", ".join(f"{k} = {json.dumps(v)}" for k, v in part["params"].items())
        head = f'model_type = "{part["model_type"]}", weight = {part["weight"]}'
        lines.append(f"  {{ {head}, params = {{ {params} }} }},")
    return "\n".join([*lines, "]"])


def _headline(metrics: Metrics) -> str:
    fav3, fold80 = metrics["fav3"]["recall@10"], metrics["fold80"]["recall@20"]
    return f"fav3 recall@10={fav3:.4f} fold80 recall@20={fold80:.4f}"


def best_trial(trials: Sequence[Trial], metric: str = DEFAULT_METRIC) -> Trial:
    """The trial with the highest ``metric`` (the first of equals)."""
    if not trials:
        raise ConfigError("no trials to choose from: the grid is empty")
    return max(trials, key=lambda trial: metric_value(trial.metrics, metric))


def format_trials(trials: Sequence[Trial], grid_names: Sequence[str]) -> str:
    """A table: the varied parameters, the headline metrics and the fit time of each trial."""
    columns = [
        *grid_names,
        "fav3 r@10",
        "fav3 ndcg",
        "fold80 r@20",
        "fold80 ndcg",
        "cov@10",
        "floor",
        "fit s",
    ]
    rows = [
        [
            *(str(trial.params.get(name)) for name in grid_names),
            f"{trial.metrics['fav3']['recall@10']:.4f}",
            f"{trial.metrics['fav3']['ndcg@100']:.4f}",
            f"{trial.metrics['fold80']['recall@20']:.4f}",
            f"{trial.metrics['fold80']['ndcg@100']:.4f}",
            f"{trial.metrics['fav3']['coverage@10']:.4f}",
            f"{floor_ratio(trial.metrics):.3f}",
            f"{trial.fit_seconds:.1f}",
        ]
        for trial in trials
    ]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def load_grids(path: Path) -> dict[str, dict[str, list[Any]]]:
    """The ``[tune.<type>]`` tables of a config file: ``{type: {param: [values]}}``."""
    try:
        raw = tomllib.loads(path.read_text()).get("tune", {})
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    grids: dict[str, dict[str, list[Any]]] = {}
    for model_type, table in raw.items():
        check_model_type(model_type)
        if not isinstance(table, dict) or not all(isinstance(v, list) and v for v in table.values()):
            raise ConfigError(f"{path}: [tune.{model_type}] must map each parameter to a non-empty list")
        grids[model_type] = table
    return grids


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.tune", description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model type to tune (default: every [tune.<type>] of the config)")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2", help="values to try")
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="model config file with [tune.*] grids"
    )
    parser.add_argument(
        "--metric", default=DEFAULT_METRIC, help="what 'best' means: floor or protocol/metric"
    )
    parser.add_argument("--validation-users", type=int, default=DEFAULT_VALIDATION_USERS)
    parser.add_argument(
        "--blend",
        metavar="TYPE,TYPE",
        help="search blend weights of these parts (params of [models.blend]'s parts, else [models.<type>])",
    )
    parser.add_argument(
        "--weights",
        default="0,0.5,1,1.5,2",
        metavar="W1,W2",
        help="weights tried for each part but the first",
    )
    parser.add_argument(
        "--within-reach",
        action=argparse.BooleanOptionalAction,
        help="blends rank only their item-item parts' books (default: [models.blend]'s within_reach)",
    )
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(settings)
        config = load_config(args.config)
        if args.blend:
            return _main_blend(settings, config, args)
        if args.grid:
            if not args.model:
                raise ConfigError("--grid needs --model")
            grids = {check_model_type(args.model): parse_grid(args.grid)}
        else:
            grids = load_grids(args.config)
            if args.model:
                grids = {args.model: grids.get(check_model_type(args.model), {})}
        if not grids or not all(grids.values()):
            raise ConfigError(
                "nothing to tune: give --model and --grid, or [tune.<type>] tables in the config"
            )
        from experiments.data import prepare_dataset

        dataset = prepare_dataset(settings)
        for model_type, grid in grids.items():
            started = time.perf_counter()
            trials = tune(
                settings,
                dataset,
                model_type,
                grid,
                base_params=config.params_of(model_type),
                validation_users=args.validation_users,
            )
            best = best_trial(trials, args.metric)
            print(f"\n{model_type}: {len(trials)} trials in {time.perf_counter() - started:.0f} s")
            print(format_trials(trials, list(grid)))
            print(f"best by {args.metric} = {metric_value(best.metrics, args.metric):.4f}:")
            print(f"[models.{model_type}]")
            for name, value in best.params.items():
                print(f"{name} = {value!r}".replace("'", '"'))
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def blend_part_params(config: ModelConfig, model_type: str) -> dict[str, Any]:
    """A part's parameters: those of the configured blend's part of that type, else ``[models.<type>]``."""
    for part in config.params.get("blend", {}).get("parts", []):
        if part.get("model_type") == model_type:
            return dict(part.get("params", {}))
    return config.params_of(model_type)


def _main_blend(settings: Settings, config: ModelConfig, args: argparse.Namespace) -> int:
    from experiments.data import prepare_dataset

    part_types = [check_model_type(name.strip()) for name in args.blend.split(",") if name.strip()]
    weights = [float(parse_value(w.strip())) for w in args.weights.split(",") if w.strip()]
    started = time.perf_counter()
    trials = tune_blend(
        settings,
        prepare_dataset(settings),
        [(t, blend_part_params(config, t)) for t in part_types],
        weights,
        validation_users=args.validation_users,
        within_reach=bool(
            config.params.get("blend", {}).get("within_reach", False)
            if args.within_reach is None
            else args.within_reach
        ),
    )
    names = [f"{i}:{t}" for i, t in enumerate(part_types)][1:]
    print(
        f"\nblend of {', '.join(part_types)}: {len(trials)} trials in {time.perf_counter() - started:.0f} s"
    )
    print(format_trials(trials, names))
    best = best_trial(trials, args.metric)
    print(f"best by {args.metric} = {metric_value(best.metrics, args.metric):.4f}:")
    print(blend_toml(best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
