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
the records are held in memory and written (or spooled) as soon as either recovers. Once
``queue_size`` records are held, memory is full too, and :meth:`EventWriter.submit` raises
:class:`~backend.errors.EventLogUnavailable` (503 with ``Retry-After``): the backend refuses work
it could not log rather than answer unlogged, so no record of an answered request is dropped.
Each of these is loud: an ERROR log line and the ``readcrumbs_event_spool_failures`` metric;
``readcrumbs_event_held_records`` counts the records in memory outside the queue (the batch being
written included). A record the store refuses as malformed (``ValueError``/``TypeError``, see
:mod:`readcrumbs.events.codec`) is set aside in ``events.rejected.jsonl`` rather than spooled, so
it cannot block every later record.

What a SIGKILL (or a power cut) loses: the records still in memory, that is those queued since
the last flush (at most ``flush_s`` of traffic) plus any held while the spool could not be
written. With ``durable=True`` every record is appended to the spool and fsync'd before
:meth:`~EventWriter.submit` returns (the writer then moves the spool to the store every tick):
nothing answered is lost, at the cost of one fsync per request (``bench/durability.py``).

Store writes are idempotent on ``request_id``/``feedback_id``, so a replay that fails half-way
and is retried never duplicates a record. One process owns a spool folder; several worker
processes each take their own (:func:`claim_spool_dir`).

Predictions still in memory or in the spool are remembered (:class:`PendingPredictions`, the
spool indexed at start) so feedback about them is checked like feedback about stored ones.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, NamedTuple

import anyio.to_thread

from backend.errors import EventLogUnavailable
from backend.metrics import Metrics
from readcrumbs.events.base import EventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord

log = logging.getLogger(__name__)

EventRecord = PredictionRecord | FeedbackRecord
PREDICTION, FEEDBACK = "prediction", "feedback"
MAX_RETRY_S = 10.0
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


class Shown(NamedTuple):
    """What one prediction showed, enough to check feedback about it."""

    userid: str
    book_ids: tuple[int, ...]
    titles: tuple[str, ...]


class PendingPredictions:
    """The last ``capacity`` predictions this process served or found spooled; thread-safe.

    Each is kept as a plain tuple of plain values, which the garbage collector stops tracking at
    its first pass (it does so for exact tuples only, not a :class:`Shown`), so the
    :data:`RECENT_REQUEST_IDS` kept here cost its later passes next to nothing. Kept as frozen
    dataclasses, 50,000 of them made each full pass take 26 ms instead of 6 (a one-off script),
    with the GIL held, in whichever thread the pass ran: every request waited (issue 13).
    """

    def __init__(self, capacity: int) -> None:
        self._shown: OrderedDict[str, tuple[str, tuple[int, ...], tuple[str, ...]]] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, record: PredictionRecord) -> None:
        shown = (record.userid, tuple(record.prediction_ids), tuple(record.prediction))
        with self._lock:
            self._shown[record.request_id] = shown
            if len(self._shown) > self._capacity:
                self._shown.popitem(last=False)

    def get(self, request_id: str) -> Shown | None:
        shown = self._shown.get(request_id)
        return None if shown is None else Shown(*shown)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._shown

    def __len__(self) -> int:
        return len(self._shown)


def spooled_predictions(folder: Path) -> Iterator[PredictionRecord]:
    """Every prediction waiting in the spool files under ``folder`` (every worker's), oldest first."""
    for path in sorted(folder.rglob("events*.jsonl")):
        if path.name == "events.rejected.jsonl":
            continue
        with contextlib.suppress(OSError), path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith('{"kind":"prediction"'):
                    continue
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    record = decode(line)
                    if isinstance(record, PredictionRecord):
                        yield record


def claim_spool_dir(root: Path) -> tuple[Path, IO[bytes]]:
    """The first spool folder under ``root`` no other live process holds, and its held lock file.

    Slot 0 is ``root`` itself (one worker: the layout of earlier versions), slot n ``root/worker-n``.
    The lock (``flock``) goes with the process, so a restarted server takes the same slots back
    and replays what they hold. Keep the returned handle open as long as the spool is used.
    """
    slot = 0
    while True:
        folder = root if slot == 0 else root / f"worker-{slot}"
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / "owner.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            slot += 1
            continue
        return folder, handle


