"""Sustained-load benchmark: 80% of the measured maximum throughput for minutes, feedback included.

One run:

1. picks the model like ``bench/api.py`` (``$READCRUMBS_HOME``'s production version, else a
   synthetic 10,000-book ALS) and starts ``python -m backend`` on 127.0.0.1 with a fresh SQLite
   event store and no rate limit;
2. measures the maximum throughput: ``--concurrency`` keep-alive connections send requests back
   to back for ``--probe`` seconds (closed loop);
3. sustains ``--load`` (default 0.8) of that rate for ``--duration`` seconds (default 300) as an
   open loop over ``--open-connections``: request *i* is due at ``start + i / rate``, whatever
   happened to the others, and its latency counts from when it was due, so a server that falls
   behind shows it in the tail (no coordinated omission). Every ``--feedback-every``-th request
   (default 5th) is a ``/feedback`` like or dislike of a book from a recent answer, tied to its
   ``request_id``. The server's own view (its ``/metrics`` latency histogram over the same
   phase) is printed beside it: on a shared machine a gap between the two is time spent outside
   the app (uvicorn, the socket, a client starved of CPU);
4. sends SIGTERM, waits for the graceful shutdown (which writes every queued record), and
   counts the rows in SQLite against the requests answered 200, over the whole run.

Every request loop is bounded in count and time and stops by itself. This is a measurement,
not a test: nothing here asserts. Run ``make bench-load``, or for a quick look
``.venv/bin/python -m bench.load --duration 30``.
"""

from __future__ import annotations

import os

# Like the server: one BLAS thread (bench/api.py says why).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Coroutine  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from bench.http_client import HOST, exchange, percentile_ms  # noqa: E402
from bench.models import ModelSource, pick_model, request_bodies  # noqa: E402
from bench.servers import free_port, running, server_env, use_ports, wait_for  # noqa: E402

PREDICT, FEEDBACK = "/predict", "/feedback"
# Answers remembered for feedback to refer to: recent ones, as a reader rates what they just saw.
RECENT_ANSWERS = 256


@dataclass
class Tally:
    """What one phase sent and got back; latencies in seconds, per route."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {PREDICT: [], FEEDBACK: []})
    answered: dict[str, int] = field(default_factory=lambda: {PREDICT: 0, FEEDBACK: 0})
    errors: dict[str, int] = field(default_factory=lambda: {PREDICT: 0, FEEDBACK: 0})
    statuses: dict[int, int] = field(default_factory=dict)
    late_starts: int = 0  # requests sent more than 10 ms after they were due (the client fell behind)
    seconds: float = 0.0
    started_at: float = 0.0  # perf_counter at the phase's start
    # (seconds from the phase's start to when the request was due or sent, latency in seconds)
    timeline: list[tuple[float, float]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.answered.values()) + sum(self.errors.values())


@dataclass(frozen=True)
class PhaseFigures:
    requests: int
    seconds: float
    throughput_rps: float
    errors: int
    predict_p50_ms: float
    predict_p99_ms: float
    feedback_p50_ms: float
    feedback_p99_ms: float
    late_starts: int


@dataclass(frozen=True)
class Window:
    """The requests due (or sent) in one slice of a phase: rate and latency."""

    start_s: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float


def timeline(tally: Tally, windows: int = 10) -> list[Window]:
    """The phase cut into ``windows`` equal slices, to see whether latency drifts over time."""
    width = tally.seconds / windows if tally.seconds else 0.0
    slices: list[list[float]] = [[] for _ in range(windows)]
    for at_s, latency in tally.timeline:
        if width:
            slices[min(int(at_s / width), windows - 1)].append(latency)
    return [
        Window(i * width, len(cut) / width if width else 0.0, percentile_ms(cut, 50), percentile_ms(cut, 99))
        for i, cut in enumerate(slices)
    ]


def figures(tally: Tally) -> PhaseFigures:
    return PhaseFigures(
        requests=tally.requests,
        seconds=tally.seconds,
        throughput_rps=tally.requests / tally.seconds if tally.seconds else 0.0,
        errors=sum(tally.errors.values()),
        predict_p50_ms=percentile_ms(tally.latencies[PREDICT], 50),
        predict_p99_ms=percentile_ms(tally.latencies[PREDICT], 99),
        feedback_p50_ms=percentile_ms(tally.latencies[FEEDBACK], 50),
        feedback_p99_ms=percentile_ms(tally.latencies[FEEDBACK], 99),
        late_starts=tally.late_starts,
    )


class Traffic:
    """Request bodies in turn: /predict from the prepared list, and every ``feedback_every``-th
    request a /feedback about a book of a recent answer (a /predict while there is none yet)."""

    def __init__(self, bodies: list[bytes], feedback_every: int, seed: int = 3) -> None:
        self.bodies = bodies
        self.feedback_every = feedback_every
        # (request_id, book_id, userid): feedback must come from the reader the answer was for.
        self.recent: deque[tuple[str, int, str]] = deque(maxlen=RECENT_ANSWERS)
        self._rng = random.Random(seed)
        self._count = 0

    def next(self) -> tuple[str, bytes]:
        self._count += 1
        if self.feedback_every and self._count % self.feedback_every == 0 and self.recent:
            # Taken, not just read: one vote per (request, book), as the API stores one row each.
            picked = self._rng.randrange(len(self.recent))
            request_id, book_id, userid = self.recent[picked]
            del self.recent[picked]
            body = {
                "userid": userid,
                "request_id": request_id,
                "book_id": book_id,
                "feedback": self._rng.choice((1, -1)),
            }
            return FEEDBACK, json.dumps(body).encode()
        return PREDICT, self.bodies[self._count % len(self.bodies)]

    def remember(self, answer: bytes, userid: str = "load") -> None:
        """Keep a /predict answer's request_id, first book and reader for later feedback."""
        parsed = json.loads(answer)
        if parsed.get("books"):
            self.recent.append((parsed["request_id"], int(parsed["books"][0]["book_id"]), userid))


