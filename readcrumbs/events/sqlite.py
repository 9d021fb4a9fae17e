"""The default event store: one SQLite file (``sqlite:///<path>``) in WAL mode.

Tables follow DESIGN.md "Event records"; list fields are JSON text (UTF-8, not escaped).
``ts`` is the records' fixed-width ISO-8601 UTC text, so windows and ordering are plain text
comparisons served by the ``(ts, id, ...)`` indexes.

- WAL lets readers (the dashboard, ``/random``) run while the writer writes, and
  ``synchronous=NORMAL`` keeps commits cheap: a crash of the process loses nothing, a power cut
  may lose the last transactions.
- Each batch is one ``BEGIN IMMEDIATE`` transaction of ``INSERT OR IGNORE``, so replaying a
  batch is harmless and a batch is stored whole or not at all.
- When another connection holds the write lock, a write waits at most ``busy_timeout_s`` and
  then raises :class:`~readcrumbs.errors.StoreError`; the caller spools and retries later.
- ``predictions_frame`` selects only the requested columns and decodes JSON only for the list
  columns asked for; the scalar columns come from the covering ``predictions_ts`` index
  (``bench/events.py`` measures it on a million predictions). Only the standard library's
  sqlite3 touches the file: a second SQLite copy in the process (ADBC, DuckDB's scanner)
  would break WAL's POSIX locks; closing its handle deleted the live WAL in a trial.
- Connections come from a small pool (one per concurrent caller), so any thread may use the
  store. The schema is created on first use, so a locked file at start-up only delays it.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from readcrumbs.errors import StoreError
from readcrumbs.events import codec
from readcrumbs.events.records import FeedbackRecord, PredictionRecord

SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS predictions (
    request_id     TEXT PRIMARY KEY,
    ts             TEXT NOT NULL,
    userid         TEXT NOT NULL,
    items          TEXT NOT NULL,
    item_ids       TEXT NOT NULL,
    prediction     TEXT NOT NULL,
    prediction_ids TEXT NOT NULL,
    scores         TEXT NOT NULL,
    latency_ms     REAL NOT NULL,
    model_version  TEXT NOT NULL,
    unknown        TEXT NOT NULL,
    k              INTEGER NOT NULL
);
-- Orders every window read, and covers every scalar field: a dashboard frame of
-- (ts, latency_ms, userid, model_version) is read from this index alone, never the wide rows.
CREATE INDEX IF NOT EXISTS predictions_ts
    ON predictions (ts, request_id, latency_ms, userid, model_version, k);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id TEXT PRIMARY KEY,
    ts          TEXT NOT NULL,
    userid      TEXT NOT NULL,
    request_id  TEXT,
    book_id     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    position    INTEGER,
    value       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback (ts, feedback_id);
CREATE INDEX IF NOT EXISTS feedback_userid ON feedback (userid);
CREATE INDEX IF NOT EXISTS feedback_request_id ON feedback (request_id);
COMMIT;
"""

_PREDICTION_COLUMNS = ", ".join(codec.PREDICTION_FIELDS)
_FEEDBACK_COLUMNS = ", ".join(codec.FEEDBACK_FIELDS)
_INSERT_PREDICTION = (
    f"INSERT OR IGNORE INTO predictions ({_PREDICTION_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(codec.PREDICTION_FIELDS))})"
)
_INSERT_FEEDBACK = (
    f"INSERT OR IGNORE INTO feedback ({_FEEDBACK_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(codec.FEEDBACK_FIELDS))})"
)

_from_json = json.loads


def _from_json_column(cells: Iterable[str]) -> list[Any]:
    """``(n_rows,)`` JSON list texts decoded in one C-level parse, not one call per cell."""
    decoded: list[Any] = json.loads("[" + ",".join(cells) + "]")
    return decoded


# List fields are JSON text. Records are normalized first (plain str, int, finite float), so
# joining C-level conversions writes valid JSON about four times faster than json.dumps, which
# builds a new encoder on every call; titles stay readable (no ASCII escaping).
def _json_texts(values: list[str]) -> str:
    return "[" + ",".join(map(encode_basestring, values)) + "]"


