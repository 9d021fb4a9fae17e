"""bench/load.py: the traffic mix, the open-loop schedule, the report, and a short real run in which
every answered request is written to SQLite."""

from __future__ import annotations

import argparse
import json

import pytest

from bench.api import ModelSource
from bench.load import FEEDBACK, PREDICT, DueTimes, Tally, Traffic, report, run, server_quantile_ms, timeline
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.backend.tiny import MODEL_NAME, register_version


def answer(request_id: str, book_id: int) -> bytes:
    return json.dumps({"request_id": request_id, "books": [{"book_id": book_id}]}).encode()


def test_every_fifth_request_is_feedback_about_a_recent_answer():
    traffic = Traffic([b"p0", b"p1"], feedback_every=5)
    routes = [traffic.next()[0] for _ in range(5)]
    assert routes == [PREDICT] * 5  # no answer yet to give feedback about
    traffic.remember(answer("req-1", 42))
    sent = [traffic.next() for _ in range(5)]
    assert [route for route, _ in sent] == [PREDICT] * 4 + [FEEDBACK]
    feedback = json.loads(sent[-1][1])
    assert (feedback["request_id"], feedback["book_id"]) == ("req-1", 42)
    assert feedback["feedback"] in (1, -1)


def test_no_feedback_when_asked_for_none():
    traffic = Traffic([b"p"], feedback_every=0)
    traffic.remember(answer("req-1", 1))
    assert {traffic.next()[0] for _ in range(20)} == {PREDICT}


def test_the_open_loop_schedule_is_evenly_spaced_from_the_start():
    due = DueTimes(start=100.0, rate_rps=4.0)
    assert [due.take() for _ in range(4)] == [100.0, 100.25, 100.5, 100.75]


def test_report_names_every_figure():
    phase = {
        "requests": 10,
        "seconds": 1.0,
        "throughput_rps": 10.0,
        "errors": 0,
        "predict_p50_ms": 1.0,
        "predict_p99_ms": 2.0,
        "feedback_p50_ms": 1.5,
        "feedback_p99_ms": 2.5,
        "late_starts": 0,
    }
    text = report(
        {
            "model": {"registry_url": "file:///r", "model_name": "readcrumbs", "synthetic": True},
            "concurrency": 4,
            "open_connections": 16,
            "load": 0.8,
            "max": phase,
            "target_rps": 8.0,
            "sustained": phase,
            "statuses": {"200": 10},
            "timeline": [{"start_s": 0.0, "throughput_rps": 10.0, "p50_ms": 1.0, "p99_ms": 2.0}],
            "server_predict_p50_ms": 2.5,
            "server_predict_p99_ms": 10.0,
            "answered": {"predictions": 8, "feedback": 2},
            "written": {"predictions": 8, "feedback": 2},
            "spooled_at_exit": 0,
            "server_exit_status": -15,
        }
    )
    for phrase in (
        "maximum: 10 req/s",
        "sustained at 80%",
        "p99 <= 10 ms",
        "0: 10, 1.0, 2.0",
        "predictions 8 written / 8 answered",
    ):
        assert phrase in text


def test_server_quantiles_come_from_the_histogram_between_two_scrapes():
    before = {0.001: 10.0, 0.005: 10.0, 0.01: 10.0, float("inf"): 10.0}
    after = {0.001: 60.0, 0.005: 108.0, 0.01: 109.0, float("inf"): 110.0}  # 100 new: 50, 48, 1, 1
    assert server_quantile_ms(before, after, 0.50) == 1.0
    assert server_quantile_ms(before, after, 0.98) == 5.0
    assert server_quantile_ms(before, after, 0.99) == 10.0
    assert server_quantile_ms(after, after, 0.5) != server_quantile_ms(after, after, 0.5)  # no data: NaN


def test_the_timeline_shows_latency_drifting_over_the_phase():
    tally = Tally(seconds=4.0, timeline=[(0.1, 0.001), (1.5, 0.002), (2.5, 0.1), (3.9, 0.2)])
    windows = timeline(tally, windows=2)
    assert [w.start_s for w in windows] == [0.0, 2.0]
    assert [w.throughput_rps for w in windows] == [1.0, 1.0]
    assert windows[0].p99_ms < 3.0 < 100.0 <= windows[1].p50_ms


@pytest.mark.slow
def test_a_short_run_writes_every_answered_request(tmp_path):
    registry = Registry(FolderBlobStore(tmp_path / "registry"))
    register_version(registry, neighbours=10, promote=True)
    source = ModelSource(f"file://{tmp_path / 'registry'}", MODEL_NAME, synthetic=False)
    args = argparse.Namespace(
        duration=1.5, probe=1.0, warmup=0.3, load=0.8, concurrency=2, open_connections=4, feedback_every=5
    )
    results = run(source, args)
    assert results["server_exit_status"] in (0, -15)
    assert results["sustained"]["errors"] == 0 and results["max"]["errors"] == 0
    assert results["answered"]["feedback"] > 0
    assert results["written"] == results["answered"]
    assert results["spooled_at_exit"] == 0
    assert results["target_rps"] == pytest.approx(0.8 * results["max"]["throughput_rps"])
