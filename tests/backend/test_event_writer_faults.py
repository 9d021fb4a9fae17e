"""The event writer when its own safety nets fail: a spool on a full disk, a malformed record.

A full disk is real, not mocked: the spool file is pointed at ``/dev/full``, where every write
fails with ENOSPC, exactly as on a full file system.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import pytest

from backend import event_writer
from backend.errors import EventLogUnavailable
from backend.event_writer import Spool, decode
from backend.metrics import Metrics
from readcrumbs.events.memory import MemoryEventStore
from tests.backend.fakes import FlakyStore
from tests.backend.test_event_writer import feedback, make_writer, prediction, wait_until

DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full (Linux)")


def fill_disk(spool: Spool) -> None:
    """Make every append to ``spool`` fail with ENOSPC."""
    spool.path.unlink(missing_ok=True)
    spool.path.symlink_to(DEV_FULL)


def free_disk(spool: Spool) -> None:
    spool.path.unlink()


def metric(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


@needs_dev_full
def test_a_full_disk_holds_records_in_memory_until_the_store_recovers(tmp_path, caplog):
    store = FlakyStore()
    store.down = True
    metrics = Metrics()
    writer = make_writer(store, tmp_path, metrics=metrics)
    fill_disk(writer.spool)
    writer.start()
    records = [prediction(i) for i in range(5)] + [feedback(5)]
    with caplog.at_level("ERROR", logger="backend.event_writer"):
        for record in records:
            writer.submit(record)
        wait_until(lambda: metric(metrics, "readcrumbs_event_spool_failures_total") >= 1)
    # Exact at every read, retries included: held records stay counted while they are retried.
    for _ in range(20):
        assert metric(metrics, "readcrumbs_event_held_records") == 6
    assert writer.spool.count == 0
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("cannot write the event spool" in message for message in errors)
    store.down = False
    wait_until(lambda: len(store.predictions()) == 5 and len(store.feedback()) == 1)
    writer.close()
    assert writer.held == 0
    assert metric(metrics, "readcrumbs_events_dropped_total") == 0


@needs_dev_full
def test_beyond_the_memory_bound_new_records_are_refused_never_dropped(tmp_path):
    store = FlakyStore()
    store.down = True
    metrics = Metrics()
    writer = make_writer(store, tmp_path, metrics=metrics, queue_size=4)  # not started: nothing drains
    fill_disk(writer.spool)
    for i in range(8):  # 4 queued, then 4 held after failed spools
        writer.submit(prediction(i))
    for i in range(8, 12):  # memory full too: refused, so the caller answers 503, not 200
        with pytest.raises(EventLogUnavailable, match="retry in 5 s") as refused:
            writer.submit(prediction(i))
        assert refused.value.retry_after_s == 5
    assert (writer.queue_depth, writer.held) == (4, 4)
    assert metric(metrics, "readcrumbs_events_dropped_total") == 0
    # The disk comes back: everything accepted reaches the store.
    free_disk(writer.spool)
    store.down = False
    writer.start()
    writer.close()
    assert len(store.predictions()) == 8


@needs_dev_full
def test_durable_mode_refuses_a_record_the_disk_cannot_take(tmp_path):
    store = MemoryEventStore()
    writer = make_writer(store, tmp_path, durable=True)
    fill_disk(writer.spool)
    with pytest.raises(EventLogUnavailable):
        writer.submit(prediction(0))
    free_disk(writer.spool)
    writer.submit(prediction(1))
    assert writer.spool.count == 1  # on disk (fsync'd) before submit returned
    writer.start()
    wait_until(lambda: len(store.predictions()) == 1)
    writer.close()
    assert writer.spool.count == 0


@needs_dev_full
def test_shutdown_with_neither_store_nor_disk_counts_the_loss_loudly(tmp_path, caplog):
    store = FlakyStore()
    store.down = True
    metrics = Metrics()
    writer = make_writer(store, tmp_path, metrics=metrics)
    fill_disk(writer.spool)
    writer.start()
    for i in range(3):
        writer.submit(prediction(i))
    with caplog.at_level("ERROR", logger="backend.event_writer"):
        writer.close()
    assert metric(metrics, "readcrumbs_events_dropped_total") == 3
    assert any("lost 3 event records at shutdown" in r.getMessage() for r in caplog.records)


def test_an_append_cut_short_by_a_full_disk_leaves_no_half_line(tmp_path, monkeypatch):
    spool = Spool(tmp_path)
    first = prediction(0)
    spool.append([first])
    size = spool.path.stat().st_size
    real_write_all = event_writer._write_all

    def half_then_enospc(fd: int, data: bytes) -> None:
        real_write_all(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(event_writer, "_write_all", half_then_enospc)
    with pytest.raises(OSError, match="No space left"):
        spool.append([prediction(1), prediction(2)])
    assert spool.path.stat().st_size == size
    assert spool.count == 1
    monkeypatch.setattr(event_writer, "_write_all", real_write_all)
    second = prediction(3)
    spool.append([second])
    lines = spool.path.read_text(encoding="utf-8").splitlines()
    assert [decode(line) for line in lines] == [first, second]


class RefusesMalformed(MemoryEventStore):
    """Raises ValueError, as the real stores' codec does, for a record whose userid is 'malformed'."""

    def write_predictions(self, records):
        if any(record.userid == "malformed" for record in records):
            raise ValueError("userid 'malformed' is not a valid record (test)")
        super().write_predictions(records)


def test_a_malformed_record_is_set_aside_and_does_not_block_the_others(tmp_path, caplog):
    # Regression: every store exception used to be spooled, so one malformed record was replayed
    # forever and every later record queued up behind it in the spool.
    store = RefusesMalformed()
    metrics = Metrics()
    writer = make_writer(store, tmp_path, metrics=metrics)
    bad = dataclasses.replace(prediction(0), userid="malformed")
    good = [prediction(i) for i in range(1, 5)]
    with caplog.at_level("ERROR", logger="backend.event_writer"):
        writer.submit(good[0])
        writer.submit(bad)
        for record in good[1:]:
            writer.submit(record)
        writer.start()
        wait_until(lambda: len(store.predictions()) == 4)
    writer.submit(prediction(9))
    wait_until(lambda: len(store.predictions()) == 5)
    writer.close()
    assert writer.spool.count == 0
    assert metric(metrics, "readcrumbs_events_rejected_total") == 1
    assert [decode(line) for line in writer.spool.rejected_path.read_text().splitlines()] == [bad]
    assert any(bad.request_id in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_a_malformed_record_already_in_the_spool_is_set_aside_on_replay(tmp_path):
    spool_dir = tmp_path / "spool"
    bad = dataclasses.replace(prediction(0), userid="malformed")
    good = prediction(1)
    Spool(spool_dir).append([bad, good])
    store = RefusesMalformed()
    writer = make_writer(store, tmp_path)
    writer.start()
    wait_until(lambda: len(store.predictions()) == 1)
    writer.close()
    assert [r.request_id for r in store.predictions()] == [good.request_id]
    assert writer.spool.count == 0
