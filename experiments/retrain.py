"""``make retrain``: retrain from the readers' feedback and put the new version in front of them.

    python -m experiments.retrain [--models ease] [--submit challenger|promote] [--config FILE]

One shot, meant to run on a schedule (cron, a systemd timer, ``docker compose run retrain``):

1. the data stage with the event store's feedback merged (``prepare_dataset(with_feedback=True)``:
   likes become training likes, held-out readers stay the same);
2. train, evaluate and register each model type (``--models``, ``READCRUMBS_RETRAIN_MODELS``;
   by default the type production serves), the pipeline's own step
   (:func:`experiments.pipeline.run_pipeline`), so an unchanged dataset trains nothing;
3. ``READCRUMBS_RETRAIN_SUBMIT=challenger`` (default): the best new version becomes ``staging``
   and ``challenger`` (:func:`experiments.promotion.submit_challenger`); a backend polling its
   aliases (``READCRUMBS_MODEL_POLL_S``) starts serving it to ``READCRUMBS_CHALLENGER_SHARE`` of
   readers without a restart, and ``registry_cli promote <v> --online`` later decides on what
   readers did. ``promote``: the pipeline's promotion through the offline gate instead.

Exit status: 0 when done (also when nothing new was trained), 2 on an error (one line).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import NoDecode

from experiments.config import ModelConfig, check_model_type, load_config, parse_model_list
from experiments.pipeline import PipelineResult, choose_best, format_result, run_pipeline
from experiments.promotion import submit_challenger
from readcrumbs.dataset import Dataset
from readcrumbs.errors import ConfigError, ReadCrumbsError
from readcrumbs.registry import PRODUCTION, STAGING, Registry, open_registry
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

Submit = Literal["challenger", "promote"]


class RetrainSettings(Settings):
    """What ``make retrain`` needs on top of the shared settings."""

    retrain_submit: Submit = Field(
        "challenger",
        description="What retraining does with the new version: challenger (served to a share of "
        "readers, promoted later by registry_cli promote --online) or promote (through the offline gate).",
    )
    retrain_models: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated model types to retrain; empty = the type production serves."
    )

    @field_validator("retrain_models", mode="before")
    @classmethod
    def _split_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(parse_model_list(value)) if value.strip() else ()
        return value


@lru_cache
def get_retrain_settings() -> RetrainSettings:
    """The retrain job's settings, read from the environment (and ``.env``) once per process."""
    return RetrainSettings()


@dataclass(frozen=True)
class Retrain:
    """What a retraining did: the pipeline's result, the version put forward and what became of it."""

    pipeline: PipelineResult
    version: int | None
    message: str


def models_to_retrain(
    registry: Registry, name: str, configured: Sequence[str], config: ModelConfig
) -> list[str]:
    """``configured`` when given, else production's model type, else the config's pipeline models."""
    if configured:
        return [check_model_type(model) for model in configured]
    production = registry.alias(name, PRODUCTION)
    if production is not None:
        return [registry.manifest(name, production).model_type]
    return list(config.models)


def retrain(
    settings: Settings, dataset: Dataset, config: ModelConfig, models: Sequence[str], submit: Submit
) -> Retrain:
    """Train ``models`` on ``dataset`` (feedback merged) and submit the best as challenger or promote it."""
    if submit == "promote":
        result = run_pipeline(settings, dataset, config, models=models, promote=True)
        if result.promotion is None:  # no model type to train
            return Retrain(result, None, "nothing trained")
        return Retrain(result, result.promotion.staging, result.promotion.message)
    result = run_pipeline(settings, dataset, config, models=models, promote=False)
    registry = open_registry(settings)
    name = settings.model_name
    best = choose_best([r.manifest for r in result.results.values()])
    registry.set_alias(name, STAGING, best.version)
    if best.version == registry.alias(name, PRODUCTION):
        return Retrain(result, best.version, f"v{best.version} is production already; no challenger")
    return Retrain(result, best.version, submit_challenger(settings, registry, best.version))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.retrain", description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated model types (default READCRUMBS_RETRAIN_MODELS)")
    parser.add_argument(
        "--submit", choices=["challenger", "promote"], help="default READCRUMBS_RETRAIN_SUBMIT (challenger)"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="model config file (default experiments/models.toml)"
    )
    return parser


def load_retrain_settings(settings: RetrainSettings | None) -> RetrainSettings:
    """``settings``, or the process's own; a bad variable is a :class:`ConfigError`."""
    if settings is not None:
        return settings
    try:
        return get_retrain_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


def main(argv: Sequence[str] | None = None, settings: RetrainSettings | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_retrain_settings(settings)
        config = load_config(args.config)
        configured = parse_model_list(args.models) if args.models else settings.retrain_models
        models = models_to_retrain(open_registry(settings), settings.model_name, configured, config)
        from experiments.data import prepare_dataset

        dataset = prepare_dataset(settings, with_feedback=True)
        done = retrain(settings, dataset, config, models, args.submit or settings.retrain_submit)
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_result(done.pipeline, settings.model_name))
    print(f"feedback merged: {dataset.info.get('counts', {}).get('feedback_likes', 0)} likes")
    print(done.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
