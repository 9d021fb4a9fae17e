"""bench.durability: the report puts the queued and durable runs side by side."""

from __future__ import annotations

import argparse

from bench.durability import report


def test_report_has_one_line_per_mode():
    phase = {"throughput_rps": 400.0, "predict_p50_ms": 2.0, "predict_p99_ms": 9.0}
    results = [
        {"durable": False, "max": phase, "steady": phase, "answered_measured": 10, "written_total": 12},
        {"durable": True, "max": phase, "steady": phase, "answered_measured": 8, "written_total": 9},
    ]
    lines = report(results, argparse.Namespace(concurrency=8, seconds=10.0, rate=200.0)).splitlines()
    assert lines[2].startswith("queued") and lines[3].startswith("durable")
    assert "12 written" in lines[2] and "9 written" in lines[3]
