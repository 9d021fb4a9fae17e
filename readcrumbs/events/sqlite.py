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
  (``bench/events.py`` measures it on a million predictions).
- ``traffic_summary`` aggregates in SQL over that covering index, one time range at a time
  (at most ``_MAX_RANGES`` ranges of whole buckets): sorting each range's rows for its
  ``GROUP BY`` costs about half of sorting the whole window at once, and only the aggregates
  cross into Python: a cell per (bucket, latency bin, version) and each bucket's distinct
  userids, whose union is the window's distinct readers. Up to one connection a core
  (``_READERS``) reads interleaved ranges at once, each in one read transaction, so a
  bucket's counts always agree with each other; a record written during the read may be
  counted or not, as with any read that races a write. ``bench/dashboard.py`` times it.
- Only the standard library's sqlite3 touches the file: a second SQLite copy in the process
  (ADBC, DuckDB's scanner) would break WAL's POSIX locks; closing its handle deleted the live
  WAL in a trial.
- Connections come from a small pool (one per concurrent caller), so any thread may use the
  store. The schema is created on first use, so a locked file at start-up only delays it.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
import json
import operator
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pydantic_core

from readcrumbs.errors import StoreError
from readcrumbs.events import codec, summary
from readcrumbs.events.records import (
    FeedbackRecord,
    Kind,
    PredictionRecord,
    RecordField,
    feedback_fields,
    prediction_fields,
)

# pandas only where frames are built: the backend writes events without it (issue 16).
if TYPE_CHECKING:
    import pandas as pd

_SQL_TYPES = {Kind.INT: "INTEGER", Kind.FLOAT: "REAL"}  # every other kind is TEXT (lists as JSON)


def _sql_default(spec: RecordField) -> str:
    """The column's DEFAULT clause: how rows written before the field existed read it."""
    if spec.required or spec.default is None:
        return ""
    if spec.kind.is_list:
        return " DEFAULT '[]'" if not spec.default else f" DEFAULT '{json.dumps(spec.default)}'"
    if isinstance(spec.default, str):
        return " DEFAULT '" + spec.default.replace("'", "''") + "'"
    return f" DEFAULT {spec.default!r}"


def column_sql(spec: RecordField) -> str:
    """One column's definition, derived from the record field (see records.py)."""
    null = "" if spec.optional else " NOT NULL"
    return f"{spec.name} {_SQL_TYPES.get(spec.kind, 'TEXT')}{null}{_sql_default(spec)}"


def _table_sql(table: str, specs: Sequence[RecordField]) -> str:
    # The first field is the id: the primary key, so INSERT OR IGNORE makes replays harmless.
    columns = [column_sql(specs[0]) + " PRIMARY KEY", *map(column_sql, specs[1:])]
    return f"CREATE TABLE IF NOT EXISTS {table} (\n    " + ",\n    ".join(columns) + "\n);"


# The scalar fields of a prediction: the covering index holds all of them, so a dashboard frame
# of (ts, latency_ms, userid, model_version, arm) is read from the index alone, never the wide rows.
_LEADING = ("ts", "request_id", "latency_ms", "userid")  # the order files before arm was added use
PREDICTIONS_TS_COLUMNS: tuple[str, ...] = (
    *_LEADING,
    *(f.name for f in prediction_fields() if not f.kind.is_list and f.name not in _LEADING),
)
_PREDICTIONS_TS_INDEX = (
    f"CREATE INDEX IF NOT EXISTS predictions_ts ON predictions ({', '.join(PREDICTIONS_TS_COLUMNS)});"
)

SCHEMA = f"""
BEGIN IMMEDIATE;
{_table_sql("predictions", prediction_fields())}
-- Orders every window read, and covers every scalar field.
{_PREDICTIONS_TS_INDEX}
{_table_sql("feedback", feedback_fields())}
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback (ts, feedback_id);
CREATE INDEX IF NOT EXISTS feedback_userid ON feedback (userid);
CREATE INDEX IF NOT EXISTS feedback_request_id ON feedback (request_id);
COMMIT;
"""

_PREDICTION_COLUMNS = ", ".join(codec.PREDICTION_FIELDS)
_FEEDBACK_COLUMNS = ", ".join(codec.FEEDBACK_FIELDS)
# A batch of predictions is one statement over one JSON array of rows (field order): SQLite reads
# the rows out of it in C, with the GIL released for the whole batch, where executemany bound each
# row's parameters in Python and took the GIL back once per row (/predict under wrk: 1,830 req/s
# then, 2,060 now). ``->>`` gives a field as its SQL value, ``->`` a list field as its JSON text,
# verbatim (numbers and escapes as json.dumps wrote them).
_INSERT_PREDICTIONS = (
    f"INSERT OR IGNORE INTO predictions ({_PREDICTION_COLUMNS}) SELECT "
    + ", ".join(
        f"value -> {i}" if field.kind.is_list else f"value ->> {i}"
        for i, field in enumerate(prediction_fields())
    )
    + " FROM json_each(?)"
)
# One vote per feedback_id (the backend derives it from request and book): a later vote replaces
# an earlier one, and an older vote replayed from a spool after a newer one changes nothing.
_INSERT_FEEDBACK = (
    f"INSERT INTO feedback ({_FEEDBACK_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(codec.FEEDBACK_FIELDS))}) "
    "ON CONFLICT (feedback_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in codec.FEEDBACK_FIELDS if name != "feedback_id")
    + " WHERE excluded.ts >= feedback.ts"
)

_from_json = json.loads

# UTC seconds since 1970 of a row's ts: unixepoch() (SQLite 3.38+) costs about a third of the
# strftime('%s') that older builds fall back to. Both floor the milliseconds (records are after 1970).
_EPOCH_SQL = (
    "unixepoch(ts)" if sqlite3.sqlite_version_info >= (3, 38, 0) else "CAST(strftime('%s', ts) AS INTEGER)"
)
# A traffic summary runs two queries per time range; ranges hold whole buckets, at most this many.
_MAX_RANGES = 240
# Connections that read a summary's ranges at once. SQLite works on one core per query and
# Python's sqlite3 releases the GIL meanwhile, so each reader keeps one more core busy.
_READERS = 4


def _from_json_column(cells: Iterable[str]) -> list[Any]:
    """``(n_rows,)`` JSON list texts decoded in one C-level parse, not one call per cell."""
    decoded: list[Any] = json.loads("[" + ",".join(cells) + "]")
    return decoded


_PREDICTION_GETTER = operator.attrgetter(*codec.PREDICTION_FIELDS)
_PREDICTION_LIST_POSITIONS = tuple(i for i, f in enumerate(prediction_fields()) if f.kind.is_list)


def _predictions_json(records: Sequence[PredictionRecord]) -> str:
    """The records as one JSON array of rows, each row its fields in column order.

    Records are normalized first (plain str, int, finite float: ``ValueError``/``TypeError``
    otherwise, before anything is written). pydantic-core's encoder writes the batch in about a
    sixth of ``json.dumps``' time (1.6 against 10.6 µs a record), and the writer thread holds the
    GIL meanwhile, away from the requests. Floats are written shortest-round-trip as
    ``float.__repr__`` does, though with ``1e-5`` for ``1e-05``; both read back as the same float.
    """
    rows = [_PREDICTION_GETTER(codec.normalize_prediction(record)) for record in records]
    # A str, not bytes: SQLite would take bytes as a BLOB, and json_each reads a BLOB as JSONB.
    return pydantic_core.to_json(rows).decode("utf-8")


def _prediction_from_row(row: Sequence[Any]) -> PredictionRecord:
    values = list(row)
    for i in _PREDICTION_LIST_POSITIONS:
        values[i] = _from_json(values[i])
    return PredictionRecord(*values)


def _feedback_row(record: FeedbackRecord) -> tuple[Any, ...]:
    r = codec.normalize_feedback(record)
    return tuple(getattr(r, name) for name in codec.FEEDBACK_FIELDS)


def _columns(rows: list[tuple[Any, ...]], n_columns: int) -> npt.NDArray[np.object_]:
    """Fetched rows as an ``(n_rows, n_columns)`` object array; slicing a column is free.

    numpy transposes in C, about three times faster than ``zip(*rows)`` on a million rows.
    """
    if not rows:
        return np.empty((0, n_columns), dtype=object)
    return np.array(rows, dtype=object)


def _latency_bin_sql(n_edges: int) -> str:
    """SQL giving the latency bin of a row: the number of edges ``?1 .. ?n_edges`` <= ``latency_ms``.

    A balanced tree of CASEs (a binary search: log2(n_edges) comparisons a row) works in every
    SQLite build, math functions or not; edges are bound parameters, so a row lands in the bin
    numpy's ``searchsorted`` gives it, with no decimal literal rounded on the way.
    """

    def node(low: int, high: int) -> str:  # the answer is known to lie in [low, high]
        if low == high:
            return str(low)
        mid = (low + high) // 2
        return f"CASE WHEN latency_ms < ?{mid + 1} THEN {node(low, mid)} ELSE {node(mid + 1, high)} END"

    return node(0, n_edges)


@functools.lru_cache(maxsize=32)
def _summary_sql(n_edges: int, one_bucket: bool, n_versions: int | None) -> tuple[str, str]:
    """The two queries of one time range of a traffic summary: its cells, and its distinct users.

    Parameters: ``?1 .. ?n_edges`` the latency edges, then the range's low and high ts, then
    (unless ``one_bucket``) the bucket width in seconds, then the versions kept (``n_versions``;
    None keeps all). Rows: ``(bin, model_version, requests, latency_sum_ms)`` and ``(userid,)``,
    each led by the bucket start unless ``one_bucket``: a range of one bucket leaves it out,
    which makes each row's sort key shorter (about a third of the query's time).
    """
    p = n_edges
    bucket = "" if one_bucket else f"{_EPOCH_SQL} / ?{p + 3} * ?{p + 3} AS bucket, "
    group = "" if one_bucket else "bucket, "
    where = f"ts >= ?{p + 1} AND ts < ?{p + 2}"
    if n_versions is not None:
        first = p + 3 if one_bucket else p + 4
        where += f" AND model_version IN ({', '.join(f'?{first + i}' for i in range(n_versions))})"
    # Integer keys first: the sorter of GROUP BY settles most comparisons on them.
    cells = (
        f"SELECT {bucket}{_latency_bin_sql(n_edges)} AS bin, model_version, count(*), sum(latency_ms) "
        f"FROM predictions WHERE {where} GROUP BY {group}bin, model_version"
    )
    users = f"SELECT {bucket}userid FROM predictions WHERE {where} GROUP BY {group}userid"
    return cells, users


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


def _missing_columns(conn: sqlite3.Connection) -> list[tuple[str, RecordField]]:
    """``(table, field)`` of every record field its table has no column for."""
    missing = []
    for table, specs in (("predictions", prediction_fields()), ("feedback", feedback_fields())):
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        missing += [(table, spec) for spec in specs if spec.name not in present]
    return missing


def _index_covers(conn: sqlite3.Connection) -> bool:
    """Whether the ``predictions_ts`` index leads with (ts, request_id) and holds every scalar field."""
    columns = [row[2] for row in conn.execute("PRAGMA index_info(predictions_ts)")]
    return columns[:2] == ["ts", "request_id"] and set(columns) >= set(PREDICTIONS_TS_COLUMNS)


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
                self._create_schema_patiently(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema_patiently(self, conn: sqlite3.Connection) -> None:
        """Create the schema, retrying for up to ``busy_timeout_s`` while the file is locked.

        Two processes opening a new file at once both try to switch it to WAL, which takes
        the file's exclusive lock; SQLite answers one of them "database is locked" at once,
        without waiting for the busy timeout, to avoid a deadlock. The loser retries here.
        """
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                self._create_schema(conn)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(self._rng.uniform(0.002, 0.02))  # jitter: the two openers drift apart

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
        if _missing_columns(conn) or not _index_covers(conn):
            self._upgrade(conn)
        self._schema_ready = True

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Add the fields a file written by an older version lacks, and widen the covering index.

        Old rows read as each new field's default. One transaction, re-checked under the write
        lock, so two processes opening the same old file upgrade it once.
        """
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table, spec in _missing_columns(conn):
                if spec.required:
                    raise StoreError(f"{self.url}: table {table} lacks required column {spec.name}")
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column_sql(spec)}")
            if not _index_covers(conn):
                conn.execute("DROP INDEX IF EXISTS predictions_ts")
                conn.execute(_PREDICTIONS_TS_INDEX)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

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
        if not records:
            return
        self._write(_INSERT_PREDICTIONS, [(_predictions_json(records),)], "write predictions to")

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
        self,
        start: str | None = None,
        end: str | None = None,
        columns: Sequence[str] | None = None,
        newest: int | None = None,
    ) -> pd.DataFrame:
        chosen = codec.check_columns(columns)
        codec.check_newest(newest)
        where, params = _window_sql(start, end)
        order = "ts, request_id" if newest is None else "ts DESC, request_id DESC LIMIT ?"
        # With newest, the index is walked backwards and the walk stops: older rows are never read.
        sql = f"SELECT {', '.join(chosen)} FROM predictions{where} ORDER BY {order}"
        with self._connection("read predictions from") as conn:
            rows = conn.execute(sql, params if newest is None else [*params, newest]).fetchall()
        table = _columns(rows if newest is None else rows[::-1], len(chosen))
        values: dict[str, codec.Column] = {}
        for i, name in enumerate(chosen):
            # JSON is decoded only for the list columns asked for: scalars stay cheap.
            values[name] = (
                _from_json_column(table[:, i]) if name in codec.PREDICTION_LIST_FIELDS else table[:, i]
            )
        return codec.frame(values, codec.PREDICTION_DTYPES)

    def prediction_span(self, start: str | None = None, end: str | None = None) -> tuple[str, str] | None:
        where, params = _window_sql(start, end)
        with self._connection("read predictions from") as conn:
            return self._span(conn, where, params)

    @staticmethod
    def _span(conn: sqlite3.Connection, where: str, params: list[str]) -> tuple[str, str] | None:
        # Two subqueries: SQLite seeks the index for a lone min() or max(), not for both at once.
        first, last = conn.execute(
            f"SELECT (SELECT min(ts) FROM predictions{where}), (SELECT max(ts) FROM predictions{where})",
            [*params, *params],
        ).fetchone()
        return None if first is None else (first, last)

    def traffic_summary(
        self,
        start: str | None = None,
        end: str | None = None,
        *,
        bucket_s: int,
        latency_edges_ms: Sequence[float],
        versions: Sequence[str] | None = None,
    ) -> summary.TrafficSummary:
        bucket_s, edges, chosen = summary.check_request(bucket_s, latency_edges_ms, versions)
        where, params = _window_sql(start, end)
        if chosen == ():
            return summary.empty(bucket_s, edges)
        with self._connection("read predictions from") as conn:
            span = self._span(conn, where, params)
        if span is None:
            return summary.empty(bucket_s, edges)
        first, last = (summary.bucket_start(ts, bucket_s) for ts in span)
        per_range = -(-((last - first) // bucket_s + 1) // _MAX_RANGES)  # whole buckets a range
        ranges: list[tuple[int, list[Any]]] = []
        for range_start in range(first, last + 1, per_range * bucket_s):
            low, high = summary.iso_at(range_start), summary.iso_at(range_start + per_range * bucket_s)
            args = [
                *edges,
                low if start is None else max(start, low),
                high if end is None else min(end, high),
                *([] if per_range == 1 else [bucket_s]),
                *(chosen or ()),
            ]
            ranges.append((range_start, args))
        queries = _summary_sql(len(edges), per_range == 1, None if chosen is None else len(chosen))
        readers = min(_READERS, len(ranges), os.cpu_count() or 1)
        if readers == 1:
            parts = [self._count_ranges(ranges, queries, per_range == 1)]
        else:  # interleaved, so every reader gets old and new, quiet and busy ranges alike
            with concurrent.futures.ThreadPoolExecutor(readers, thread_name_prefix="summary") as pool:
                parts = list(
                    pool.map(
                        lambda i: self._count_ranges(ranges[i::readers], queries, per_range == 1),
                        range(readers),
                    )
                )
        cells = [cell for part in parts for cell in part[0]]
        bucket_users = [pair for part in parts for pair in part[1].items()]  # ranges hold whole buckets
        userids = set().union(*(part[2] for part in parts))
        return summary.from_cells(bucket_s, edges, cells, bucket_users, len(userids))

    def _count_ranges(
        self, ranges: list[tuple[int, list[Any]]], queries: tuple[str, str], one_bucket: bool
    ) -> tuple[list[summary.CellRow], collections.Counter[int], set[str]]:
        """Cells, distinct users per bucket and every userid of ``ranges``, read in one snapshot."""
        cells_sql, users_sql = queries
        cells: list[summary.CellRow] = []
        bucket_users: collections.Counter[int] = collections.Counter()
        userids: set[str] = set()
        with self._connection("read predictions from") as conn:
            conn.execute("BEGIN")  # one read transaction: every bucket's counts agree with each other
            for range_start, args in ranges:
                if one_bucket:  # the rows leave out their bucket: it is this range
                    cells += [
                        (range_start, v, b, n, total) for b, v, n, total in conn.execute(cells_sql, args)
                    ]
                    users = conn.execute(users_sql, args).fetchall()
                    if users:
                        bucket_users[range_start] = len(users)
                        userids.update(userid for (userid,) in users)
                else:
                    cells += [(k, v, b, n, total) for k, b, v, n, total in conn.execute(cells_sql, args)]
                    for bucket, userid in conn.execute(users_sql, args):
                        bucket_users[bucket] += 1
                        userids.add(userid)
            conn.execute("COMMIT")
        return cells, bucket_users, userids

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
