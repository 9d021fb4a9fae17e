"""API benchmark: /predict beside two bare FastAPI endpoints, under the same server and the same load.

In one run it:

1. picks the model (:mod:`bench.models`): the production version in ``$READCRUMBS_HOME``'s
   registry when there is one, else a synthetic 10,000-book ALS model, so every server below
   loads the same version;
2. times model scoring in-process (:meth:`ModelBundle.recommend`, 3 favourites, k = 10, reasons
   included) and the whole ``/predict`` work without HTTP (resolution + scoring + answer + record);
3. starts ``python -m backend`` on 127.0.0.1 with a temporary SQLite event store, timing the cold
   start to the first 200 from ``/ready``;
4. starts the bare servers of :mod:`bench.baselines` beside it, with the same request schema
   and the same :func:`backend.__main__.serve` options: **canned** (async, a fixed answer of the
   real shape: the reference /predict is judged against), **canned, direct route** (the same
   answer behind the route /predict takes, which skips FastAPI's dependency solving: a
   diagnostic) and **bare + scoring** (the same model behind a plain title dict: a diagnostic);
   the first requests' recommendations of /predict and bare + scoring are checked to be equal;
5. drives the servers with the same load (:mod:`bench.http_client`): wrk when installed
   (else the asyncio client), ``--concurrency`` keep-alive connections posting the same bodies,
   ``--duration`` seconds per server in ``--rounds`` slices taken in turn, so other work on a
   shared machine weighs on all of them alike, and reads each server's CPU time per answer (of
   its event loop's thread, the bottleneck of one worker, and of all its threads). It then reads
   the backend's RSS, sends SIGTERM and counts the logged predictions in SQLite;
6. with ``--workers N`` (2 by default), also serves /predict with N worker processes on one port
   (its own event store), driven in turn with the others: throughput, p99 and RSS per worker
   beside one worker, and every answer wrk counted must be logged there too;
7. with a real production model whose dataset is in the artifact store, sends every held-out
   reader's 3 fav3 input books to the running API and compares Recall@10 with the manifest's.

It prints a table of the endpoints and the ratios (``--json PATH`` writes the figures).
Issue 13's targets: ``/predict : canned`` throughput ≥ 0.5 (goal 0.6) and p99 ≤ 2× canned's.
The run **fails** (exit status 1) when /predict answered a request that was not logged.

    .venv/bin/python -m bench.api                    # 10 s per server, 8 connections
    .venv/bin/python -m bench.api --duration 20 --concurrency 16 --json var/bench-api.json
"""

from __future__ import annotations

import os

# Like the server (backend/__main__.py): one BLAS thread, so in-process timings match serving.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from backend.__main__ import serve  # noqa: E402
from backend.predictions import predict  # noqa: E402
from backend.schemas import PredictRequest  # noqa: E402
from backend.serving import ModelHolder  # noqa: E402
from backend.settings import get_settings  # noqa: E402
from bench.baselines import canned_app, canned_direct_app, serve_bare_scoring  # noqa: E402
from bench.http_client import (  # noqa: E402
    HOST,
    drive_interleaved,
    drive_interleaved_wrk,
    percentile_ms,
    wrk_available,
)
from bench.models import FAVOURITES_PER_REQUEST, ModelSource, pick_model, production_version, request_bodies  # noqa: E402
from bench.servers import cpu_seconds, memory_mib, server_env, start_server, use_ports  # noqa: E402
from experiments.evaluate import FAV3, heldout_evaluation_set  # noqa: E402
from readcrumbs.blobs import BlobStore, open_blob_store  # noqa: E402
from readcrumbs.dataset import dataset_exists, load_dataset  # noqa: E402
from readcrumbs.events import open_event_store  # noqa: E402
from readcrumbs.registry import Registry  # noqa: E402

# Requests whose answers /predict and bare + scoring must agree on (same model, same favourites).
CHECKED_BODIES = 20


