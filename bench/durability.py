"""What READCRUMBS_EVENT_DURABLE costs: /predict with and without an fsync'd spool append per record.

Two runs of one backend (the production model, or a synthetic one; SQLite events), taking turns
under the same load (``--concurrency`` keep-alive connections as fast as answered, then a fixed
rate): throughput, /predict p50 and p99, and whether every answered request was written. Durable
mode appends and fsyncs each record to the local spool before the answer (a SIGKILL then loses
nothing); the default queues it in memory and writes batches every flush interval (a SIGKILL loses
at most one interval's records).

``python -m bench.durability [--seconds 10] [--concurrency 8]``
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.http_client import HOST
from bench.load import Traffic, drive, figures, run_async
from bench.models import pick_model, request_bodies
from bench.servers import free_port, running, server_env, wait_for


def rows(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM predictions").fetchone()[0])


def one_run(work: Path, source: Any, durable: bool, args: argparse.Namespace) -> dict[str, Any]:
    """Serve, load, stop (SIGTERM); the figures and the records written against those answered."""
    env = {
        **server_env(work, source),
        "READCRUMBS_RATE_LIMIT_PER_MIN": "0",
        "READCRUMBS_EVENT_DURABLE": "true" if durable else "false",
    }
    port = free_port()
    traffic = Traffic(request_bodies(source), feedback_every=0)
    command = [sys.executable, "-m", "backend", "--host", HOST, "--port", str(port)]
    with running(command, env) as process:
        wait_for(f"http://{HOST}:{port}/ready", process)
        run_async(drive(port, traffic, 1.0, args.concurrency, None))  # warm-up
        fastest = run_async(drive(port, traffic, args.seconds, args.concurrency, None))
        steady = run_async(drive(port, traffic, args.seconds, args.concurrency, args.rate))
    answered = sum(t.answered["/predict"] for t in (fastest, steady))
    return {
        "durable": durable,
        "max": figures(fastest).__dict__,
        "steady": figures(steady).__dict__,
        "answered_measured": answered,
        "written_total": rows(work / "events.db"),
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"{args.concurrency} keep-alive connections, {args.seconds:.0f} s as fast as answered, then "
        f"{args.seconds:.0f} s at {args.rate:.0f} req/s; SQLite events; one worker on {HOST}",
        "mode     | max req/s | p50 ms | p99 ms || at rate: p50 ms | p99 ms | written / answered (whole run)",
    ]
    for result in results:
        fastest, steady = result["max"], result["steady"]
        lines.append(
            f"{'durable' if result['durable'] else 'queued ':8} | {fastest['throughput_rps']:9.0f} | "
            f"{fastest['predict_p50_ms']:6.2f} | {fastest['predict_p99_ms']:6.2f} || "
            f"{steady['predict_p50_ms']:15.2f} | {steady['predict_p99_ms']:6.2f} | "
            f"{result['written_total']} written, >= {result['answered_measured']} answered when measured"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per phase (10)")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second of the fixed-rate phase")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-durability-") as tmp:
        source = pick_model(Path(tmp) / "model")
        results = []
        for durable in (False, True):
            work = Path(tmp) / ("durable" if durable else "queued")
            work.mkdir()
            results.append(one_run(work, source, durable, args))
    print(report(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
