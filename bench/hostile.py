"""The normal mix with and without a hostile one beside it: normal clients' p50/p99 both ways.

Normal clients (bench/load.py's traffic: /predict with every 5th request a /feedback, at a fixed
rate, from 127.0.0.1 like the readers' app) run twice for the same time on one backend: alone,
then with hostile clients from 127.0.0.2 (another client to the server, same machine):

- slow clients: ``--slow`` sockets, each sending half a request line, re-opened as soon as the
  server closes them (header timeout, per-client cap);
- unknown-title floods: ``--floods`` connections sending /predicts of 500 long titles that match
  nothing, as fast as answered (the rate limit and the CPU pool should contain them);
- feedback replays: ``--replays`` connections sending the same vote about one prediction again
  and again (idempotent: one row).

``python -m bench.hostile [--seconds 20] [--rate 200]`` (``make bench-load`` runs it after bench.load)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.http_client import HOST
from bench.load import Traffic, drive, figures
from bench.models import pick_model, request_bodies
from bench.servers import free_port, running, server_env, wait_for

HOSTILE_HOST = "127.0.0.2"


def flood_body(rng: random.Random) -> bytes:
    """500 titles of 120 random letters: nothing resolves, every item asks for fuzzy work."""
    items = ["".join(rng.choices("qxzjvkwy ", k=120)) for _ in range(500)]
    return json.dumps({"items": items, "userid": "flood"}).encode()


def request_bytes(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def read_answer(reader: asyncio.StreamReader) -> int:
    """One HTTP answer's status (the body is read and dropped)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def slow_client(port: int, stop_at: float, tally: Counter[str]) -> None:
    """Half a request line, held until the server closes it; then again."""
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection(HOST, port, local_addr=(HOSTILE_HOST, 0))
        except OSError:
            tally["slow: connect refused"] += 1
            await asyncio.sleep(0.1)
            continue
        writer.write(b"GET /health HTTP/1.1\r\nHost: x")
        try:
            answer = await asyncio.wait_for(reader.read(64), timeout=max(stop_at - time.monotonic(), 0.01))
            tally[f"slow: {answer[9:12].decode(errors='replace') or 'closed'}"] += 1
        except (TimeoutError, OSError):
            tally["slow: still held at the end"] += 1
        writer.close()


async def repeating_client(port: int, stop_at: float, path: str, body: bytes, tally: Counter[str]) -> None:
    """The same request again and again on one keep-alive connection, as fast as answered."""
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection(HOST, port, local_addr=(HOSTILE_HOST, 0))
            while time.monotonic() < stop_at:
                writer.write(request_bytes(path, body))
                tally[f"{path}: {await read_answer(reader)}"] += 1
            writer.close()
        except (OSError, asyncio.IncompleteReadError):
            tally[f"{path}: connection lost"] += 1
            await asyncio.sleep(0.05)


async def hostile_mix(port: int, seconds: float, args: argparse.Namespace, vote: bytes) -> Counter[str]:
    tally: Counter[str] = Counter()
    stop_at = time.monotonic() + seconds
    rng = random.Random(7)
    tasks = [slow_client(port, stop_at, tally) for _ in range(args.slow)]
    tasks += [repeating_client(port, stop_at, "/predict", flood_body(rng), tally) for _ in range(args.floods)]
    tasks += [repeating_client(port, stop_at, "/feedback", vote, tally) for _ in range(args.replays)]
    await asyncio.gather(*tasks)
    return tally


async def both(
    port: int, traffic: Traffic, args: argparse.Namespace, vote: bytes
) -> tuple[Any, Counter[str]]:
    normal, hostile = await asyncio.gather(
        drive(port, traffic, args.seconds, args.concurrency, args.rate),
        hostile_mix(port, args.seconds, args, vote),
    )
    return normal, hostile


def a_vote(port: int, body: bytes) -> bytes:
    """A valid like of the first book of one fresh prediction (the replays send it over and over)."""
    shown = httpx.post(
        f"http://{HOST}:{port}/predict", content=body, headers={"content-type": "application/json"}
    )
    shown.raise_for_status()
    answer = shown.json()
    userid = json.loads(body)["userid"]
    vote = {"userid": userid, "request_id": answer["request_id"], "book_id": answer["books"][0]["book_id"]}
    return json.dumps({**vote, "feedback": 1}).encode()


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-hostile-") as tmp:
        work = Path(tmp)
        source = pick_model(work / "model")
        env = server_env(work, source)  # the default rate limit applies; 127.0.0.1 is exempt
        port = free_port()
        traffic = Traffic(request_bodies(source), feedback_every=5)
        command = [sys.executable, "-m", "backend", "--host", HOST, "--port", str(port)]
        with running(command, env) as process:
            wait_for(f"http://{HOST}:{port}/ready", process)
            vote = a_vote(port, traffic.bodies[0])
            asyncio.run(drive(port, traffic, 2.0, args.concurrency, args.rate))  # warm-up
            alone = asyncio.run(drive(port, traffic, args.seconds, args.concurrency, args.rate))
            beside, hostile = asyncio.run(both(port, traffic, args, vote))
        with sqlite3.connect(work / "events.db") as conn:
            votes = conn.execute(
                "SELECT count(*) FROM feedback WHERE request_id = ?", (json.loads(vote)["request_id"],)
            ).fetchone()[0]
    return {
        "alone": figures(alone).__dict__,
        "beside_hostile": figures(beside).__dict__,
        "hostile": dict(sorted(hostile.items())),
        "replayed_vote_rows": votes,
    }


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    alone, beside = results["alone"], results["beside_hostile"]
    lines = [
        f"normal mix: {args.concurrency} connections at {args.rate:.0f} req/s for {args.seconds:.0f} s "
        f"(every 5th a /feedback), from {HOST}; hostile: {args.slow} slow sockets, {args.floods} "
        f"unknown-title floods, {args.replays} feedback replays, from {HOSTILE_HOST}",
        "normal clients        | req/s | errors | /predict p50 ms | p99 ms | /feedback p50 ms | p99 ms",
    ]
    for name, phase in (("alone", alone), ("beside the hostile", beside)):
        lines.append(
            f"{name:21} | {phase['throughput_rps']:5.0f} | {phase['errors']:6d} | "
            f"{phase['predict_p50_ms']:15.2f} | {phase['predict_p99_ms']:6.2f} | "
            f"{phase['feedback_p50_ms']:16.2f} | {phase['feedback_p99_ms']:6.2f}"
        )
    lines.append(
        "hostile answers: " + ", ".join(f"{key} x{count}" for key, count in results["hostile"].items())
    )
    lines.append(
        f"rows for the replayed vote: {results['replayed_vote_rows']} (one vote per request and book)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of each phase (20)")
    parser.add_argument("--rate", type=float, default=200.0, help="normal requests a second (200)")
    parser.add_argument("--concurrency", type=int, default=16, help="normal keep-alive connections (16)")
    parser.add_argument(
        "--slow", type=int, default=200, help="slow hostile sockets (200: under the per-client cap of 256)"
    )
    parser.add_argument("--floods", type=int, default=4, help="unknown-title flood connections (4)")
    parser.add_argument("--replays", type=int, default=2, help="feedback replay connections (2)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = run(args)
    print(report(results, args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