def time_in_process(source: ModelSource, calls: int) -> dict[str, float]:
    """Load time, then p50/p99 of ``recommend`` alone and of the whole /predict work, in ms."""
    holder = ModelHolder(Registry(open_blob_store(source.registry_url)), source.model_name)
    started = time.perf_counter()
    holder.reload()
    load_s = time.perf_counter() - started
    state = holder.current()
    rng = random.Random(1)
    book_ids = [int(book_id) for book_id in state.bundle.book_ids]
    titles = [str(title) for title in state.bundle.columns["title"]]
    scoring: list[float] = []
    whole: list[float] = []
    for _ in range(calls):
        favourites = rng.sample(book_ids, FAVOURITES_PER_REQUEST)
        started = time.perf_counter()
        state.bundle.recommend(favourites, 10)
        scoring.append(time.perf_counter() - started)
    for _ in range(calls):
        request = PredictRequest(items=rng.sample(titles, FAVOURITES_PER_REQUEST), userid="bench", k=10)
        started = time.perf_counter()
        predict(state, request)
        whole.append(time.perf_counter() - started)
    return {
        "load_s": load_s,
        "n_books": float(len(book_ids)),
        "scoring_p50_ms": percentile_ms(scoring, 50),
        "scoring_p99_ms": percentile_ms(scoring, 99),
        "predict_p50_ms": percentile_ms(whole, 50),
        "predict_p99_ms": percentile_ms(whole, 99),
    }


# -- what /predict returns is what was evaluated ------------------------------------------------
def fav3_recall_through_api(
    client: httpx.Client, store: BlobStore, model_name: str, seed: int
) -> dict[str, float] | None:
    """fav3 Recall@10 of the production model through ``client``'s ``/predict``, beside the
    manifest's offline figure; None when the version has no offline figure or stored dataset.

    Each held-out reader's 3 input books (the same seeded split as offline evaluation) are sent as
    book_ids with k = 10; hits are counted against the rest of their likes.
    """
    manifest = Registry(store).resolve(model_name)
    offline = manifest.metric(FAV3, "recall@10")
    if offline is None or not dataset_exists(store, manifest.data_version):
        return None
    dataset = load_dataset(store, manifest.data_version)
    split = heldout_evaluation_set(dataset, seed, protocols=(FAV3,)).splits[FAV3]
    book_ids = dataset.book_ids
    recalls = []
    for row in range(split.inputs.shape[0]):
        given = split.inputs.indices[split.inputs.indptr[row] : split.inputs.indptr[row + 1]]
        wanted = {
            int(book_ids[i])
            for i in split.targets.indices[split.targets.indptr[row] : split.targets.indptr[row + 1]]
        }
        body = {"items": [int(book_ids[i]) for i in given], "userid": "bench-recall", "k": 10}
        answer = client.post("/predict", json=body)
        answer.raise_for_status()
        hits = len({book["book_id"] for book in answer.json()["books"]} & wanted)
        recalls.append(hits / min(10, len(wanted)))
    return {
        "api_recall@10": float(np.mean(recalls)),
        "offline_recall@10": offline,
        "readers": float(len(recalls)),
    }


