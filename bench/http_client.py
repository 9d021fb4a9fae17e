"""A small asyncio HTTP/1.1 client for the benches, and wrk when it is installed.

The client keeps ``concurrency`` keep-alive connections posting JSON bodies (so the generator
costs little CPU next to the server); :func:`exchange` is one request on such a connection,
shared by ``bench.api`` (closed loop) and ``bench.load`` (open loop). :func:`drive_wrk` runs the
same load with wrk (C, one thread), the cheaper generator on a shared machine.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HOST = "127.0.0.1"


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if seconds else float("nan")


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, route: str, body: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 POST on a keep-alive connection: its status and body."""
    head = (
        f"POST {route} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    writer.write(head + body)
    response_head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in response_head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return int(response_head[9:12]), await reader.readexactly(length)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float


async def _connection(
    port: int, bodies: list[bytes], stop_at: float, latencies: list[float], statuses: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    index = random.randrange(len(bodies))
    try:
        while time.perf_counter() < stop_at:
            body = bodies[index % len(bodies)]
            index += 1
            started = time.perf_counter()
            status, _ = await exchange(reader, writer, "/predict", body)
            latencies.append(time.perf_counter() - started)
            statuses.append(status)
    finally:
        writer.close()


@dataclass
class Tally:
    """What one server answered so far, over one or more slices of load; latencies in seconds."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def result(self) -> LoadResult:
        return LoadResult(
            requests=len(self.statuses),
            errors=sum(status != 200 for status in self.statuses),
            seconds=self.seconds,
            throughput_rps=len(self.statuses) / self.seconds if self.seconds else float("nan"),
            p50_ms=percentile_ms(self.latencies, 50),
            p99_ms=percentile_ms(self.latencies, 99),
        )


async def _drive(port: int, bodies: list[bytes], seconds: float, concurrency: int, tally: Tally) -> None:
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_connection(port, bodies, stop_at, tally.latencies, tally.statuses) for _ in range(concurrency))
    )
    tally.seconds += time.perf_counter() - started


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop when installed (a cheaper client), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def drive(port: int, bodies: list[bytes], seconds: float, concurrency: int) -> LoadResult:
    """``concurrency`` keep-alive connections posting ``bodies`` in turn for ``seconds``."""
    tally = Tally()
    run_loop(_drive(port, bodies, seconds, concurrency, tally))
    return tally.result()


def drive_interleaved(
    ports: Mapping[str, int], bodies: list[bytes], seconds: float, concurrency: int, rounds: int
) -> dict[str, LoadResult]:
    """Drive each server for ``seconds`` in all, as ``rounds`` slices taken in turn (each round
    starting one server later), so a neighbour's load on a shared machine falls on every server
    alike rather than on whichever ran while it did."""
    names = list(ports)
    tallies = {name: Tally() for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            run_loop(_drive(ports[name], bodies, seconds / rounds, concurrency, tallies[name]))
    return {name: tally.result() for name, tally in tallies.items()}


# -- wrk --------------------------------------------------------------------------------------
# Posts the bodies of a file (one JSON per line) in turn, then prints one JSON line: counts and
# 1,000 latency quantiles (µs, at 0.05 %, 0.15 %, … 99.95 %), each standing for a thousandth of
# the requests, so slices can be merged into percentiles of the whole run.
WRK_SCRIPT = """
local bodies, n, at = {}, 0, 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; bodies[n] = line end
  at = math.random(n)
end
request = function()
  at = at % n + 1
  return wrk.format("POST", "/predict", {["Content-Type"] = "application/json"}, bodies[at])
end
done = function(summary, latency, requests)
  local e = summary.errors
  local parts = {}
  for i = 0, 999 do parts[#parts + 1] = string.format("%d", latency:percentile(i / 10 + 0.05)) end
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"quantiles_us":[%s]}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    table.concat(parts, ",")))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkTally:
    """What one server answered under wrk, over one or more slices.

    Latencies are kept as (milliseconds, weight) samples: each slice's 1,000 quantiles, each
    weighing a thousandth of that slice's requests.
    """

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)

    def add(self, report: Mapping[str, Any]) -> None:
        requests = int(report["requests"])
        self.requests += requests
        self.errors += int(report["non2xx"]) + int(report["socket_errors"])
        self.seconds += int(report["duration_us"]) / 1e6
        quantiles = report["quantiles_us"]
        self.samples += [(float(us) / 1000.0, requests / len(quantiles)) for us in quantiles]

    def percentile_ms(self, q: float) -> float:
        if not self.samples:
            return float("nan")
        samples = sorted(self.samples)
        values = np.array([value for value, _ in samples])
        cumulative = np.cumsum([weight for _, weight in samples])
        at = int(np.searchsorted(cumulative, q / 100.0 * cumulative[-1]))
        return float(values[min(at, len(values) - 1)])

    def result(self) -> LoadResult:
        return LoadResult(
            requests=self.requests,
            errors=self.errors,
            seconds=self.seconds,
            throughput_rps=self.requests / self.seconds if self.seconds else float("nan"),
            p50_ms=self.percentile_ms(50),
            p99_ms=self.percentile_ms(99),
        )


def drive_wrk_slice(
    port: int, bodies_file: Path, script: Path, seconds: float, concurrency: int
) -> dict[str, Any]:
    """One wrk run (one thread, ``concurrency`` connections) against ``/predict`` on ``port``."""
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}/predict",
        "--",
        str(bodies_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def drive_interleaved_wrk(
    ports: Mapping[str, int], bodies: list[bytes], seconds: float, concurrency: int, rounds: int
) -> dict[str, LoadResult]:
    """:func:`drive_interleaved` with wrk as the load generator."""
    names = list(ports)
    tallies = {name: WrkTally() for name in names}
    with tempfile.TemporaryDirectory(prefix="readcrumbs-wrk-") as tmp:
        script, bodies_file = Path(tmp) / "post.lua", Path(tmp) / "bodies.jsonl"
        script.write_text(WRK_SCRIPT)
        bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
        for round_number in range(rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                tallies[name].add(
                    drive_wrk_slice(ports[name], bodies_file, script, seconds / rounds, concurrency)
                )
    return {name: tally.result() for name, tally in tallies.items()}