class EventWriter:
    """A bounded queue and one thread that writes its records to ``store`` in batches.

    ``queue_size``: records held in memory; ``batch_size``: most records per store call;
    ``flush_s``: longest a record waits in the queue (seconds, ≤ 1); ``retry_after_s``: what a
    refusal tells the client when nothing can be logged; ``durable``: fsync each record to the
    spool before :meth:`submit` returns.
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
        retry_after_s: int = 5,
        durable: bool = False,
        pending_from: Path | None = None,
    ) -> None:
        self.store = store
        self.spool = Spool(spool_dir)
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.metrics = metrics or Metrics()
        self.retry_after_s = retry_after_s
        self.durable = durable
        self.pending = PendingPredictions(RECENT_REQUEST_IDS)
        # Spooled predictions count as known to /feedback after a restart, before any replay.
        for record in spooled_predictions(pending_from or spool_dir):
            self.pending.add(record)
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
        # Records neither the store nor the spool took (disk full), oldest first. Requests are
        # refused once queue_size are held, so this stays under about twice queue_size.
        self._held: list[EventRecord] = []
        self._held_lock = threading.Lock()
        # The batch the writer thread is working on: out of the queue, not yet stored or spooled.
        self._in_flight = 0
        self._spool_failing = False
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self.metrics.watch_queue(self._queue.__len__, lambda: self.held)
        self.metrics.event_spool_records.set_function(lambda: self.spool.count)

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def held(self) -> int:
        """Records in memory outside the queue: held (the spool cannot be written) or being written."""
        with self._held_lock:
            return len(self._held) + self._in_flight

    @property
    def degraded(self) -> bool:
        """Whether store writes fail now: the last one failed, or records wait in memory."""
        return not self.store_ok or bool(self._held)

    def start(self) -> None:
        self._thread.start()

    def submit(self, record: EventRecord) -> None:
        """Queue a record for writing; never waits (a full queue spools the record at once).

        Raises :class:`EventLogUnavailable` when the record could be neither queued, spooled nor
        held: the caller must not answer as if it were logged.
        """
        # Held or being retried: while the writer retries, its batch is in flight, not in _held.
        if len(self._held) + self._in_flight >= self.queue_size:
            raise EventLogUnavailable(self.retry_after_s)
        if self.durable:
            self._append_durably(record)
        else:
            depth = len(self._queue)
            if not self._closed and depth < self.queue_size:
                self._queue.append(record)
                self._overflowing = False
                if depth + 1 == self.batch_size:
                    self._wake.set()  # a full batch need not wait for the next tick
            else:
                if not self._overflowing and not self._closed:
                    log.warning("event queue full (%d records); spooling records directly", depth)
                    self._overflowing = True
                self._spool([record])
        if isinstance(record, PredictionRecord):
            self.pending.add(record)

    async def submit_async(self, record: EventRecord) -> None:
        """:meth:`submit` for the event loop: in durable mode the fsync runs in a worker thread."""
        if self.durable:
            await anyio.to_thread.run_sync(self.submit, record)
        else:
            self.submit(record)

    def _append_durably(self, record: EventRecord) -> None:
        """Append and fsync ``record`` to the spool; the writer thread moves it to the store."""
        try:
            self.spool.append([record])
        except OSError as exc:
            self.metrics.event_spool_failures.inc()
            log.error(
                "cannot write the event spool %s (%s); refusing work that cannot be logged",
                self.spool.path,
                exc,
            )
            raise EventLogUnavailable(self.retry_after_s) from None

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

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            stopping = self._stopping.is_set()
            with self._held_lock:  # held records came before this batch (after everything spooled)
                batch = self._held + self._drain()
                self._held, self._in_flight = [], len(batch)
            try:
                self._flush(batch, final=stopping)
            except Exception:
                # A bug, not a store or disk failure (those are handled below); keep the thread alive.
                log.exception("could neither write nor spool %d event records", len(batch))
                self._hold(batch)
            finally:
                with self._held_lock:
                    self._in_flight = 0
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
        if self.spool.count and not self._replay(force=final or self.durable):
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
        """Keep records in memory until the store or the spool takes them (never dropped)."""
        with self._held_lock:
            self._held.extend(records)
            if threading.current_thread() is self._thread:  # moved from the batch in flight
                self._in_flight = max(self._in_flight - len(records), 0)

    def _take_held(self) -> list[EventRecord]:
        with self._held_lock:
            held, self._held = self._held, []
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