# -- the run ----------------------------------------------------------------------------------
def answered_book_ids(port: int, bodies: Sequence[bytes]) -> list[list[int]]:
    """The recommended book_ids ``/predict`` on ``port`` answers to each body, in order."""
    answers = []
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        for body in bodies:
            answer = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
            answer.raise_for_status()
            answers.append([int(book["book_id"]) for book in answer.json()["books"]])
    return answers


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-api-") as tmp:
        work = Path(tmp)
        source = pick_model(work)
        version = production_version(source)
        results: dict[str, Any] = {"model": {**asdict(source), "version": version}}
        results["concurrency"] = args.concurrency
        results["rounds"] = args.rounds
        results["in_process"] = time_in_process(source, args.calls)
        bodies = request_bodies(source)
        env = server_env(work, source)
        bench = [sys.executable, "-m", "bench.api"]

        with ExitStack() as servers:
            # The backend first and alone, so no other server's start-up shares its cold start.
            port, process, results["cold_start_s"] = start_server(
                servers, [sys.executable, "-m", "backend", "--host", HOST], env
            )
            served = httpx.get(f"http://{HOST}:{port}/ready", timeout=10).json()["model"]["version"]
            if str(served) != str(version):  # promoted in between: the comparison would be unfair
                raise RuntimeError(f"the backend serves v{served}, the bare endpoint would load v{version}")
            scoring_port, scoring_process, _ = start_server(
                servers, [*bench, "--serve-bare-scoring", "--model-version", str(version)], env
            )
            canned_port, canned_process, _ = start_server(servers, [*bench, "--serve-canned"], env)
            direct_port, direct_process, _ = start_server(servers, [*bench, "--serve-canned-direct"], env)
            processes = {
                "predict": process,
                "bare_scoring": scoring_process,
                "canned": canned_process,
                "canned_direct": direct_process,
            }
            ports = {
                "predict": port,
                "bare_scoring": scoring_port,
                "canned": canned_port,
                "canned_direct": direct_port,
            }
            if args.workers > 1:  # its own event store, so its records are counted apart
                workers_env = {
                    **env,
                    "READCRUMBS_HOME": str(work / "home-workers"),
                    "READCRUMBS_EVENTS_URL": f"sqlite:///{work / 'events-workers.db'}",
                }
                command = [sys.executable, "-m", "backend", "--host", HOST, "--workers", str(args.workers)]
                ports["predict_workers"], workers_process, _ = start_server(servers, command, workers_env)

            pids = {name: [server.pid] for name, server in processes.items()}
            if args.workers > 1:
                pids["predict_workers"] = worker_pids(workers_process.pid)
            checked = bodies[:CHECKED_BODIES]
            pairs = zip(
                answered_book_ids(port, checked), answered_book_ids(scoring_port, checked), strict=True
            )
            results["same_answers"] = {"checked": len(checked), "equal": sum(a == b for a, b in pairs)}

            interleaved = drive_interleaved_wrk if args.client == "wrk" else drive_interleaved
            results["client"] = args.client
            warm = interleaved(ports, bodies, args.warmup, args.concurrency, 1)
            # The servers take turns and idle in between, so a server's CPU time over the whole run
            # is its own slices' (its event writer's included).
            cpu_before = {name: server_cpu(pids[name]) for name in ports}
            loads = interleaved(ports, bodies, args.duration, args.concurrency, args.rounds)
            for name, load in loads.items():
                (loop_before, all_before), (loop_after, all_after) = cpu_before[name], server_cpu(pids[name])
                answers = max(load.requests, 1)
                results[name] = {
                    **asdict(load),
                    "loop_cpu_us": (loop_after - loop_before) / answers * 1e6,
                    "cpu_us": (all_after - all_before) / answers * 1e6,
                }
            results["memory"] = memory_mib(process.pid)
            if args.workers > 1:
                results["workers"] = args.workers
                results["workers_memory"] = [memory_mib(pid) for pid in worker_pids(workers_process.pid)]
                # wrk counts an answer once it is whole, so each counted answer must be logged.
                counted = warm["predict_workers"].requests + loads["predict_workers"].requests
            if source.synthetic:
                results["recall_skipped"] = "synthetic model"
            elif args.no_recall:
                results["recall_skipped"] = "--no-recall"
            else:
                with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
                    store = open_blob_store(source.registry_url)
                    results["fav3"] = fav3_recall_through_api(
                        client, store, source.model_name, get_settings().seed
                    )
                if results["fav3"] is None:
                    results["recall_skipped"] = "no offline figure or dataset for this version"
            answered = int(httpx_metric(f"http://{HOST}:{port}/metrics", "readcrumbs_predictions_total"))
        # Read after SIGTERM: the backend flushes its queued records before it exits.
        results["logged"] = {"answered": answered, "in_sqlite": count_logged(work / "events.db")}
        if args.workers > 1:
            results["logged_workers"] = {
                "answered": counted,
                "in_sqlite": count_logged(work / "events-workers.db"),
            }
    throughput = results["predict"]["throughput_rps"]
    results["ratios"] = {
        "predict_to_canned": throughput / results["canned"]["throughput_rps"],
        "p99_predict_to_canned": results["predict"]["p99_ms"] / results["canned"]["p99_ms"],
        "predict_to_bare_scoring": throughput / results["bare_scoring"]["throughput_rps"],
        "predict_to_canned_direct": throughput / results["canned_direct"]["throughput_rps"],
        "loop_cpu_canned_to_predict": results["canned"]["loop_cpu_us"] / results["predict"]["loop_cpu_us"],
    }
    if "predict_workers" in results:
        results["ratios"]["workers_to_one"] = results["predict_workers"]["throughput_rps"] / throughput
    return results


