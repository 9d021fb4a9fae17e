"""Title-resolution benchmark: accuracy, wrong-book rate and latency per form of typed title.

The labelled set comes from :mod:`bench.title_cases` (seeded, generated from the data source's
``books.csv``). The catalogue is the one the API serves: the production model version's catalogue
in ``$READCRUMBS_HOME``'s registry (its popularity breaks ties), with ``original_title`` taken from
``books.csv`` when that version was built before the data stage kept it (a retrain adds it).

For each form it prints how many cases resolve to the labelled book (right), to another book
(wrong) or to nothing (unknown; right for negatives, which must stay unknown), and the p50/p99
latency of resolving one item. Overall it prints the same, the p50/p99 of resolving three typed
titles at once (``Catalogue.resolve`` as ``/predict`` calls it), and the cost of a hostile request:
500 long unknown titles resolved and given suggestions. Targets (issue 11): ≥ 95 % right, ≤ 1 %
wrong book overall, three titles p99 ≤ 5 ms. This is a measurement, not a test: nothing asserts.

It also reads ``bench/titles_by_hand.csv``: titles written the way readers write them (popular
books, as they come to mind, with their slips, short names and authors), each labelled by hand
with the book it means, or with nothing where no one book fits (a series alone, a book the
catalogue lacks). Generated forms check each reading the resolver knows; this list checks what
readers do that no form has named yet, and it is reported on its own.

    .venv/bin/python -m bench.titles                  # seed 11, the set the README reports
    .venv/bin/python -m bench.titles --seed 12        # a second set, to check nothing was overfitted
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backend.settings import get_settings
from bench.title_cases import FORMS, PER_FORM, Case, generate, read_books
from experiments.data.source import locate_files
from readcrumbs.catalogue import Catalogue
from readcrumbs.model_bundle import load_bundle
from readcrumbs.registry import PRODUCTION, open_registry

BY_HAND = Path(__file__).with_name("titles_by_hand.csv")
TRIPLES = 2000
HOSTILE_ITEMS = 500
# /predict's bound on fuzzy look-ups per request (backend/predictions.py).
MAX_FUZZY = 20


def load_books_rows() -> list[dict[str, str]]:
    """books.csv of ``READCRUMBS_DATA_SOURCE`` as text records."""
    settings = get_settings()
    file = locate_files(settings.data_source, settings.home / "downloads")["books.csv"]
    with file.open() as raw:
        data = gzip.decompress(raw.read()) if file.gzipped else raw.read()
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def served_catalogue(books_rows: Sequence[dict[str, str]]) -> tuple[pd.DataFrame, str]:
    """The production version's catalogue table and a line saying where it came from."""
    settings = get_settings()
    registry = open_registry(settings)
    alias = registry.alias(settings.model_name, PRODUCTION)
    if alias is None:
        raise SystemExit(f"no production model in {settings.resolved_registry_url}: run `make train` first")
    bundle = load_bundle(registry, settings.model_name, alias)
    frame = bundle.catalogue.copy()
    origin = f"{settings.model_name} v{alias} catalogue ({len(frame)} books)"
    if "original_title" not in frame.columns:
        original = {int(row["book_id"]): row.get("original_title") or "" for row in books_rows}
        frame["original_title"] = [original.get(int(book_id), "") for book_id in frame["book_id"]]
        origin += ", original_title added from books.csv (the version predates it)"
    return frame, origin


def read_by_hand(path: Path = BY_HAND) -> list[Case]:
    """The hand-labelled titles (``typed,book_id``; an empty book_id must stay unknown)."""
    with path.open(newline="") as file:
        return [
            Case("by_hand", row["typed"], int(row["book_id"]) if row["book_id"] else None)
            for row in csv.DictReader(file)
        ]


def resolved_id(catalogue: Catalogue, typed: str) -> int | None:
    resolution = catalogue.resolve([typed])
    return resolution.matches[0].book.book_id if resolution.matches else None


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if seconds else float("nan")


def evaluate(catalogue: Catalogue, cases: Sequence[Case]) -> dict[str, dict[str, Any]]:
    """Per form (and ``overall``): n, right, wrong, unknown (fractions), p50/p99 ms of one item."""
    tallies: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "right": 0, "wrong": 0, "unknown": 0})
    timings: dict[str, list[float]] = defaultdict(list)
    for case in cases:
        started = time.perf_counter()
        found = resolved_id(catalogue, case.typed)
        elapsed = time.perf_counter() - started
        for key in (case.form, "overall"):
            tally = tallies[key]
            tally["n"] += 1
            if found == case.book_id:
                tally["right"] += 1
            elif found is None:
                tally["unknown"] += 1
            else:
                tally["wrong"] += 1
            timings[key].append(elapsed)
    for key, tally in tallies.items():
        for outcome in ("right", "wrong", "unknown"):
            tally[outcome] = tally[outcome] / tally["n"]
        tally["p50_ms"] = percentile_ms(timings[key], 50)
        tally["p99_ms"] = percentile_ms(timings[key], 99)
    return dict(tallies)


