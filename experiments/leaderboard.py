"""The table of every model and variant tried: validation and held-out figures, fit time, artifact size.

    python -m experiments.leaderboard                  # compute what is missing, rewrite the table
    python -m experiments.leaderboard --only ease-300  # just these variants (the table keeps the rest)
    python -m experiments.leaderboard --print          # print the table, leave the README alone

The variants are the ``[leaderboard.<name>]`` tables of ``experiments/models.toml``: a
``model_type``, its parameters, and an optional ``note``. Each variant is fitted twice:

- on the training users minus the validation readers, and scored on the validation readers
  (``experiments.tune``'s split): the figures every choice is made on;
- on all training users, and scored on the held-out readers: reported, never used to choose;
  the fit's wall time (with the machine's load average beside it) and the size of its
  ``model.npz`` come from this fit.

Results are kept in ``$READCRUMBS_HOME/leaderboard/<data_version>/<variant key>.json``, so a
rerun fits only new or changed variants. The table, ordered by validation score, replaces the
text between the two markers of ``experiments/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from experiments.cli import load_settings
from experiments.config import DEFAULT_CONFIG, ModelConfig, check_model_type, load_config
from experiments.evaluate import Metrics, evaluate, heldout_evaluation_set
from experiments.fit_cache import FitCache, model_key
from experiments.train import training_likes, training_tags
from experiments.tune import DEFAULT_METRIC, validation_score, validation_split
from readcrumbs.dataset import Dataset
from readcrumbs.errors import ConfigError, ReadCrumbsError
from readcrumbs.recommenders import create_model, save_model
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

README = Path(__file__).with_name("README.md")
START = "<!-- leaderboard:start (written by python -m experiments.leaderboard) -->"
END = "<!-- leaderboard:end -->"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Variant:
    """One row to measure: a name, a model type with its full parameters, and a note."""

    name: str
    model_type: str
    params: dict[str, Any]
    note: str = ""

    @property
    def key(self) -> str:
        """A short hash of the model type and full parameters: the result file's name."""
        return hashlib.sha256(model_key(self.model_type, self.params).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Result:
    """A variant's figures: validation and held-out metrics, fit seconds (+ load), artifact bytes."""

    name: str
    model_type: str
    params: dict[str, Any]
    note: str
    validation: Metrics
    heldout: Metrics
    fit_seconds: float
    load_average: float
    artifact_bytes: int
    validation_split: str
    heldout_split: str


def load_variants(path: Path = DEFAULT_CONFIG) -> list[Variant]:
    """The ``[leaderboard.<name>]`` tables of a config file, in file order, with full parameters."""
    try:
        raw = tomllib.loads(path.read_text()).get("leaderboard", {})
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    variants: list[Variant] = []
    for name, table in raw.items():
        if not isinstance(table, dict) or not isinstance(table.get("model_type"), str):
            raise ConfigError(f"{path}: [leaderboard.{name}] needs a model_type")
        params = {k: v for k, v in table.items() if k not in ("model_type", "note")}
        model_type = check_model_type(table["model_type"])
        full = create_model(model_type, params).params
        variants.append(Variant(name, model_type, full, str(table.get("note", ""))))
    return variants


def result_path(settings: Settings, dataset: Dataset, variant: Variant) -> Path:
    return settings.home / "leaderboard" / dataset.version / f"{variant.key}.json"


def read_result(path: Path, variant: Variant) -> Result | None:
    """A stored result of ``variant`` (renamed or re-noted variants keep their figures)."""
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    return Result(**{**stored, "name": variant.name, "note": variant.note})


def measure(
    settings: Settings, dataset: Dataset, variants: Sequence[Variant], *, refit: bool = False
) -> list[Result]:
    """Every variant's :class:`Result`, fitting only those without a stored one (all if ``refit``)."""
    todo = [v for v in variants if refit or not result_path(settings, dataset, v).exists()]
    if todo:
        _measure_missing(settings, dataset, todo)
    return stored_results(settings, dataset, variants)


def stored_results(settings: Settings, dataset: Dataset, variants: Sequence[Variant]) -> list[Result]:
    """The stored results of those ``variants`` that have one, in their order."""
    results = [read_result(result_path(settings, dataset, v), v) for v in variants]
    return [r for r in results if r is not None]


def _measure_missing(settings: Settings, dataset: Dataset, variants: Sequence[Variant]) -> None:
    validation = validation_split(dataset, settings.seed)
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    # Validation first for every variant, then the held-out fits: only one training set's models
    # are held in memory at a time, and a blend reuses the parts fitted before it.
    validated: dict[str, Metrics] = {}
    tags = training_tags(dataset)
    cache = FitCache(validation.likes, tags)
    for variant in variants:
        model, _ = cache.fit(variant.model_type, variant.params)
        validated[variant.key] = evaluate(model, validation.evaluation)
        log.info("%s: validation %s", variant.name, _headline(validated[variant.key]))
    cache = FitCache(training_likes(dataset), tags)
    for variant in variants:
        load = os.getloadavg()[0]
        model, fit_s = cache.fit(variant.model_type, variant.params)
        heldout = evaluate(model, evaluation)
        result = Result(
            name=variant.name,
            model_type=variant.model_type,
            params=variant.params,
            note=variant.note,
            validation=validated[variant.key],
            heldout=heldout,
            fit_seconds=round(fit_s, 2),
            load_average=round(load, 2),
            artifact_bytes=len(save_model(model)),
            validation_split=validation.evaluation.split_id,
            heldout_split=evaluation.split_id,
        )
        path = result_path(settings, dataset, variant)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(result), indent=2, sort_keys=True))
        log.info("%s: held-out %s, fit %.1f s", variant.name, _headline(heldout), fit_s)


