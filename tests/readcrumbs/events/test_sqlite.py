"""What only the SQLite store promises: WAL, DESIGN.md's tables, locks that fail fast, threads."""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from readcrumbs.errors import StoreError
from readcrumbs.events import sqlite as sqlite_backend
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.sqlite import SqliteEventStore
from tests.readcrumbs.events.conftest import (
    SCATTER_EDGES,
    assert_same_summary,
    make_feedback,
    make_prediction,
    scattered_records,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "folder" / "rc.db"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[SqliteEventStore]:
    store = SqliteEventStore(db_path, busy_timeout_s=0.2)
    yield store
    store.close()


def test_creates_the_parent_folder_and_uses_wal(sqlite_store: SqliteEventStore, db_path: Path) -> None:
    assert db_path.parent.is_dir()
    sqlite_store.ping()
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_tables_have_the_design_columns_and_indexes(sqlite_store: SqliteEventStore, db_path: Path) -> None:
    sqlite_store.ping()
    with sqlite3.connect(db_path) as other:
        columns = {
            table: [row[1] for row in other.execute(f"PRAGMA table_info({table})")]
            for table in ("predictions", "feedback")
        }
        indexes = {
            row[0]: row[1] for row in other.execute("SELECT name, sql FROM sqlite_master WHERE type='index'")
        }
    assert columns["predictions"] == [
        "request_id", "ts", "userid", "items", "item_ids", "prediction", "prediction_ids", "scores",
        "latency_ms", "model_version", "unknown", "k",
        "arm", "shadow_version", "shadow_prediction_ids", "shadow_scores",
    ]  # fmt: skip
    assert columns["feedback"] == [
        "feedback_id", "ts", "userid", "request_id", "book_id", "title", "position", "value",
    ]  # fmt: skip
    assert "(ts, request_id" in indexes["predictions_ts"]
    assert {"feedback_ts", "feedback_userid", "feedback_request_id"} <= set(indexes)


# The schema of files written before the arm and shadow fields existed (issue 12).
OLD_SCHEMA = """
CREATE TABLE predictions (
    request_id TEXT PRIMARY KEY, ts TEXT NOT NULL, userid TEXT NOT NULL, items TEXT NOT NULL,
    item_ids TEXT NOT NULL, prediction TEXT NOT NULL, prediction_ids TEXT NOT NULL,
    scores TEXT NOT NULL, latency_ms REAL NOT NULL, model_version TEXT NOT NULL,
    unknown TEXT NOT NULL, k INTEGER NOT NULL
);
CREATE INDEX predictions_ts ON predictions (ts, request_id, latency_ms, userid, model_version, k);
CREATE TABLE feedback (
    feedback_id TEXT PRIMARY KEY, ts TEXT NOT NULL, userid TEXT NOT NULL, request_id TEXT,
    book_id INTEGER NOT NULL, title TEXT NOT NULL, position INTEGER, value INTEGER NOT NULL
);
"""


def test_a_file_from_before_the_arm_field_opens_and_reads_old_rows_as_production(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as old:
        old.executescript(OLD_SCHEMA)
        old.execute(
            "INSERT INTO predictions VALUES ('old-1', '2026-11-28T10:00:00.000Z', 'u', '[\"A\"]', '[1]',"
            " '[\"B\"]', '[2]', '[0.5]', 3.0, '1', '[]', 10)"
        )
    store = SqliteEventStore(db_path)
    try:
        (old_record,) = store.predictions()
        assert old_record.arm == "production" and old_record.shadow_version is None
        assert old_record.shadow_prediction_ids == [] and old_record.shadow_scores == []
        store.write_predictions([make_prediction(2)])
        assert store.get_prediction("req-0002") == make_prediction(2)
        assert store.predictions_frame(columns=["arm"])["arm"].tolist() == ["production", "shadow"]
    finally:
        store.close()
    with sqlite3.connect(db_path) as other:
        index = [row[2] for row in other.execute("PRAGMA index_info(predictions_ts)")]
    assert {"arm", "shadow_version"} <= set(index) and index[:2] == ["ts", "request_id"]
    SqliteEventStore(db_path).close()  # opening an upgraded file again changes nothing


def test_a_file_lacking_a_required_column_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as old:
        old.executescript(
            OLD_SCHEMA.replace("model_version TEXT NOT NULL,", "").replace(", model_version", "")
        )
    store = SqliteEventStore(db_path)
    try:
        with pytest.raises(StoreError, match="model_version"):
            store.ping()
    finally:
        store.close()


def test_list_fields_are_stored_as_json_text(sqlite_store: SqliteEventStore, db_path: Path) -> None:
    record = make_prediction(1, items=["Ἰλιάς", 'a "b"'], unknown=[])
    sqlite_store.write_predictions([record])
    with sqlite3.connect(db_path) as other:
        items, scores, unknown, ts = other.execute(
            "SELECT items, scores, unknown, ts FROM predictions"
        ).fetchone()
    assert "Ἰλιάς" in items  # readable, not \\u-escaped
    assert json.loads(items) == record.items and json.loads(scores) == record.scores
    assert unknown == "[]" and ts == record.ts


def test_a_batch_is_stored_as_each_field_always_was(sqlite_store: SqliteEventStore, db_path: Path) -> None:
    # One statement reads the batch out of a JSON array (sqlite.py): the list columns must hold the
    # text the row-by-row writes held, and the scalars their SQL types, for every reader of old files.
    # Only a float's exponent may be written otherwise (1e-7 for 1e-07): the same number to any reader.
    titles = ['He said "Hi"', "C:\\dir", "tab\tand\x01", "Café", "🐉", "\u2028"]
    scores = [0.1 + 0.2, 1e-7, 5e-324, 123456.789, -0.0, 1.7976931348623157e308]
    records = [
        make_prediction(1, items=titles, unknown=[], prediction=titles, scores=scores, latency_ms=0.1 + 0.2),
        make_prediction(2, shadow_version="7", shadow_prediction_ids=[3, 2**62], shadow_scores=[2.5]),
    ]
    sqlite_store.write_predictions(records)
    with sqlite3.connect(db_path) as other:
        rows = other.execute(
            "SELECT items, prediction, scores, latency_ms, typeof(latency_ms), typeof(k), k, shadow_version, "
            "typeof(shadow_version), shadow_prediction_ids FROM predictions ORDER BY request_id"
        ).fetchall()
    expected_titles = '["He said \\"Hi\\"","C:\\\\dir","tab\\tand\\u0001","Café","🐉","\u2028"]'
    assert rows[0][:2] == (expected_titles, expected_titles)
    assert rows[0][2] == "[0.30000000000000004,1e-7,5e-324,123456.789,-0.0,1.7976931348623157e+308]"
    assert json.loads(rows[0][2]) == scores
    assert rows[0][3:8] == (0.1 + 0.2, "real", "integer", records[0].k, None)
    assert rows[1][7:] == ("7", "text", f"[3,{2**62}]")
    assert sqlite_store.predictions() == records


@pytest.mark.parametrize("bad", [{"scores": [float("nan")]}, {"k": "ten"}, {"item_ids": ["7"]}])
def test_a_malformed_record_refuses_its_whole_batch_before_writing(
    sqlite_store: SqliteEventStore, bad: dict[str, object]
) -> None:
    # ValueError/TypeError, nothing written: the event writer then retries one by one (event_writer.py).
    with pytest.raises((ValueError, TypeError)):
        sqlite_store.write_predictions([make_prediction(1), make_prediction(2, **bad), make_prediction(3)])
    assert sqlite_store.predictions() == []


def test_scalar_frames_are_read_from_the_covering_index(
    sqlite_store: SqliteEventStore, db_path: Path
) -> None:
    # Pins the speed of the dashboard's query: it must never walk the wide rows.
    sqlite_store.ping()
    with sqlite3.connect(db_path) as other:
        plan = other.execute(
            "EXPLAIN QUERY PLAN SELECT ts, latency_ms, userid, model_version FROM predictions "
            "WHERE ts >= ? AND ts < ? ORDER BY ts, request_id",
            ("2026", "2027"),
        ).fetchall()
    assert any("COVERING INDEX predictions_ts" in row[-1] for row in plan), plan


@pytest.mark.parametrize(("one_bucket", "n_versions"), [(True, None), (False, None), (True, 2), (False, 1)])
def test_traffic_summary_queries_read_only_the_covering_index(
    sqlite_store: SqliteEventStore, db_path: Path, one_bucket: bool, n_versions: int | None
) -> None:
    # Pins the dashboard's speed: a million predictions are counted without walking the wide rows.
    sqlite_store.ping()
    cells_sql, users_sql = sqlite_backend._summary_sql(3, one_bucket, n_versions)
    params = [1.0, 2.0, 4.0, "2026", "2027", *([] if one_bucket else [60]), *["1"] * (n_versions or 0)]
    with sqlite3.connect(db_path) as other:
        for sql in (cells_sql, users_sql):
            plan = other.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            assert any("COVERING INDEX predictions_ts" in row[-1] for row in plan), plan


def test_newest_predictions_are_read_backwards_without_sorting(
    sqlite_store: SqliteEventStore, db_path: Path
) -> None:
    # predictions_frame(newest=n) must stop after n rows, not sort the whole window first.
    sqlite_store.ping()
    with sqlite3.connect(db_path) as other:
        plan = other.execute(
            "EXPLAIN QUERY PLAN SELECT request_id, item_ids FROM predictions WHERE ts >= ? "
            "ORDER BY ts DESC, request_id DESC LIMIT ?",
            ("2026", 10),
        ).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "INDEX predictions_ts" in details and "TEMP B-TREE" not in details, plan


def test_builds_without_unixepoch_bucket_the_same(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: SqliteEventStore
) -> None:
    # SQLite before 3.38 has no unixepoch(): the strftime fallback must put every row in the same bucket.
    monkeypatch.setattr(sqlite_backend, "_EPOCH_SQL", "CAST(strftime('%s', ts) AS INTEGER)")
    sqlite_backend._summary_sql.cache_clear()
    try:
        records = scattered_records(200, seed=11)
        sqlite_store.write_predictions(records)
        reference = MemoryEventStore()
        reference.write_predictions(records)
        for bucket_s in (60, 7 * 86_400):  # many buckets a query; one bucket a query
            assert_same_summary(
                sqlite_store.traffic_summary(bucket_s=bucket_s, latency_edges_ms=SCATTER_EDGES),
                reference.traffic_summary(bucket_s=bucket_s, latency_edges_ms=SCATTER_EDGES),
            )
    finally:
        sqlite_backend._summary_sql.cache_clear()


@pytest.mark.parametrize("readers", [1, 3])
def test_traffic_summary_is_the_same_read_by_one_or_several_connections(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: SqliteEventStore, readers: int
) -> None:
    monkeypatch.setattr(sqlite_backend, "_READERS", readers)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    records = scattered_records(200, seed=12)
    sqlite_store.write_predictions(records)
    reference = MemoryEventStore()
    reference.write_predictions(records)
    for bucket_s in (3600, 60):  # one bucket a range; many
        assert_same_summary(
            sqlite_store.traffic_summary(bucket_s=bucket_s, latency_edges_ms=SCATTER_EDGES),
            reference.traffic_summary(bucket_s=bucket_s, latency_edges_ms=SCATTER_EDGES),
        )


def test_a_query_failing_in_a_reader_raises_store_error(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: SqliteEventStore
) -> None:
    sqlite_store.write_predictions(scattered_records(20, seed=13))
    monkeypatch.setattr(sqlite_backend, "_summary_sql", lambda *_: ("SELECT nonsense(", "SELECT 1"))
    with pytest.raises(StoreError, match="read predictions"):
        sqlite_store.traffic_summary(bucket_s=3600, latency_edges_ms=SCATTER_EDGES)
    sqlite_store.ping()  # the pooled connections are still usable


def test_a_locked_database_raises_store_error_quickly(sqlite_store: SqliteEventStore, db_path: Path) -> None:
    sqlite_store.write_predictions([make_prediction(1)])
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="locked"):
            sqlite_store.write_predictions([make_prediction(2)])
        with pytest.raises(StoreError, match="locked"):
            sqlite_store.write_feedback([make_feedback(2)])
        assert time.monotonic() - started < 2.0
        # WAL: readers are not blocked by the writer's lock.
        assert [r.request_id for r in sqlite_store.predictions()] == ["req-0001"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    sqlite_store.write_predictions([make_prediction(2)])  # the spool's replay succeeds
    assert len(sqlite_store.predictions()) == 2


def test_a_store_opened_on_a_locked_new_file_recovers(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    store = SqliteEventStore(db_path, busy_timeout_s=0.1)
    try:
        with pytest.raises(StoreError):
            store.write_predictions([make_prediction(1)])
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.write_predictions([make_prediction(1)])
    assert store.get_prediction("req-0001") == make_prediction(1)
    store.close()


def test_a_failing_batch_is_rolled_back_whole(sqlite_store: SqliteEventStore, db_path: Path) -> None:
    sqlite_store.ping()
    with sqlite3.connect(db_path) as other:
        other.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON predictions WHEN NEW.request_id = 'req-0002' "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        )
    with pytest.raises(StoreError, match="refused by test"):
        sqlite_store.write_predictions([make_prediction(1), make_prediction(2)])
    assert sqlite_store.predictions() == []
    sqlite_store.write_predictions([make_prediction(3)])  # the pooled connection is still usable
    assert [r.request_id for r in sqlite_store.predictions()] == ["req-0003"]


def test_concurrent_writers_and_readers_lose_nothing(db_path: Path) -> None:
    sqlite_store = SqliteEventStore(db_path, busy_timeout_s=10.0)  # writers queue for the lock
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for batch in range(10):
                first = worker * 1000 + batch * 5
                sqlite_store.write_predictions([make_prediction(n) for n in range(first, first + 5)])
                sqlite_store.write_feedback([make_feedback(first)])
                sqlite_store.random_prediction()
        except BaseException as exc:  # collected: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(sqlite_store.predictions()) == 6 * 10 * 5
    assert len(sqlite_store.feedback_frame()) == 6 * 10
    sqlite_store.close()


def test_two_stores_on_one_file_see_each_others_writes(db_path: Path) -> None:
    first, second = SqliteEventStore(db_path), SqliteEventStore(db_path)
    first.write_predictions([make_prediction(1)])
    second.write_predictions([make_prediction(2)])
    assert [r.request_id for r in first.predictions()] == ["req-0001", "req-0002"]
    first.close()
    second.close()


def test_random_prediction_reaches_every_record(db_path: Path) -> None:
    store = SqliteEventStore(db_path, rng=random.Random(3))
    predictions = [make_prediction(n) for n in range(4)]
    store.write_predictions(predictions)
    drawn = [store.random_prediction() for _ in range(200)]
    assert {r.request_id for r in drawn if r is not None} == {r.request_id for r in predictions}
    assert all(r in predictions for r in drawn)
    store.close()


def test_a_file_that_is_not_a_database_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not sqlite" * 100)
    store = SqliteEventStore(path)
    with pytest.raises(StoreError, match="not a database"):
        store.write_predictions([make_prediction(1)])
    with pytest.raises(StoreError):
        store.ping()


def test_a_folder_in_place_of_the_file_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "rc.db").mkdir()
    with pytest.raises(StoreError):
        SqliteEventStore(tmp_path / "rc.db").predictions()


def test_a_parent_that_cannot_be_made_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="folder"):
        SqliteEventStore(tmp_path / "file" / "rc.db")


def _open_and_use_at(paths: list[Path], start_times: list[float], n: int) -> list[str]:
    """In a child process: at each start time, open a new store on the next file and use it."""
    errors = []
    for path, at in zip(paths, start_times, strict=True):
        store = SqliteEventStore(path)
        while time.time() < at:
            pass  # spin: all the processes open the file within microseconds of each other
        try:
            if n % 2:
                store.write_predictions([make_prediction(n)])
            else:
                store.get_prediction("req-0001")
        except StoreError as exc:
            errors.append(str(exc))
        store.close()
    return errors


def test_processes_opening_one_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    # The server's writer and a reader (the dashboard, a test) often open a new file together.
    # Both try to switch it to WAL and SQLite refuses one of them at once, whatever the busy
    # timeout; without the store's retry about one race in eight failed.
    rounds, openers = 40, 4
    paths = [tmp_path / f"events-{n}.db" for n in range(rounds)]
    first = time.time() + 2.0  # after the children have started
    start_times = [first + 0.05 * n for n in range(rounds)]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(openers, mp_context=context) as pool:
        futures = [pool.submit(_open_and_use_at, paths, start_times, n) for n in range(openers)]
        errors = [error for future in futures for error in future.result()]
    assert errors == []
    for path in paths:
        store = SqliteEventStore(path)
        assert sorted(r.request_id for r in store.predictions()) == ["req-0001", "req-0003"]
        store.close()