def server_cpu(pids: list[int]) -> tuple[float, float]:
    """CPU seconds the server processes ``pids`` used so far: of their event loops' threads (the
    main threads), and of all their threads."""
    return cpu_seconds(pids, main_thread_only=True), cpu_seconds(pids)


def worker_pids(pid: int) -> list[int]:
    """The server processes that uvicorn's supervisor ``pid`` spawned (``--workers``); Linux only."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()  # not the resource tracker
    ]


def unlogged(results: dict[str, Any]) -> int:
    """Requests /predict answered that its event store does not hold (0 when every one is logged),
    with one worker and with ``--workers``."""
    missing = 0
    for key in ("logged", "logged_workers"):
        if key in results:
            logged = results[key]
            missing += max(0, int(logged["answered"]) - int(logged["in_sqlite"]))
    return missing


def httpx_metric(url: str, name: str) -> float:
    """The sum of every sample of one Prometheus metric at ``url``."""
    total = 0.0
    for line in httpx.get(url, timeout=10).text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def count_logged(database: Path) -> int:
    store = open_event_store(f"sqlite:///{database}")
    try:
        return len(store.predictions_frame(columns=["request_id"]))
    finally:
        store.close()


ENDPOINTS = (
    ("/predict", "predict"),
    ("bare + scoring", "bare_scoring"),
    ("canned", "canned"),
    ("canned, direct", "canned_direct"),
)


def report(results: dict[str, Any]) -> str:
    model = results["model"]
    in_process = results["in_process"]
    what = (
        "synthetic 10k-book ALS"
        if model["synthetic"]
        else f"{model['model_name']} production ({model['registry_url']})"
    )
    lines = [
        f"model: {what} v{model['version']}, {in_process['n_books']:.0f} books; "
        f"load {in_process['load_s']:.2f} s in-process",
        f"load: {results['concurrency']} keep-alive connections ({results.get('client', 'python')} "
        "client), one uvicorn worker each unless named, 127.0.0.1; the servers driven in turn, "
        f"{results['rounds']} slices each",
        "",
        f"{'endpoint':<16}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'loop us':>9}{'CPU us':>8}",
    ]
    endpoints = [*ENDPOINTS]
    if "predict_workers" in results:
        endpoints.insert(1, (f"/predict x{results['workers']}", "predict_workers"))
    for label, key in endpoints:
        row = results[key]
        lines.append(
            f"{label:<16}{row['requests']:>10}{row['errors']:>8}{row['throughput_rps']:>10.0f}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{row['loop_cpu_us']:>9.0f}{row['cpu_us']:>8.0f}"
        )
    ratios = results["ratios"]
    same = results["same_answers"]
    logged = results["logged"]
    lines += [
        "",
        f"throughput ratio /predict : canned         = {ratios['predict_to_canned']:.2f}   "
        "(target >= 0.50, goal 0.60: /predict against the framework's floor, same shapes)",
        f"p99 ratio        /predict : canned         = {ratios['p99_predict_to_canned']:.2f}   "
        "(target <= 2.0)",
        f"throughput ratio /predict : canned, direct = {ratios['predict_to_canned_direct']:.2f}   "
        "(diagnostic: against the floor of /predict's own route, no dependency solving)",
        f"throughput ratio /predict : bare + scoring = {ratios['predict_to_bare_scoring']:.2f}   "
        "(diagnostic: the cost of resolution, logging, metrics, middleware, limits)",
        f"loop CPU/answer  canned : /predict         = {ratios['loop_cpu_canned_to_predict']:.2f}   "
        "(diagnostic: one worker answers no faster than its event loop's thread works; "
        "loop us and CPU us: that thread's and all threads' CPU µs per answer)",
        f"same recommendations from /predict and bare + scoring: {same['equal']} of {same['checked']} "
        "requests",
        "model scoring in-process (recommend, reasons included): "
        f"p50 {in_process['scoring_p50_ms']:.3f} ms, p99 {in_process['scoring_p99_ms']:.3f} ms",
        f"whole /predict work in-process: p50 {in_process['predict_p50_ms']:.3f} ms, "
        f"p99 {in_process['predict_p99_ms']:.3f} ms",
        f"cold start to /ready: {results['cold_start_s']:.2f} s   (target <= 5 s)",
        f"server RSS after load: {results['memory']['rss_mib']:.0f} MiB, peak "
        f"{results['memory']['peak_rss_mib']:.0f} MiB   (target <= 1024 MiB)",
        f"predictions logged: {logged['in_sqlite']} in SQLite of {logged['answered']} answered",
    ]
    if "predict_workers" in results:
        workers, by_worker = results["workers"], results["workers_memory"]
        logged_workers = results["logged_workers"]
        lines += [
            f"with {workers} workers (same machine, same load): throughput x{ratios['workers_to_one']:.2f} "
            f"of one worker, p99 {results['predict_workers']['p99_ms']:.2f} ms; RSS per worker "
            + ", ".join(f"{memory['rss_mib']:.0f}" for memory in by_worker)
            + " MiB",
            f"predictions logged with {workers} workers: {logged_workers['in_sqlite']} in SQLite of "
            f"{logged_workers['answered']} answered (wrk counts only whole answers)",
        ]
    fav3 = results.get("fav3")
    if fav3:
        lines.append(
            f"fav3 Recall@10: API {fav3['api_recall@10']:.4f} over {fav3['readers']:.0f} held-out readers, "
            f"offline (manifest) {fav3['offline_recall@10']:.4f}"
        )
    elif results.get("recall_skipped"):
        lines.append(f"fav3 Recall@10 via the API: skipped ({results['recall_skipped']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load per server, in all (10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load per server before measuring (2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="slices each server's load is split into, taken in turn (5)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument("--calls", type=int, default=2_000, help="in-process scoring calls (2000)")
    parser.add_argument("--no-recall", action="store_true", help="skip the fav3 Recall@10 check")
    parser.add_argument(
        "--workers", type=int, default=2, help="also serve /predict with this many workers (2; 1: not)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if wrk_available() else "python",
        help="load generator: wrk when installed, else the asyncio client",
    )
    parser.add_argument(
        "--first-port", type=int, default=0, help="servers' ports from here (default: any free)"
    )
    parser.add_argument("--serve-canned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-canned-direct", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare-scoring", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model-version", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=8001, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_canned:
        serve(canned_app(), HOST, args.port)
        return 0
    if args.serve_canned_direct:
        serve(canned_direct_app(), HOST, args.port)
        return 0
    if args.serve_bare_scoring:
        if args.model_version is None:
            parser.error("--serve-bare-scoring needs --model-version")
        serve_bare_scoring(args.port, args.model_version)
        return 0
    use_ports(args.first_port)
    results = run(args)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    missing = unlogged(results)
    if missing:
        print(f"FAILED: {missing} answered predictions were not logged", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
