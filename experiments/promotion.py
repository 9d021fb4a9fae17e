"""The one way to move production: the offline gate, optionally the online gate, then the aliases.

Every path that promotes (``registry_cli promote``, ``make train``'s pipeline, ``make retrain``,
the Spark trainer) calls :func:`promote`, so each does the same things in the same order:

1. the offline gate (:func:`offline_gate`) unless ``force``: the candidate must beat production
   on fav3 recall@10 of the same held-out split; when production was evaluated on another split
   (the candidate was trained on newer data, feedback merged), production is re-evaluated on the
   candidate's split first;
2. with ``online``, the online gate (:func:`check_online`): the candidate, served as challenger,
   must not be worse than production beyond ``max_drop`` on any quality metric, with at least
   ``min_readers`` readers on each arm (statistics: :mod:`readcrumbs.online`);
3. ``production`` moves to the candidate; if the candidate was the challenger, the challenger
   alias is cleared (it would otherwise serve the same version twice);
4. the W&B model registry is told (a no-op without W&B).

:func:`submit_challenger` is the one way to put a version in front of readers without promoting it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from experiments.evaluate import EvaluationSet, evaluate, heldout_evaluation_set
from experiments.tracking import link_to_model_registry
from readcrumbs.dataset import Dataset, load_dataset
from readcrumbs.errors import BlobNotFound, PromotionRefused
from readcrumbs.events.base import EventStore
from readcrumbs.events.records import PredictionRecord, to_iso
from readcrumbs.model_bundle import load_bundle
from readcrumbs.online import (
    CHALLENGER as CHALLENGER_ARM,
)
from readcrumbs.online import (
    DEFAULT_CONFIDENCE,
    DEFAULT_MIN_READERS,
    ArmComparison,
    arm_outcomes,
    compare_arms,
    empty_outcomes,
)
from readcrumbs.online import (
    PRODUCTION as PRODUCTION_ARM,
)
from readcrumbs.registry import (
    CHALLENGER,
    GATE_METRIC,
    GATE_PROTOCOL,
    PRODUCTION,
    Manifest,
    Registry,
    check_gate,
)
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_DROP = 0.05


@dataclass(frozen=True)
class OnlineGate:
    """How the online gate decides.

    ``min_readers``: readers each arm must have answered; ``max_drop``: the largest drop,
    relative to production's value (0.05 = 5 %), that the confidence interval of any quality
    metric's difference may leave open; ``k``: the K of Recall@K of later favourites.
    """

    store: EventStore
    min_readers: int = DEFAULT_MIN_READERS
    max_drop: float = DEFAULT_MAX_DROP
    confidence: float = DEFAULT_CONFIDENCE
    k: int = 10


def experiment_predictions(
    predictions: Sequence[PredictionRecord], production: int, challenger: int, since: str | None = None
) -> list[PredictionRecord]:
    """The predictions of the experiment, each arm's own version, from ``since`` on.

    ``since`` (records' ISO-8601 form): when the challenger version was registered, so no
    earlier answer can belong to the experiment; None: from the challenger's first answer.
    Production's answers from before (another season, other readers) and either arm's answers
    by other versions (an earlier experiment) would bias the comparison. Empty when the
    challenger never answered.
    """
    challenger_ts = [
        p.ts for p in predictions if p.arm == CHALLENGER_ARM and p.model_version == str(challenger)
    ]
    if not challenger_ts:
        return []
    start = min(challenger_ts) if since is None else since
    wanted = {(PRODUCTION_ARM, str(production)), (CHALLENGER_ARM, str(challenger))}
    return [p for p in predictions if p.ts >= start and (p.arm, p.model_version) in wanted]


def online_comparison(
    gate: OnlineGate, production: int, challenger: int, since: str | None = None
) -> ArmComparison:
    """Production ``v<production>`` against challenger ``v<challenger>`` from the event store (see
    :func:`experiment_predictions` for ``since``)."""
    predictions = experiment_predictions(gate.store.predictions(), production, challenger, since)
    start = predictions[0].ts if predictions else None
    feedback = gate.store.feedback(start) if start is not None else []
    outcomes = arm_outcomes(predictions, feedback, gate.k)
    return compare_arms(
        outcomes.get(PRODUCTION_ARM) or empty_outcomes(PRODUCTION_ARM),
        outcomes.get(CHALLENGER_ARM) or empty_outcomes(CHALLENGER_ARM),
        min_readers=gate.min_readers,
        confidence=gate.confidence,
    )


def check_online(gate: OnlineGate, production: int, challenger: Manifest) -> str:
    """A one-line summary when ``challenger`` may replace production; else PromotionRefused.

    The experiment starts when the challenger was registered.
    """
    since = to_iso(datetime.fromisoformat(challenger.created_at))
    comparison = online_comparison(gate, production, challenger.version, since)
    challenger_version = challenger.version
    readers = (
        f"{comparison.production_readers} production / {comparison.challenger_readers} challenger readers"
    )
    if not comparison.enough_readers:
        raise PromotionRefused(
            f"online comparison of v{challenger_version} with production v{production} has {readers}; "
            f"it needs {gate.min_readers} on each arm (serve it as challenger longer, in split mode: "
            "shadow mode shows readers production's lists only)"
        )
    worse = comparison.worse_beyond(gate.max_drop)
    if worse:
        raise PromotionRefused(
            f"online, v{challenger_version} may be worse than production v{production} by more than "
            f"{gate.max_drop:.0%} on {', '.join(worse)} ({readers}; {comparison.verdict})"
        )
    return f"online: not worse than production beyond {gate.max_drop:.0%} ({readers}; {comparison.verdict})"


def offline_gate(
    settings: Settings,
    registry: Registry,
    candidate: Manifest,
    production: Manifest,
    held_out: tuple[Dataset, EvaluationSet] | None = None,
) -> str:
    """A one-line summary when ``candidate`` beats ``production`` offline; else PromotionRefused.

    On one split the manifests' metrics are compared (:func:`readcrumbs.registry.check_gate`).
    Otherwise production is evaluated on the candidate's split: ``held_out`` (its dataset and
    evaluation set, which the pipeline has at hand) or the candidate's stored dataset.
    """
    new = candidate.metric()
    if candidate.split_id == production.split_id:
        check_gate(candidate, production)
        return (
            f"v{candidate.version} ({candidate.model_type}) {GATE_PROTOCOL} {GATE_METRIC}={new:.4f} beats "
            f"production v{production.version}'s {production.metric():.4f}"
        )
    if held_out is None:
        try:
            dataset = load_dataset(registry.store, candidate.data_version)
        except BlobNotFound:
            raise PromotionRefused(
                f"v{candidate.version} and production v{production.version} were evaluated on different "
                f"held-out splits, and data {candidate.data_version} is not stored to re-evaluate production "
                "on the candidate's split; promote with --force if it should serve"
            ) from None
        held_out = dataset, heldout_evaluation_set(dataset, settings.seed)
    dataset, evaluation = held_out
    if evaluation.split_id != candidate.split_id:
        raise PromotionRefused(
            f"cannot rebuild v{candidate.version}'s held-out split {candidate.split_id} (got "
            f"{evaluation.split_id}: another READCRUMBS_SEED?); promote with --force if it should serve"
        )
    bundle = load_bundle(registry, production.name, production.version)
    if not np.array_equal(bundle.book_ids, dataset.book_ids):
        raise PromotionRefused(
            f"production v{production.version} indexes another catalogue than data {dataset.version}, so "
            f"the two cannot be compared on one split; promote v{candidate.version} with --force if it "
            "should serve"
        )
    old = evaluate(bundle.model, evaluation)[GATE_PROTOCOL][GATE_METRIC]
    if new is None or new <= old:
        raise PromotionRefused(
            f"v{candidate.version} {GATE_PROTOCOL} {GATE_METRIC}={new} does not beat production "
            f"v{production.version}'s {old:.4f}, re-evaluated on split {evaluation.split_id}"
        )
    return (
        f"v{candidate.version} ({candidate.model_type}) {GATE_PROTOCOL} {GATE_METRIC}={new:.4f} beats "
        f"production v{production.version}'s {old:.4f} re-evaluated on split {evaluation.split_id}"
    )


def promote(
    settings: Settings,
    registry: Registry,
    version: int,
    *,
    force: bool = False,
    online: OnlineGate | None = None,
    held_out: tuple[Dataset, EvaluationSet] | None = None,
) -> str:
    """Make ``version`` production through the gates (see the module docstring); what was done.

    ``force`` skips the offline gate only: an online gate, when asked for, still applies.
    ``held_out``: the candidate's dataset and evaluation set, when the caller has them.
    Raises :class:`PromotionRefused` (nothing moved) when a gate refuses.
    """
    name = settings.model_name
    candidate = registry.manifest(name, version)
    current = registry.alias(name, PRODUCTION)
    notes = []
    if current is None:
        notes.append(f"v{version} ({candidate.model_type}) is the first production model")
    elif current == version:
        notes.append(f"v{version} was production already")
    else:
        if not force:
            notes.append(
                offline_gate(settings, registry, candidate, registry.manifest(name, current), held_out)
            )
        if online is not None:
            notes.append(check_online(online, current, candidate))
    registry.promote(name, version, force=True)  # the gates above decided
    if registry.alias(name, CHALLENGER) == version:
        registry.clear_alias(name, CHALLENGER)
        notes.append(f"{CHALLENGER} cleared")
    link_to_model_registry(settings, candidate.extra.get("wandb_artifact"), name, [PRODUCTION])
    message = f"{name} v{version} is now {PRODUCTION}{' (forced)' if force else ''}"
    return "; ".join([message, *notes])


def submit_challenger(settings: Settings, registry: Registry, version: int) -> str:
    """Serve ``version`` as challenger (a backend polling its aliases picks it up); what was done."""
    name = settings.model_name
    registry.set_alias(name, CHALLENGER, version)
    candidate = registry.manifest(name, version)
    link_to_model_registry(settings, candidate.extra.get("wandb_artifact"), name, [CHALLENGER])
    return f"{name} v{version} is now {CHALLENGER}"