def time_triples(catalogue: Catalogue, cases: Sequence[Case], seed: int) -> dict[str, float]:
    """p50/p99 ms of resolving three typed titles drawn at random from the labelled set.

    Also the p99 of the CPU time the resolving thread used: on a busy machine the wall-clock
    tail is mostly time spent waiting for a core, which the CPU time leaves out.
    """
    rng = random.Random(seed)
    typed = [case.typed for case in cases]
    timings, cpu = [], []
    for _ in range(TRIPLES):
        items: list[str | int] = list(rng.sample(typed, 3))
        started, started_cpu = time.perf_counter(), time.thread_time()
        catalogue.resolve(items, max_fuzzy=MAX_FUZZY)
        timings.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return {
        "p50_ms": percentile_ms(timings, 50),
        "p99_ms": percentile_ms(timings, 99),
        "cpu_p99_ms": percentile_ms(cpu, 99),
    }


def time_hostile(catalogue: Catalogue, cases: Sequence[Case], seed: int) -> dict[str, float]:
    """ms to resolve 500 long unknown titles with no fuzzy bound, and to suggest titles for each."""
    rng = random.Random(seed)
    negatives = [case.typed for case in cases if case.book_id is None] or ["no such book"]
    items: list[str | int] = [" ".join(rng.choice(negatives) for _ in range(4)) for _ in range(HOSTILE_ITEMS)]
    started = time.perf_counter()
    catalogue.resolve(items)
    resolve_s = time.perf_counter() - started
    started = time.perf_counter()
    for item in items:
        catalogue.suggest(str(item))
    suggest_s = time.perf_counter() - started
    return {"resolve_ms": resolve_s * 1000.0, "suggest_ms": suggest_s * 1000.0}


def print_table(results: dict[str, dict[str, Any]]) -> None:
    print(f"{'form':<12} {'n':>5} {'right':>7} {'wrong':>7} {'unknown':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for form in [*FORMS, "overall"]:
        if form not in results:
            continue
        row = results[form]
        print(
            f"{form:<12} {row['n']:>5} {row['right']:>7.1%} {row['wrong']:>7.1%} {row['unknown']:>8.1%}"
            f" {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=11, help="seed of the labelled set")
    parser.add_argument("--per-form", type=int, default=PER_FORM)
    parser.add_argument("--cases", type=Path, help="also write the labelled set to this CSV")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--show-misses", type=int, default=0, help="print up to N wrong or unknown cases")
    args = parser.parse_args(argv)

    rows = load_books_rows()
    cases = generate(read_books(rows), args.seed, args.per_form)
    if args.cases:
        from bench.title_cases import write_cases

        write_cases(cases, args.cases)
    frame, origin = served_catalogue(rows)
    started = time.perf_counter()
    catalogue = Catalogue.from_frame(frame)
    build_ms = (time.perf_counter() - started) * 1000.0
    print(f"labelled set: seed {args.seed}, {len(cases)} cases")
    print(f"catalogue: {origin}, built in {build_ms:.0f} ms")
    results = evaluate(catalogue, cases)
    print_table(results)
    triples = time_triples(catalogue, cases, args.seed)
    hostile = time_hostile(catalogue, cases, args.seed)
    print(
        f"3 typed titles per request: p50 {triples['p50_ms']:.3f} ms, p99 {triples['p99_ms']:.3f} ms"
        f" (CPU time p99 {triples['cpu_p99_ms']:.3f} ms)"
    )
    print(
        f"{HOSTILE_ITEMS} long unknown titles: resolve {hostile['resolve_ms']:.0f} ms,"
        f" suggestions {hostile['suggest_ms']:.0f} ms"
    )
    overall = results["overall"]
    print(
        f"targets: right {overall['right']:.1%} (≥ 95 %), wrong {overall['wrong']:.1%} (≤ 1 %),"
        f" 3 titles p99 {triples['p99_ms']:.2f} ms (≤ 5 ms)"
    )
    by_hand = read_by_hand()
    hand = evaluate(catalogue, by_hand)["overall"]
    print(
        f"typed by hand ({BY_HAND.name}, {len(by_hand)} titles): right {hand['right']:.1%},"
        f" wrong {hand['wrong']:.1%}, unknown {hand['unknown']:.1%}"
    )
    if args.show_misses:
        shown = 0
        for case in [*cases, *by_hand]:
            found = resolved_id(catalogue, case.typed)
            if found != case.book_id and shown < args.show_misses:
                title = catalogue.get(found).title if found is not None else None  # type: ignore[union-attr]
                print(f"  {case.form:<12} {case.typed!r} -> {found} {title!r} (want {case.book_id})")
                shown += 1
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {"seed": args.seed, "forms": results, "by_hand": hand, "triples": triples}
        figures |= {"hostile": hostile, "build_ms": build_ms}
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
