"""Train one model type on a dataset's training users, evaluate it, track it and register it.

``python -m experiments.train --model ease --param l2=300`` runs data → fit → evaluate → W&B →
registry for one model type (no promotion; ``experiments.registry_cli promote`` does that).
Parameters come from the model config file (``experiments/models.toml``) and ``--param`` flags.
A training whose model type, parameters, data version and engine were already registered is
not repeated: the registered version is reused.
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

import scipy.sparse as sp

from experiments.cli import load_settings
from experiments.config import check_model_type, load_config, parse_params
from experiments.evaluate import EvaluationSet, Metrics, format_metrics, heldout_evaluation_set
from experiments.fit_cache import FitCache
from experiments.registration import evaluate_and_register, registered_before, training_config
from experiments.tracking import git_commit, tracked_run
from readcrumbs.dataset import Dataset
from readcrumbs.errors import ReadCrumbsError
from readcrumbs.recommenders import Recommender, create_model
from readcrumbs.recommenders.side_information import BookTags
from readcrumbs.registry import Manifest, Registry, open_registry
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

# Which library fits each model type; part of a version's fingerprint.
ENGINES: dict[str, str] = {"als": "implicit"}
DEFAULT_ENGINE = "numpy"


def engine_of(model_type: str) -> str:
    """The engine that fits ``model_type``: ``implicit`` for ALS, ``numpy`` otherwise."""
    return ENGINES.get(model_type, DEFAULT_ENGINE)


def training_likes(dataset: Dataset) -> sp.csr_matrix:
    """The training signal of every training user (held-out users excluded).

    Returns (n_users, n_books) float32 CSR: 1.0 for each rating at or above the training threshold.
    """
    return dataset.training_matrix(dataset.training_users())


def training_tags(dataset: Dataset) -> BookTags | None:
    """What the catalogue says about its books (shelf tags, like shares), side information for
    the models that ask for it; None when the data version has neither. It describes books, not
    readers, so every split of a dataset shares it: build it once and hand it to each fit."""
    counts, like_share = dataset.tag_counts(), dataset.like_shares()
    if counts is None and like_share is None:
        return None
    return BookTags(counts, like_share)


def fit_model(
    model_type: str,
    params: Mapping[str, Any],
    likes: sp.csr_matrix,
    book_tags: BookTags | None = None,
) -> tuple[Recommender, float]:
    """A ``model_type`` model fitted on ``likes`` (n_users, n_books) and ``book_tags``, and the
    fit's wall time in seconds."""
    model = create_model(model_type, params)
    started = time.perf_counter()
    model.fit(likes, book_tags)
    return model, time.perf_counter() - started


@dataclass
class TrainingResult:
    """One model type's registered version; ``reused`` when an identical training was found."""

    manifest: Manifest
    reused: bool
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def metrics(self) -> Metrics:
        return self.manifest.metrics


def train_and_register(
    settings: Settings,
    dataset: Dataset,
    evaluation: EvaluationSet,
    registry: Registry,
    model_type: str,
    params: Mapping[str, Any],
    *,
    likes: sp.csr_matrix | None = None,
    group: str | None = None,
    extra: Mapping[str, Any] | None = None,
    cache: FitCache | None = None,
) -> TrainingResult:
    """Fit, evaluate on ``evaluation``, track in W&B and register ``model_type`` — unless already done.

    ``likes``: the training users' likes (computed from ``dataset`` when not given, so a
    caller training several types builds it once); ``cache``: models already fitted on those
    likes (a blend's parts); ``extra``: more to record in the manifest (validation metrics).
    """
    check_model_type(model_type)
    # The model's own params include its defaults, so "no l2 given" and "l2=500" are one training.
    full_params = create_model(model_type, params).params
    engine = engine_of(model_type)
    known = registered_before(registry, settings, model_type, full_params, dataset.version, engine)
    if known is not None:
        log.info(
            "%s: v%d already has these parameters and data; not training again", model_type, known.version
        )
        return TrainingResult(known, reused=True)

    config = training_config(
        model_type, full_params, engine, dataset.version, evaluation.split_id, git_commit()
    )
    with tracked_run(
        settings, job_type="train", name=f"{model_type}-{dataset.version}", config=config, group=group
    ) as run:
        if cache is not None:  # fitted on the same likes: a blend reuses the parts fitted alone
            model, fit_s = cache.fit(model_type, full_params)
        else:
            model, fit_s = fit_model(
                model_type,
                full_params,
                likes if likes is not None else training_likes(dataset),
                training_tags(dataset),
            )
        manifest, evaluate_s = evaluate_and_register(
            settings,
            registry,
            run,
            model,
            dataset.catalogue,
            evaluation,
            config,
            fit_seconds=fit_s,
            extra=extra,
        )
    log.info(
        "%s: registered v%d (fit %.1f s, evaluate %.1f s)", model_type, manifest.version, fit_s, evaluate_s
    )
    return TrainingResult(manifest, reused=False, seconds={"fit": fit_s, "evaluate": evaluate_s})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.train", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="model type: als, ease, itemknn or popularity")
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="model config file (default experiments/models.toml)"
    )
    parser.add_argument(
        "--with-feedback", action="store_true", help="merge the event store's feedback into the likes"
    )
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(settings)
        from experiments.data import prepare_dataset

        params = load_config(args.config).params_of(check_model_type(args.model), parse_params(args.param))
        dataset = prepare_dataset(settings, with_feedback=args.with_feedback)
        evaluation = heldout_evaluation_set(dataset, settings.seed)
        result = train_and_register(
            settings, dataset, evaluation, open_registry(settings), args.model, params
        )
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    state = "reused" if result.reused else "registered"
    print(format_metrics({f"{args.model} v{result.manifest.version}": result.metrics}))
    print(f"{state} {settings.model_name} v{result.manifest.version} ({args.model}, data {dataset.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
