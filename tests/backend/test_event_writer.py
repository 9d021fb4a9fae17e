"""The event writer: batching, spool-and-replay in order, a full queue, shutdown flush."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.event_writer import (
    EventRecord,
    EventWriter,
    PendingPredictions,
    Spool,
    decode,
    encode,
    runs_by_kind,
)
from backend.metrics import Metrics
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord, new_id, utc_now_iso
from tests.backend.fakes import FlakyStore


def prediction(n: int = 0) -> PredictionRecord:
    return PredictionRecord(
        request_id=new_id(),
        ts=utc_now_iso(),
        userid=f"user-{n}",
        items=["Emma"],
        item_ids=[10],
        prediction=["Pride and Prejudice"],
        prediction_ids=[9],
        scores=[0.5],
        latency_ms=1.25,
        model_version="1",
        unknown=[],
        k=1,
    )


def feedback(n: int = 0) -> FeedbackRecord:
    return FeedbackRecord(new_id(), utc_now_iso(), f"user-{n}", None, 9, "Pride and Prejudice", n, 1)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def make_writer(store, tmp_path: Path, **options) -> EventWriter:
    options = {"flush_s": 0.02, **options}
    return EventWriter(store, tmp_path / "spool", **options)


def test_records_reach_the_store_within_the_flush_interval(tmp_path):
    store = MemoryEventStore()
    writer = make_writer(store, tmp_path, flush_s=0.05)
    writer.start()
    records = [prediction(i) for i in range(5)]
    started = time.monotonic()
    for record in records:
        writer.submit(record)
    wait_until(lambda: len(store.predictions()) == 5)
    assert time.monotonic() - started < 1.0
    writer.close()
    assert {r.request_id for r in store.predictions()} == {r.request_id for r in records}


def test_batches_are_cut_at_batch_size(tmp_path):
    store = FlakyStore()
    writer = make_writer(store, tmp_path, batch_size=3, flush_s=0.2)
    for i in range(7):
        writer.submit(prediction(i))
    writer.start()
    writer.close()
    assert len(store.predictions()) == 7
    assert store.write_calls == 3  # 3 + 3 + 1


def test_failed_writes_are_spooled_and_replayed_in_order(tmp_path):
    store = FlakyStore(failures=3)
    metrics = Metrics()
    writer = make_writer(store, tmp_path, metrics=metrics)
    writer.start()
    submitted = []
    for i in range(20):
        record = prediction(i) if i % 3 else feedback(i)
        submitted.append(record)
        writer.submit(record)
        time.sleep(0.005)
    wait_until(lambda: len(store.predictions()) + len(store.feedback()) == 20)
    writer.close()
    ids = [r.request_id if isinstance(r, PredictionRecord) else r.feedback_id for r in submitted]
    assert sorted(store.write_order) == sorted(ids)  # each written exactly once
    assert writer.spool.count == 0
    assert not writer.spool.path.exists() and not writer.spool.replay_path.exists()
    assert [r.request_id for r in store.predictions()] == [
        r.request_id for r in submitted if isinstance(r, PredictionRecord)
    ]
    assert [r.feedback_id for r in store.feedback()] == [
        r.feedback_id for r in submitted if isinstance(r, FeedbackRecord)
    ]
    assert metrics.event_store_failures._value.get() == 3


def test_nothing_new_overtakes_the_spool(tmp_path):
    store = FlakyStore()
    store.down = True
    writer = make_writer(store, tmp_path)
    writer.start()
    older = [prediction(i) for i in range(3)]
    for record in older:
        writer.submit(record)
    wait_until(lambda: writer.spool.count == 3)
    assert not writer.store_ok
    store.down = False
    newer = [prediction(i) for i in range(3, 6)]
    for record in newer:
        writer.submit(record)
    wait_until(lambda: len(store.predictions()) == 6)
    writer.close()
    assert store.write_order == [r.request_id for r in older + newer]
    assert writer.store_ok


def test_a_full_queue_spools_directly_without_waiting(tmp_path):
    store = MemoryEventStore()
    writer = make_writer(store, tmp_path, queue_size=2)  # not started: nothing drains the queue
    records = [prediction(i) for i in range(5)]
    started = time.monotonic()
    for record in records:
        writer.submit(record)
    assert time.monotonic() - started < 0.5
    assert writer.queue_depth == 2
    assert writer.spool.count == 3
    writer.start()
    writer.close()
    assert {r.request_id for r in store.predictions()} == {r.request_id for r in records}
    assert writer.spool.count == 0


def test_close_flushes_everything_queued(tmp_path):
    store = MemoryEventStore()
    writer = make_writer(store, tmp_path, flush_s=1.0, batch_size=10_000)
    writer.start()
    for i in range(300):
        writer.submit(prediction(i))
    writer.close()
    assert len(store.predictions()) == 300
    assert writer.queue_depth == 0


def test_close_with_the_store_down_keeps_records_on_disk_for_the_next_start(tmp_path):
    down = FlakyStore()
    down.down = True
    writer = make_writer(down, tmp_path)
    writer.start()
    records = [prediction(i) for i in range(4)] + [feedback(9)]
    for record in records:
        writer.submit(record)
    writer.close()
    assert down.predictions() == []
    assert writer.spool.count == 5
    # The next process finds the spool and replays it into a healthy store.
    healthy = MemoryEventStore()
    successor = make_writer(healthy, tmp_path)
    assert successor.spool.count == 5
    successor.start()
    wait_until(lambda: len(healthy.predictions()) == 4 and len(healthy.feedback()) == 1)
    successor.close()
    assert successor.spool.count == 0


def test_records_submitted_after_close_are_spooled(tmp_path):
    writer = make_writer(MemoryEventStore(), tmp_path)
    writer.start()
    writer.close()
    writer.submit(prediction())
    assert writer.spool.count == 1


def test_an_unexpected_store_exception_is_treated_as_a_failure(tmp_path):
    class Broken(MemoryEventStore):
        calls = 0

        def write_predictions(self, records):
            Broken.calls += 1
            if Broken.calls == 1:
                raise RuntimeError("driver bug")
            super().write_predictions(records)

    store = Broken()
    writer = make_writer(store, tmp_path)
    writer.start()
    writer.submit(prediction())
    wait_until(lambda: len(store.predictions()) == 1)
    writer.close()


def test_a_half_replayed_spool_resumes_where_it_stopped(tmp_path):
    spool = Spool(tmp_path)
    records = [prediction(i) for i in range(3)] + [feedback(3)]
    spool.append(records)
    written: list[EventRecord] = []
    calls = 0

    def write(run):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("store down mid-replay")
        written.extend(run)

    with pytest.raises(RuntimeError):
        spool.replay(write, batch_size=2)
    assert [r.request_id for r in written] == [r.request_id for r in records[:2]]
    assert spool.count == 2
    assert spool.replay(written.extend, batch_size=2)
    assert written[2:] == records[2:]
    assert spool.count == 0


def test_undecodable_spool_lines_are_set_aside(tmp_path):
    spool = Spool(tmp_path)
    good = prediction()
    spool.path.write_text(encode(good) + "\n" + '{"kind": "prediction", "request_i\n', encoding="utf-8")
    spool = Spool(tmp_path)
    assert spool.count == 2
    written: list[EventRecord] = []
    assert spool.replay(written.extend, batch_size=10)
    assert written == [good]
    assert spool.count == 0
    assert "request_i" in spool.rejected_path.read_text(encoding="utf-8")


def test_encode_decode_round_trip():
    for record in (prediction(), feedback()):
        line = encode(record)
        assert json.loads(line)["kind"] in ("prediction", "feedback")
        assert decode(line) == record
    with pytest.raises(ValueError):
        decode('{"kind": "other"}')


def test_runs_by_kind_keeps_order_and_cuts_long_runs():
    records: list[EventRecord] = [
        prediction(0),
        prediction(1),
        feedback(2),
        prediction(3),
        prediction(4),
        prediction(5),
    ]
    runs = runs_by_kind(records, batch_size=2)
    assert [len(run) for run in runs] == [2, 1, 2, 1]
    assert [r for run in runs for r in run] == records


def test_pending_predictions_forget_the_oldest():
    pending = PendingPredictions(capacity=2)
    records = [prediction(i) for i in range(3)]
    for record in (records[0], records[1], records[1], records[2]):
        pending.add(record)
    assert records[0].request_id not in pending
    assert records[1].request_id in pending and records[2].request_id in pending
    shown = pending.get(records[2].request_id)
    assert shown is not None and shown.book_ids == tuple(records[2].prediction_ids)
    assert shown.userid == records[2].userid
    assert shown.titles == tuple(records[2].prediction)


def test_what_pending_predictions_keep_leaves_the_garbage_collectors_passes():
    # A server keeps 50,000 of them: tracked, every full pass would walk them all, the GIL held.
    pending = PendingPredictions(capacity=1000)
    records = [prediction(i) for i in range(1000)]
    gc.collect()
    before = len(gc.get_objects())
    for record in records:
        pending.add(record)
    gc.collect()
    assert len(gc.get_objects()) - before < 100  # not one (or more) per entry


def test_queue_and_spool_are_exported_as_metrics(tmp_path):
    metrics = Metrics()
    store = FlakyStore()
    store.down = True
    writer = make_writer(store, tmp_path, metrics=metrics, queue_size=1)
    writer.submit(prediction())
    writer.submit(prediction())  # queue full: spooled
    text = metrics.exposition().decode()
    assert "readcrumbs_event_queue_depth 1.0" in text
    assert "readcrumbs_event_spool_records 1.0" in text
    writer.start()
    writer.close()