def _json_ints(values: list[int]) -> str:
    return "[" + ",".join(map(str, values)) + "]"


def _json_floats(values: list[float]) -> str:
    return "[" + ",".join(map(float.__repr__, values)) + "]"  # repr round-trips exactly


def _prediction_row(record: PredictionRecord) -> tuple[Any, ...]:
    r = codec.normalize_prediction(record)
    return (
        r.request_id,
        r.ts,
        r.userid,
        _json_texts(r.items),
        _json_ints(r.item_ids),
        _json_texts(r.prediction),
        _json_ints(r.prediction_ids),
        _json_floats(r.scores),
        r.latency_ms,
        r.model_version,
        _json_texts(r.unknown),
        r.k,
    )


def _prediction_from_row(row: Sequence[Any]) -> PredictionRecord:
    (request_id, ts, userid, items, item_ids, prediction, prediction_ids, scores) = row[:8]
    latency_ms, model_version, unknown, k = row[8:]
    return PredictionRecord(
        request_id=request_id,
        ts=ts,
        userid=userid,
        items=_from_json(items),
        item_ids=_from_json(item_ids),
        prediction=_from_json(prediction),
        prediction_ids=_from_json(prediction_ids),
        scores=_from_json(scores),
        latency_ms=latency_ms,
        model_version=model_version,
        unknown=_from_json(unknown),
        k=k,
    )


def _feedback_row(record: FeedbackRecord) -> tuple[Any, ...]:
    r = codec.normalize_feedback(record)
    return (r.feedback_id, r.ts, r.userid, r.request_id, r.book_id, r.title, r.position, r.value)


def _columns(rows: list[tuple[Any, ...]], n_columns: int) -> npt.NDArray[np.object_]:
    """Fetched rows as an ``(n_rows, n_columns)`` object array; slicing a column is free.

    numpy transposes in C, about three times faster than ``zip(*rows)`` on a million rows.
    """
    if not rows:
        return np.empty((0, n_columns), dtype=object)
    return np.array(rows, dtype=object)