def _headline(metrics: Metrics) -> str:
    fav3, fold80 = metrics["fav3"]["recall@10"], metrics["fold80"]["recall@20"]
    return f"fav3 recall@10={fav3:.4f} fold80 recall@20={fold80:.4f}"


def describe_params(model_type: str, params: Mapping[str, Any]) -> str:
    """Parameters in a few words; a blend as its weighted parts (a two-regime blend, as each regime's)."""
    if model_type == "blend":

        def regime(weight: str) -> str:
            terms = []
            for part in params["parts"]:
                if part[weight]:
                    inner = describe_params(part["model_type"], part["params"])
                    terms.append(f"{part[weight]:g}·{part['model_type']}({inner})")
            return " + ".join(terms)

        long_from = params.get("long_from")
        reach = "; within reach" if params.get("within_reach") else ""
        if long_from is None:
            return regime("weight") + reach
        short, long = regime("weight"), regime("long_weight")
        return f"below {long_from} favourites {short}; from {long_from} {long}{reach}"
    return ", ".join(f"{name}={value}" for name, value in params.items() if name != "seed")


def format_table(results: Sequence[Result], chosen: str | None = None) -> str:
    """A Markdown table, best validation score first; ``chosen`` (a variant name) is marked."""
    ranked = sorted(results, key=lambda r: -validation_score(r.validation))
    lines = [
        f"| variant | model | validation fav3 R@10 | validation fold80 R@20 | validation {DEFAULT_METRIC} "
        "| held-out fav3 R@10 | held-out fold80 R@20 | fit s (load) | model.npz MiB | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in ranked:
        name = f"**{r.name}** (promoted)" if r.name == chosen else r.name
        lines.append(
            f"| {name} | {r.model_type}: {describe_params(r.model_type, r.params)} "
            f"| {r.validation['fav3']['recall@10']:.4f} | {r.validation['fold80']['recall@20']:.4f} "
            f"| {validation_score(r.validation):.4f} "
            f"| {r.heldout['fav3']['recall@10']:.4f} | {r.heldout['fold80']['recall@20']:.4f} "
            f"| {r.fit_seconds:.1f} ({r.load_average:.1f}) | {r.artifact_bytes / MIB:.1f} | {r.note} |"
        )
    return "\n".join(lines)


def check_markers(path: Path) -> str:
    """``path``'s text; :class:`ConfigError` unless it holds both markers."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if START not in text or END not in text:
        raise ConfigError(f"{path} has no leaderboard markers ({START} … {END})")
    return text


def write_table(table: str, path: Path = README) -> None:
    """Replace the text between :data:`START` and :data:`END` in ``path`` with ``table``."""
    text = check_markers(path)
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{table}\n{END}{tail}")


def chosen_variant(results: Sequence[Result], config: ModelConfig) -> str | None:
    """What ``make train`` would promote: of the variants that are a ``[pipeline] models`` type with
    its ``[models.<type>]`` parameters, the one with the best validation score."""
    candidates = {model_key(t, create_model(t, config.params_of(t)).params) for t in config.models}
    trained = [r for r in results if model_key(r.model_type, r.params) in candidates]
    if not trained:
        return None
    return max(trained, key=lambda r: validation_score(r.validation)).name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.leaderboard", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", help="comma-separated variant names (default: every one)")
    parser.add_argument("--refit", action="store_true", help="fit again even where a result is stored")
    parser.add_argument("--print", action="store_true", help="print the table; do not rewrite the README")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="file with [leaderboard.*]")
    parser.add_argument("--readme", type=Path, default=README, help="file whose table to rewrite")
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(settings)
        variants = load_variants(args.config)
        if args.only:
            wanted = {name.strip() for name in args.only.split(",") if name.strip()}
            unknown = wanted - {v.name for v in variants}
            if unknown:
                raise ConfigError(f"no [leaderboard.<name>] for {sorted(unknown)}")
            fit = [v for v in variants if v.name in wanted]
        else:
            fit = list(variants)
        if not args.print:
            check_markers(args.readme)  # before minutes of fitting, not after
        from experiments.data import prepare_dataset

        dataset = prepare_dataset(settings)
        started = time.perf_counter()
        measure(settings, dataset, fit, refit=args.refit)
        results = stored_results(settings, dataset, variants)  # the whole table
        table = format_table(results, chosen_variant(results, load_config(args.config)))
        print(table)
        if not args.print:
            write_table(table, args.readme)
            took = time.perf_counter() - started
            print(f"\n{len(results)} of {len(variants)} variants in {args.readme}; {took:.0f} s")
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
