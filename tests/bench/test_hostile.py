"""bench.hostile: the hostile requests are what they claim, and the report shows both phases."""

from __future__ import annotations

import argparse
import asyncio
import json
import random

from backend.middleware import MAX_BODY_BYTES
from bench.hostile import flood_body, read_answer, report, request_bytes


def test_a_flood_body_is_500_unknown_titles_under_the_body_limit():
    body = flood_body(random.Random(0))
    assert len(body) < MAX_BODY_BYTES
    assert len(json.loads(body)["items"]) == 500


def test_request_bytes_announce_the_body_length():
    raw = request_bytes("/feedback", b'{"a": 1}')
    head, body = raw.split(b"\r\n\r\n")
    assert (
        head.startswith(b"POST /feedback HTTP/1.1") and b"Content-Length: 8" in head and body == b'{"a": 1}'
    )


def test_read_answer_reads_the_status_and_skips_the_body():
    async def parse() -> tuple[int, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"HTTP/1.1 429 Too Many\r\ncontent-length: 3\r\n\r\nabcNEXT")
        status = await read_answer(reader)
        return status, await reader.read(4)

    assert asyncio.run(parse()) == (429, b"NEXT")


def test_report_shows_normal_p99_alone_and_beside_the_hostile_mix():
    phase = {
        "throughput_rps": 200.0,
        "errors": 0,
        "predict_p50_ms": 1.0,
        "predict_p99_ms": 5.0,
        "feedback_p50_ms": 1.0,
        "feedback_p99_ms": 4.0,
    }
    results = {
        "alone": phase,
        "beside_hostile": {**phase, "predict_p99_ms": 9.5},
        "hostile": {"slow: 408": 3},
        "replayed_vote_rows": 1,
    }
    args = argparse.Namespace(concurrency=16, rate=200.0, seconds=20.0, slow=200, floods=4, replays=2)
    text = report(results, args)
    assert "alone" in text and "beside the hostile" in text and "9.50" in text and "slow: 408 x3" in text