def _window_sql(start: str | None, end: str | None) -> tuple[str, list[str]]:
    """A ``WHERE`` clause (possibly empty) for ``start <= ts < end`` and its parameters."""
    codec.check_bound(start)
    codec.check_bound(end)
    clauses, params = [], []
    if start is not None:
        clauses.append("ts >= ?")
        params.append(start)
    if end is not None:
        clauses.append("ts < ?")
        params.append(end)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SqliteEventStore:
    """Predictions and feedback in one SQLite file; see the module docstring."""

    def __init__(
        self,
        path: Path | str,
        busy_timeout_s: float = 1.5,
        rng: random.Random | None = None,
    ) -> None:
        """Open (lazily) the store at ``path``, creating its parent folder.

        ``busy_timeout_s`` is how long a write waits for another connection's lock before it
        raises :class:`~readcrumbs.errors.StoreError`.
        """
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.busy_timeout_s = busy_timeout_s
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._schema_ready = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of {self.url}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is one transaction.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            if not self._schema_ready:
                self._create_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        # Both steps need the write lock, so they run only when missing: a store opened while
        # another process holds the lock can still read.
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            # journal_mode=WAL is stored in the file: later connections inherit it.
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.url} refused WAL mode (journal_mode={mode})")
        tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('predictions', 'feedback')"
        ).fetchone()[0]
        if tables < 2:
            conn.executescript(SCHEMA)  # one transaction: all tables and indexes, or none
        self._schema_ready = True

    @contextlib.contextmanager
    def _connection(self, action: str) -> Iterator[sqlite3.Connection]:
        """A pooled connection; every sqlite3 failure inside becomes a StoreError."""
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.url} is closed")
            conn = self._idle.pop() if self._idle else None
        try:
            if conn is None:
                conn = self._connect()
            yield conn
        except sqlite3.Error as exc:
            raise StoreError(f"cannot {action} {self.url}: {exc}") from exc
        finally:
            if conn is not None:
                if conn.in_transaction:  # a failed batch: leave the connection clean
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                with self._lock:
                    if self._closed:
                        conn.close()
                    else:
                        self._idle.append(conn)

    def _write(self, sql: str, rows: list[tuple[Any, ...]], action: str) -> None:
        if not rows:
            return
        with self._connection(action) as conn:
            # IMMEDIATE takes the write lock up front, so waiting happens once, under busy_timeout.
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")

    def write_predictions(self, records: Sequence[PredictionRecord]) -> None:
        self._write(_INSERT_PREDICTION, [_prediction_row(r) for r in records], "write predictions to")

    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        self._write(_INSERT_FEEDBACK, [_feedback_row(r) for r in records], "write feedback to")

    def predictions(self, start: str | None = None, end: str | None = None) -> list[PredictionRecord]:
        where, params = _window_sql(start, end)
        sql = f"SELECT {_PREDICTION_COLUMNS} FROM predictions{where} ORDER BY ts, request_id"
        with self._connection("read predictions from") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_prediction_from_row(row) for row in rows]

    def feedback(self, start: str | None = None, end: str | None = None) -> list[FeedbackRecord]:
        where, params = _window_sql(start, end)
        sql = f"SELECT {_FEEDBACK_COLUMNS} FROM feedback{where} ORDER BY ts, feedback_id"
        with self._connection("read feedback from") as conn:
            rows = conn.execute(sql, params).fetchall()
        return [FeedbackRecord(*row) for row in rows]

    def get_prediction(self, request_id: str) -> PredictionRecord | None:
        sql = f"SELECT {_PREDICTION_COLUMNS} FROM predictions WHERE request_id = ?"
        with self._connection("read a prediction from") as conn:
            row = conn.execute(sql, (request_id,)).fetchone()
        return None if row is None else _prediction_from_row(row)

    def random_prediction(self) -> PredictionRecord | None:
        # The store never deletes, so rowids are dense and a uniform rowid is a uniform record;
        # the rowid >= pick lookup is O(log n) where OFFSET would walk the table.
        sql = f"SELECT {_PREDICTION_COLUMNS} FROM predictions WHERE rowid >= ? ORDER BY rowid LIMIT 1"
        with self._connection("read a prediction from") as conn:
            low, high = conn.execute("SELECT min(rowid), max(rowid) FROM predictions").fetchone()
            if low is None:
                return None
            row = conn.execute(sql, (self._rng.randint(low, high),)).fetchone()
        return _prediction_from_row(row)

    def predictions_frame(
        self, start: str | None = None, end: str | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        chosen = codec.check_columns(columns)
        where, params = _window_sql(start, end)
        sql = f"SELECT {', '.join(chosen)} FROM predictions{where} ORDER BY ts, request_id"
        with self._connection("read predictions from") as conn:
            table = _columns(conn.execute(sql, params).fetchall(), len(chosen))
        values: dict[str, codec.Column] = {}
        for i, name in enumerate(chosen):
            # JSON is decoded only for the list columns asked for: scalars stay cheap.
            values[name] = (
                _from_json_column(table[:, i]) if name in codec.PREDICTION_LIST_FIELDS else table[:, i]
            )
        return codec.frame(values, codec.PREDICTION_DTYPES)

    def feedback_frame(self, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        where, params = _window_sql(start, end)
        sql = f"SELECT {_FEEDBACK_COLUMNS} FROM feedback{where} ORDER BY ts, feedback_id"
        with self._connection("read feedback from") as conn:
            rows = conn.execute(sql, params).fetchall()
        table = _columns(rows, len(codec.FEEDBACK_FIELDS))
        values = {name: table[:, i] for i, name in enumerate(codec.FEEDBACK_FIELDS)}
        return codec.frame(values, codec.FEEDBACK_DTYPES)

    def ping(self) -> None:
        with self._connection("reach") as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
