"""Writing event records off the request path, without ever losing one.

Requests hand records to :meth:`EventWriter.submit`, which only appends them to a bounded
in-memory queue. One background thread wakes every ``flush_s`` (at most a second), or as soon as
a full ``batch_size`` is waiting, takes everything queued and writes it in batches of at most
``batch_size``. Appending wakes nobody otherwise: a per-record wake-up (``queue.Queue.put``)
hands the GIL to the writer thread on every request, which cost /predict ~0.7 ms each.

When the store fails (down, locked, throttled), the batch is appended to a JSON-lines spool file
under ``$READCRUMBS_HOME/spool/`` and replayed, oldest first, before anything newer reaches the
store, once the store answers again (retries back off from ``flush_s`` to
:data:`MAX_RETRY_S`). When the queue is full the request spools its record itself rather than
wait. :meth:`EventWriter.close` (the app's shutdown, so SIGTERM too) drains the queue and tries
the spool one last time; whatever the store still refuses stays in the spool for the next start.

When the spool itself cannot be written (disk full, read-only), requests are still answered:
the records are held in memory, up to ``queue_size`` more, and written (or spooled) as soon as
either recovers; beyond that they are dropped. Each of these is loud: an ERROR log line and the
``readcrumbs_event_spool_failures`` / ``readcrumbs_events_dropped`` metrics. A record the store
refuses as malformed (``ValueError``/``TypeError``, see :mod:`readcrumbs.events.codec`) is set
aside in ``events.rejected.jsonl`` rather than spooled, so it cannot block every later record.

Store writes are idempotent on ``request_id``/``feedback_id``, so a replay that fails half-way
and is retried never duplicates a record. One process per ``$READCRUMBS_HOME`` owns the spool.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from backend.metrics import Metrics
from readcrumbs.events.base import EventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord

log = logging.getLogger(__name__)

EventRecord = PredictionRecord | FeedbackRecord
PREDICTION, FEEDBACK = "prediction", "feedback"
MAX_RETRY_S = 10.0
# At most one "dropped records" ERROR line this often (seconds); the metric counts every record.
DROP_LOG_EVERY_S = 10.0
# What a store raises for a malformed record (readcrumbs/events/codec.py): a bug, never retried.
MALFORMED = (ValueError, TypeError)
# Request ids this process issued, so feedback can name a prediction still waiting in the queue.
RECENT_REQUEST_IDS = 50_000


def kind_of(record: EventRecord) -> str:
    return PREDICTION if isinstance(record, PredictionRecord) else FEEDBACK


def encode(record: EventRecord) -> str:
    """One spool line: the record's fields plus its ``kind``."""
    return json.dumps({"kind": kind_of(record), **asdict(record)}, separators=(",", ":"))


def decode(line: str) -> EventRecord:
    """The record of one spool line; ``ValueError``/``TypeError``/``KeyError`` when it is not one."""
    fields: dict[str, Any] = json.loads(line)
    kind = fields.pop("kind")
    if kind == PREDICTION:
        return PredictionRecord(**fields)
    if kind == FEEDBACK:
        return FeedbackRecord(**fields)
    raise ValueError(f"unknown record kind {kind!r}")


def write_records(store: EventStore, records: Sequence[EventRecord]) -> None:
    """Write records of one kind in one call; raises whatever the store raises."""
    if isinstance(records[0], PredictionRecord):
        store.write_predictions([r for r in records if isinstance(r, PredictionRecord)])
    else:
        store.write_feedback([r for r in records if isinstance(r, FeedbackRecord)])


def runs_by_kind(records: Sequence[EventRecord], batch_size: int) -> list[list[EventRecord]]:
    """Consecutive records of one kind, in order, cut at ``batch_size``."""
    runs: list[list[EventRecord]] = []
    for record in records:
        if runs and kind_of(runs[-1][0]) == kind_of(record) and len(runs[-1]) < batch_size:
            runs[-1].append(record)
        else:
            runs.append([record])
    return runs


