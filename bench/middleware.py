"""What each of the backend's ASGI middlewares costs per request, in microseconds (issue 13).

Each middleware wraps a trivial app that answers at once; the stack is called directly (no
server, no sockets) many times with a /predict-shaped POST scope, on one event loop. The figure is
the median over repetitions of the mean time per call, minus that of the bare app: what the
middleware adds to every request. None of them is Starlette's ``BaseHTTPMiddleware`` (which costs
a task and a stream per request).

``python -m bench.middleware [--calls 20000]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.metrics import Metrics
from backend.middleware import BodySizeLimit, RequestMetrics, SecurityHeaders
from backend.rate_limit import RateLimit

BODY = b'{"items": ["The Hobbit", "Dune", "Emma"], "userid": "reader-1"}'


async def answer_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b"{}"})


def scope() -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        "client": ("203.0.113.9", 50000),
    }


async def time_stack(app: ASGIApp, calls: int) -> float:
    """Mean seconds per call of ``app``."""

    async def receive() -> Message:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(calls):
        await app(scope(), receive, send)
    return (time.perf_counter() - started) / calls


STACKS: dict[str, Callable[[Metrics], ASGIApp]] = {
    "bare app": lambda metrics: answer_at_once,
    "BodySizeLimit": lambda metrics: BodySizeLimit(answer_at_once),
    "RateLimit": lambda metrics: RateLimit(answer_at_once, per_minute=10**9, metrics=metrics),
    "RequestMetrics (Prometheus)": lambda metrics: RequestMetrics(answer_at_once, metrics=metrics),
    "SecurityHeaders": lambda metrics: SecurityHeaders(answer_at_once),
    "all four": lambda metrics: SecurityHeaders(
        RequestMetrics(
            RateLimit(BodySizeLimit(answer_at_once), per_minute=10**9, metrics=metrics), metrics=metrics
        )
    ),
}


def measure(calls: int, repeats: int) -> dict[str, float]:
    """Median mean µs per call of every stack."""
    results: dict[str, float] = {}
    for name, build in STACKS.items():
        app = build(Metrics())
        runs = [asyncio.run(time_stack(app, calls)) for _ in range(repeats)]
        results[name] = statistics.median(runs) * 1e6
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.middleware", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per repetition (20000)")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions, median taken (5)")
    args = parser.parse_args(argv)
    results = measure(args.calls, args.repeats)
    bare = results["bare app"]
    print(f"{'stack':30} | µs/call | added µs")
    for name, micros in results.items():
        print(f"{name:30} | {micros:7.2f} | {micros - bare:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
