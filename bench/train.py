"""Training benchmark: wall time and peak memory of each stage of ``make train``.

Stages: the data stage (read, validate, build, split, save), then for each model type its fit
and its evaluation (both protocols on the held-out users). Each stage runs in a process of its
own, and the process's peak resident memory (``VmHWM`` in ``/proc/self/status``, which counts
numpy's and BLAS's allocations, unlike ``tracemalloc``) is reset just before the stage starts,
so every figure is that stage's own peak. Also printed: each model's artifact size (the
registry's ``model.npz`` + ``catalogue.parquet``). Nothing is registered; the data stage writes
into a temporary home, so it runs cold as on a fresh checkout.

    READCRUMBS_DATA_SOURCE=../shared/data/goodbooks-10k .venv/bin/python -m bench.train
    .venv/bin/python -m bench.train --models ease --json var/bench-train.json
    .venv/bin/python -m bench.train --compare var/bench-train.json

``--json`` saves the figures and ``--compare`` prints them beside an earlier run's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` figure in KiB (``VmHWM``, ``VmRSS``); None where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux ≥ 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


@contextmanager
def measured(stage: str, figures: list[dict[str, Any]], **extra: Any) -> Iterator[dict[str, Any]]:
    """Time the block and record its own peak RSS into ``figures``."""
    reset = _reset_peak()
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    record: dict[str, Any] = {"stage": stage, **extra}
    yield record
    record["wall_s"] = round(time.perf_counter() - started, 2)
    peak = _status_kib("VmHWM")
    record["peak_rss_mib"] = round(peak / 1024, 1) if peak is not None else None
    record["start_rss_mib"] = round(before / 1024, 1) if before is not None else None
    # Without a reset the peak may be an earlier stage's (same process); say so.
    record["peak_is_stage_own"] = reset
    figures.append(record)


def _child_data(figures: list[dict[str, Any]]) -> None:
    from experiments.data import prepare_dataset
    from readcrumbs.settings import Settings

    settings = Settings()
    with measured("data", figures) as record:
        dataset = prepare_dataset(settings)
    record.update(
        users=int(dataset.interactions["user_id"].nunique()),
        books=len(dataset.catalogue),
        likes=len(dataset.interactions),
        heldout=len(dataset.heldout_users),
    )


def _child_model(figures: list[dict[str, Any]], model_type: str, config_path: str | None) -> None:
    from experiments.config import load_config
    from experiments.data import prepare_dataset
    from experiments.evaluate import evaluate, heldout_evaluation_set
    from experiments.train import fit_model, training_likes, training_tags
    from readcrumbs.model_bundle import bundle_files
    from readcrumbs.settings import Settings

    settings = Settings()
    dataset = prepare_dataset(settings)  # stored by the data stage: a load, not measured
    params = load_config(Path(config_path) if config_path else None).params_of(model_type)
    likes = training_likes(dataset)
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    with measured(f"fit {model_type}", figures):
        model, _ = fit_model(model_type, params, likes, training_tags(dataset))
    with measured(f"evaluate {model_type}", figures) as record:
        metrics = evaluate(model, evaluation)
    record["fav3_recall@10"] = round(metrics["fav3"]["recall@10"], 4)
    record["fold80_recall@20"] = round(metrics["fold80"]["recall@20"], 4)
    files = bundle_files(model, dataset.catalogue)
    figures[-2]["artifact_mib"] = round(sum(len(data) for data in files.values()) / MIB, 2)
    figures[-2]["params"] = model.params


def _run_child(args: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.train", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"stage {' '.join(args)} failed with exit code {done.returncode}")
    # The figures are the child's last stdout line; anything before it is the stages' own output.
    figures: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run_benchmark(models: Sequence[str], config: str | None, home: Path) -> list[dict[str, Any]]:
    """Every stage, each in a fresh process sharing one temporary home."""
    env = {**os.environ, "READCRUMBS_HOME": str(home), "WANDB_MODE": "disabled"}
    # The bench writes its dataset into the temporary home, never into a configured registry.
    env.pop("READCRUMBS_REGISTRY_URL", None)
    figures = _run_child(["--child", "data"], env)
    for model_type in models:
        extra = ["--config", config] if config else []
        figures += _run_child(["--child", "model", "--model", model_type, *extra], env)
    return figures


def format_figures(
    figures: Sequence[dict[str, Any]], previous: Sequence[dict[str, Any]] | None = None
) -> str:
    """A table: stage, wall time, own peak RSS, artifact size; with ``previous``, its figures beside."""
    before = {record["stage"]: record for record in previous or []}

    def cell(record: dict[str, Any], key: str, unit: str) -> str:
        value = record.get(key)
        if value is None:
            return "-"
        text = f"{value:.1f}{unit}" if key != "artifact_mib" else f"{value:.2f}{unit}"
        old = before.get(record["stage"], {}).get(key)
        return f"{text} (was {old})" if old is not None else text

    rows = [("stage", "wall", "peak RSS", "artifact", "quality")]
    for record in figures:
        quality = ""
        if "fav3_recall@10" in record:
            quality = (
                f"fav3 r@10 {record['fav3_recall@10']:.4f}, fold80 r@20 {record['fold80_recall@20']:.4f}"
            )
        rows.append(
            (
                record["stage"],
                cell(record, "wall_s", " s"),
                cell(record, "peak_rss_mib", " MiB"),
                cell(record, "artifact_mib", " MiB"),
                quality,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    total = sum(record["wall_s"] for record in figures)
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"total of stages: {total:.1f} s")
    if not all(record.get("peak_is_stage_own", False) for record in figures):
        lines.append("note: /proc/self/clear_refs was not writable; peaks include the process's start-up")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=None, help="comma-separated model types (default: the config's)")
    parser.add_argument("--config", default=None, help="model config file (default experiments/models.toml)")
    parser.add_argument("--json", type=Path, default=None, help="save the figures to this file")
    parser.add_argument(
        "--compare", type=Path, default=None, help="print an earlier --json run's figures beside"
    )
    parser.add_argument("--child", choices=["data", "model"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child:
        figures: list[dict[str, Any]] = []
        stage: Callable[[], None] = (
            (lambda: _child_data(figures))
            if args.child == "data"
            else (lambda: _child_model(figures, args.model, args.config))
        )
        stage()
        print(json.dumps(figures))
        return 0
    from experiments.config import load_config, parse_model_list
    from readcrumbs.errors import ReadCrumbsError

    try:
        config = load_config(Path(args.config) if args.config else None)
        models = parse_model_list(args.models) if args.models else config.models
        previous = json.loads(args.compare.read_text()) if args.compare else None
    except (ReadCrumbsError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-") as home:
        started = time.perf_counter()
        figures = run_benchmark(models, args.config, Path(home))
        elapsed = time.perf_counter() - started
    print(format_figures(figures, previous))
    print(f"wall time with process start-ups and data loads: {elapsed:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