async def connection_loop(
    port: int, traffic: Traffic, tally: Tally, stop_at: float, max_requests: int, due: DueTimes | None
) -> None:
    """Requests on one connection until ``stop_at``, ``max_requests`` or the schedule runs out.

    Without ``due`` it sends back to back (closed loop); with it, each request waits for its
    due time and its latency counts from then (open loop).
    """
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for _ in range(max_requests):
            now = time.perf_counter()
            started = now
            if due is not None:
                started = due.take()
                if started >= stop_at:
                    return
                if started > now:
                    await asyncio.sleep(started - now)
                elif now - started > 0.010:
                    tally.late_starts += 1
            elif now >= stop_at:
                return
            route, body = traffic.next()
            try:
                status, answer = await exchange(reader, writer, route, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                tally.errors[route] += 1
                return
            latency = time.perf_counter() - started
            tally.latencies[route].append(latency)
            tally.timeline.append((started - tally.started_at, latency))
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status == 200:
                tally.answered[route] += 1
                if route == PREDICT:
                    traffic.remember(answer, json.loads(body)["userid"])
            else:
                tally.errors[route] += 1
    finally:
        writer.close()


class DueTimes:
    """The open loop's schedule: the *i*-th request is due at ``start + i / rate_rps``."""

    def __init__(self, start: float, rate_rps: float) -> None:
        self.start = start
        self.interval = 1.0 / rate_rps
        self._next = 0

    def take(self) -> float:
        due = self.start + self._next * self.interval
        self._next += 1
        return due


async def drive(
    port: int, traffic: Traffic, seconds: float, concurrency: int, rate_rps: float | None
) -> Tally:
    """``concurrency`` connections for ``seconds``: as fast as answered, or at ``rate_rps``."""
    started = time.perf_counter()
    tally = Tally(started_at=started)
    stop_at = started + seconds
    due = DueTimes(started, rate_rps) if rate_rps else None
    # A bound on each loop's requests, far above what the time allows, so no loop can run away.
    cap = int(seconds * (rate_rps or 20_000)) + 1
    loops: list[Coroutine[Any, Any, None]] = [
        connection_loop(port, traffic, tally, stop_at, cap, due) for _ in range(concurrency)
    ]
    await asyncio.gather(*loops)
    tally.seconds = time.perf_counter() - started
    return tally


def run_async(coroutine: Coroutine[Any, Any, Tally]) -> Tally:
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


def histogram(port: int, route: str) -> dict[float, float]:
    """The server's cumulative latency histogram of POST ``route``: bucket upper bound (s) -> count."""
    text = httpx.get(f"http://{HOST}:{port}/metrics", timeout=10).text
    prefix = "readcrumbs_http_request_duration_seconds_bucket{"
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(prefix) and f'route="{route}"' in line and 'method="POST"' in line:
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def server_quantile_ms(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The ``q`` quantile (0..1) of the server-side latency between two scrapes, as the upper bound
    (ms) of the bucket it falls in: the server's own view, without the client or the network."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if total and count >= q * total:
            return bound * 1000.0
    return float("nan")


def count_rows(database: Path) -> dict[str, int]:
    """Rows per event table, read with plain sqlite3 after the server has exited."""
    with sqlite3.connect(database) as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("predictions", "feedback")
        }


def run(source: ModelSource, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-load-") as tmp:
        work = Path(tmp)
        env = {**server_env(work, source), "READCRUMBS_RATE_LIMIT_PER_MIN": "0"}
        traffic = Traffic(request_bodies(source), args.feedback_every)
        port = free_port()
        command = [sys.executable, "-m", "backend", "--host", HOST, "--port", str(port)]
        with running(command, env) as process:
            wait_for(f"http://{HOST}:{port}/ready", process)
            warmup = run_async(drive(port, traffic, args.warmup, args.concurrency, None))
            probe = run_async(drive(port, traffic, args.probe, args.concurrency, None))
            max_rps = probe.requests / probe.seconds
            target_rps = max_rps * args.load
            before = histogram(port, PREDICT)
            sustained = run_async(drive(port, traffic, args.duration, args.open_connections, target_rps))
            after = histogram(port, PREDICT)
        # `running` sent SIGTERM and waited: the shutdown has written every queued record.
        exit_status = process.returncode
        rows = count_rows(work / "events.db")
        spool = work / "home" / "spool" / "events.jsonl"
        spooled = sum(1 for _ in spool.open()) if spool.exists() else 0
    answered = {
        route: sum(tally.answered[route] for tally in (warmup, probe, sustained))
        for route in (PREDICT, FEEDBACK)
    }
    return {
        "model": asdict(source),
        "concurrency": args.concurrency,
        "open_connections": args.open_connections,
        "load": args.load,
        "max": asdict(figures(probe)),
        "target_rps": target_rps,
        "sustained": asdict(figures(sustained)),
        "timeline": [asdict(window) for window in timeline(sustained)],
        "server_predict_p50_ms": server_quantile_ms(before, after, 0.50),
        "server_predict_p99_ms": server_quantile_ms(before, after, 0.99),
        "statuses": {str(k): v for k, v in sorted(sustained.statuses.items())},
        "answered": {"predictions": answered[PREDICT], "feedback": answered[FEEDBACK]},
        "written": rows,
        "spooled_at_exit": spooled,
        "server_exit_status": exit_status,
    }


def report(results: dict[str, Any]) -> str:
    model = results["model"]
    what = "synthetic 10k-book ALS" if model["synthetic"] else f"{model['model_name']} production"
    probe, sustained = results["max"], results["sustained"]
    answered, written = results["answered"], results["written"]
    lines = [
        f"model: {what}; one uvicorn worker on 127.0.0.1; keep-alive connections: {results['concurrency']} "
        f"for the maximum, {results['open_connections']} for the sustained load",
        f"maximum: {probe['throughput_rps']:.0f} req/s over {probe['seconds']:.0f} s "
        f"(p50 {probe['predict_p50_ms']:.2f} ms, p99 {probe['predict_p99_ms']:.2f} ms, "
        f"{probe['errors']} errors)",
        f"sustained at {results['load']:.0%}: target {results['target_rps']:.0f} req/s, "
        f"achieved {sustained['throughput_rps']:.0f} req/s over {sustained['seconds']:.0f} s, "
        f"{sustained['requests']} requests, {sustained['errors']} errors, "
        f"{sustained['late_starts']} sent >10 ms late",
        f"  /predict  p50 {sustained['predict_p50_ms']:.2f} ms  p99 {sustained['predict_p99_ms']:.2f} ms "
        f"(server side, bucket bounds: p50 <= {results['server_predict_p50_ms']:g} ms, "
        f"p99 <= {results['server_predict_p99_ms']:g} ms)",
        f"  /feedback p50 {sustained['feedback_p50_ms']:.2f} ms  p99 {sustained['feedback_p99_ms']:.2f} ms",
        f"  statuses: {results['statuses']}",
        "  over time (start s: req/s, p50 ms, p99 ms): "
        + "; ".join(
            f"{w['start_s']:.0f}: {w['throughput_rps']:.0f}, {w['p50_ms']:.1f}, {w['p99_ms']:.1f}"
            for w in results.get("timeline", [])
        ),
        f"records: predictions {written['predictions']} written / {answered['predictions']} answered, "
        f"feedback {written['feedback']} written / {answered['feedback']} answered "
        f"(after SIGTERM; {results['spooled_at_exit']} left in the spool; "
        f"server exit {results['server_exit_status']})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of sustained load (300)")
    parser.add_argument("--probe", type=float, default=10.0, help="seconds measuring the maximum (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring (2)")
    parser.add_argument("--load", type=float, default=0.8, help="share of the maximum to sustain (0.8)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections measuring the maximum (8)")
    parser.add_argument(
        "--open-connections",
        type=int,
        default=32,
        help="connections of the sustained load (32): enough that a slow answer delays no due request",
    )
    parser.add_argument("--feedback-every", type=int, default=5, help="every Nth request is feedback (5)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--first-port", type=int, default=0, help="server port from here (default: any free)")
    args = parser.parse_args(argv)
    use_ports(args.first_port)
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-load-model-") as tmp:
        results = run(pick_model(Path(tmp)), args)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