class Spool:
    """Records the store refused, in arrival order, as JSON lines in ``folder``.

    New records are appended to ``events.jsonl``. A replay first renames that file to
    ``events.replaying.jsonl`` (so appends go on meanwhile, to a fresh file) and works through it;
    what a failed replay leaves is written back there, ahead of anything appended since.
    Lines that cannot be decoded (a write cut short by a crash) go to ``events.rejected.jsonl``.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "events.jsonl"
        self.replay_path = folder / "events.replaying.jsonl"
        self.rejected_path = folder / "events.rejected.jsonl"
        self._lock = threading.Lock()
        self.count = sum(_count_lines(path) for path in (self.path, self.replay_path))

    def append(self, records: Sequence[EventRecord]) -> None:
        """Add records at the end; safe to call from any thread.

        Raises ``OSError`` (disk full, read-only) with the file as it was before: a write cut
        short is truncated away, so the spool never holds half a line.
        """
        if not records:
            return
        data = "".join(encode(record) + "\n" for record in records).encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size_before = os.fstat(fd).st_size
                try:
                    _write_all(fd, data)
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size_before)
                    raise
            finally:
                os.close(fd)
            self.count += len(records)

    def reject(self, record: EventRecord) -> None:
        """Set a malformed record aside in ``events.rejected.jsonl`` (best effort)."""
        try:
            with self._lock, self.rejected_path.open("a", encoding="utf-8") as handle:
                handle.write(encode(record) + "\n")
        except (OSError, ValueError, TypeError) as exc:
            log.error("could not set a malformed event record aside in %s: %s", self.rejected_path, exc)

    def replay(self, write: Callable[[list[EventRecord]], None], batch_size: int) -> bool:
        """Hand every spooled record to ``write`` in order; False (and nothing lost) if it raised.

        Only the writer thread calls this.
        """
        for _ in range(2):  # the replaying file, then what was appended while it was replayed
            with self._lock:
                if not self.replay_path.exists():
                    if not self.path.exists():
                        return True
                    os.replace(self.path, self.replay_path)
            lines = self.replay_path.read_text(encoding="utf-8").splitlines()
            records = self._decode(lines)
            written = 0
            try:
                for run in runs_by_kind(records, batch_size):
                    write(run)
                    written += len(run)
            except Exception:
                remaining = "".join(encode(record) + "\n" for record in records[written:])
                _replace_text(self.replay_path, remaining)
                with self._lock:
                    self.count -= len(lines) - (len(records) - written)
                raise
            self.replay_path.unlink()
            with self._lock:
                self.count -= len(lines)
        return self.count == 0

    def _decode(self, lines: list[str]) -> list[EventRecord]:
        records: list[EventRecord] = []
        for line in lines:
            try:
                records.append(decode(line))
            except (ValueError, TypeError, KeyError):
                log.error("spool line is not a record; kept in %s", self.rejected_path.name)
                with self.rejected_path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
        return records


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is out (a write may take only part of them)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:
            raise OSError(errno.ENOSPC, "no byte could be written")
        view = view[written:]


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class RecentIds:
    """The last ``capacity`` ids added, for membership tests; thread-safe."""

    def __init__(self, capacity: int) -> None:
        self._order: deque[str] = deque()
        self._members: set[str] = set()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            if value in self._members:
                return
            if len(self._order) >= self._capacity:
                self._members.discard(self._order.popleft())
            self._order.append(value)
            self._members.add(value)

    def __contains__(self, value: object) -> bool:
        return value in self._members


class EventWriter:
    """A bounded queue and one thread that writes its records to ``store`` in batches.

    ``queue_size``: records held in memory; ``batch_size``: most records per store call;
    ``flush_s``: longest a record waits in the queue (seconds, ≤ 1).
    """

    def __init__(
        self,
        store: EventStore,
        spool_dir: Path,
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_s: float = 0.5,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.spool = Spool(spool_dir)
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.metrics = metrics or Metrics()
        self.recent_request_ids = RecentIds(RECENT_REQUEST_IDS)
        self.store_ok = True
        self.queue_size = queue_size
        # deque.append and popleft are atomic, so requests and the writer need no lock.
        self._queue: deque[EventRecord] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._closed = False
        self._overflowing = False
        self._failures = 0
        self._retry_at = 0.0
        # Records neither the store nor the spool took (disk full), oldest first; at most queue_size.
        self._held: list[EventRecord] = []
        self._held_lock = threading.Lock()
        self._spool_failing = False
        self._dropped_unlogged = 0
        self._drop_logged_at = -DROP_LOG_EVERY_S
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self.metrics.watch_queue(self._queue.__len__, self._held.__len__)
        self.metrics.event_spool_records.set(self.spool.count)

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def held(self) -> int:
        """Records held in memory because the spool cannot be written."""
        return len(self._held)

    def start(self) -> None:
        self._thread.start()

    def submit(self, record: EventRecord) -> None:
        """Queue a record for writing; never waits (a full queue spools the record at once)."""
        if isinstance(record, PredictionRecord):
            self.recent_request_ids.add(record.request_id)
        depth = len(self._queue)
        if not self._closed and depth < self.queue_size:
            self._queue.append(record)
            self._overflowing = False
            if depth + 1 == self.batch_size:
                self._wake.set()  # a full batch need not wait for the next tick
            return
        if not self._overflowing and not self._closed:
            log.warning("event queue full (%d records); spooling records directly", depth)
            self._overflowing = True
        self._spool([record])
        self.metrics.event_spool_records.set(self.spool.count)

    def close(self, timeout: float = 30.0) -> None:
        """Write (or spool) everything queued, try the spool once more, and stop the thread."""
        self._closed = True
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("event writer still busy after %.0f s; spooling what is queued", timeout)
        # Whatever is left (thread never started, stuck on the store, a late submit) goes to disk.
        self._spool(self._drain())
        lost = self._take_held()
        if lost:
            self.metrics.events_dropped.inc(len(lost))
            log.error(
                "lost %d event records at shutdown: the event store failed and the spool %s "
                "cannot be written",
                len(lost),
                self.spool.path,
            )
        self.metrics.event_spool_records.set(self.spool.count)

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            stopping = self._stopping.is_set()
            batch = self._drain()
            try:
                self._flush(batch, final=stopping)
            except Exception:
                # A bug, not a store or disk failure (those are handled below); keep the thread alive.
                log.exception("could neither write nor spool %d event records", len(batch))
                self._hold(batch)
            if stopping:
                return
            self._wake.wait(self.flush_s)
            self._wake.clear()

    def _drain(self) -> list[EventRecord]:
        """Everything queued now, oldest first."""
        records: list[EventRecord] = []
        while True:
            try:
                records.append(self._queue.popleft())
            except IndexError:
                return records

    def _flush(self, batch: list[EventRecord], *, final: bool = False) -> None:
        # Held records came before this batch (and after everything in the spool).
        batch = self._take_held() + batch
        try:
            if self.spool.count and not self._replay(force=final):
                # Older records wait in the spool; newer ones queue up behind them to keep order.
                self._spool(batch)
                return
            written = 0
            for run in runs_by_kind(batch, self.batch_size):
                try:
                    self._write_run(run)
                except Exception as exc:
                    self._failed(exc)
                    self._spool(batch[written:])
                    return
                written += len(run)
        finally:
            self.metrics.event_spool_records.set(self.spool.count)

    def _replay(self, *, force: bool) -> bool:
        if not force and time.monotonic() < self._retry_at:
            return False
        before = self.spool.count
        try:
            done = self.spool.replay(self._write_run, self.batch_size)
        except Exception as exc:
            self._failed(exc)
            return False
        log.info("replayed %d spooled event records", before - self.spool.count)
        return done

    def _write_run(self, records: list[EventRecord]) -> None:
        """Write records of one kind; malformed ones are set aside, one by one, not retried."""
        try:
            self._write(records)
        except MALFORMED as exc:
            if len(records) == 1:
                self._reject(records[0], exc)
                return
            for record in records:  # find the bad ones; the store refused the batch before writing
                self._write_run([record])

    def _reject(self, record: EventRecord, exc: Exception) -> None:
        self.metrics.events_rejected.inc()
        record_id = record.request_id if isinstance(record, PredictionRecord) else record.feedback_id
        log.error(
            "the event store refused %s record %s as malformed (%s); set aside in %s",
            kind_of(record),
            record_id,
            exc,
            self.spool.rejected_path,
        )
        self.spool.reject(record)

    # -- when the spool cannot be written ---------------------------------------------------------
    def _spool(self, records: Sequence[EventRecord]) -> None:
        """Append to the spool; if the disk refuses, hold the records in memory instead."""
        if not records:
            return
        try:
            self.spool.append(records)
        except OSError as exc:
            self.metrics.event_spool_failures.inc()
            if not self._spool_failing:
                self._spool_failing = True
                log.error(
                    "cannot write the event spool %s (%s); holding up to %d records in memory until "
                    "the store or the disk recovers",
                    self.spool.path,
                    exc,
                    self.queue_size,
                )
            self._hold(records)
            return
        if self._spool_failing:
            self._spool_failing = False
            log.warning("the event spool %s is writable again", self.spool.path)

    def _hold(self, records: Sequence[EventRecord]) -> None:
        """Keep records in memory up to ``queue_size``; count (and log, now and then) the rest."""
        with self._held_lock:
            kept = records[: max(self.queue_size - len(self._held), 0)]
            self._held.extend(kept)
            dropped = len(records) - len(kept)
            if not dropped:
                return
            self._dropped_unlogged += dropped
            now = time.monotonic()
            due = now - self._drop_logged_at >= DROP_LOG_EVERY_S
            if due:
                unlogged, self._dropped_unlogged, self._drop_logged_at = self._dropped_unlogged, 0, now
        self.metrics.events_dropped.inc(dropped)
        if due:
            log.error(
                "dropped %d event records: the event store failed, the spool %s cannot be written and "
                "%d records are already held in memory",
                unlogged,
                self.spool.path,
                self.queue_size,
            )

    def _take_held(self) -> list[EventRecord]:
        with self._held_lock:
            held, self._held[:] = list(self._held), []
        return held

    def _write(self, records: list[EventRecord]) -> None:
        write_records(self.store, records)
        self.metrics.events_written.labels(kind=kind_of(records[0])).inc(len(records))
        if not self.store_ok:
            log.info("event store %s recovered", self.store.url)
        self.store_ok, self._failures, self._retry_at = True, 0, 0.0

    def _failed(self, exc: Exception) -> None:
        self.metrics.event_store_failures.inc()
        if self.store_ok:
            log.warning("event store %s failed (%s); spooling records until it recovers", self.store.url, exc)
        self.store_ok = False
        self._failures += 1
        self._retry_at = time.monotonic() + min(self.flush_s * 2**self._failures, MAX_RETRY_S)
