"""What only the DynamoDB store promises: its keys, Queries not Scans, and StoreError on failure."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from readcrumbs.errors import ConfigError, StoreError
from tests.readcrumbs.events.conftest import at, make_feedback, make_prediction

pytest.importorskip("moto")
from botocore.stub import Stubber

from readcrumbs.events.dynamodb import DAYS_PARTITION, REQUEST_ID_INDEX, DynamoEventStore


@pytest.fixture
def store(aws: None, boto_session: Any) -> Iterator[DynamoEventStore]:
    store = DynamoEventStore("rc-unit", session=boto_session, max_attempts=1)
    store.create_tables()
    yield store
    store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_tables_are_keyed_by_day_and_ts_id(store: DynamoEventStore) -> None:
    client = store._client
    logs = client.describe_table(TableName="rc-unit-logs")["Table"]
    feedback = client.describe_table(TableName="rc-unit-feedback")["Table"]
    for table in (logs, feedback):
        assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
            ("day", "HASH"),
            ("ts_id", "RANGE"),
        }
    (index,) = logs["GlobalSecondaryIndexes"]
    assert index["IndexName"] == REQUEST_ID_INDEX
    assert index["KeySchema"] == [{"AttributeName": "request_id", "KeyType": "HASH"}]


def test_items_carry_their_day_bucket_and_the_days_are_indexed(store: DynamoEventStore) -> None:
    store.write_predictions([make_prediction(n) for n in range(4)])  # 28th and 29th of November
    item = store._client.get_item(
        TableName="rc-unit-logs", Key={"day": "2026-11-29", "ts_id": f"{at(120)}#req-0002"}
    ).get("Item")
    assert item is not None and item["request_id"] == "req-0002"
    days = store._client.query(
        TableName="rc-unit-logs",
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "day"},
        ExpressionAttributeValues={":d": DAYS_PARTITION},
    )["Items"]
    assert [d["ts_id"] for d in days] == ["2026-11-28", "2026-11-29"]


def test_items_written_before_the_arm_field_read_as_production(store: DynamoEventStore) -> None:
    record = make_prediction(0)
    store.write_predictions([record])
    key = {"day": record.ts[:10], "ts_id": f"{record.ts}#{record.request_id}"}
    table = store._resource.Table("rc-unit-logs")
    item = table.get_item(Key=key)["Item"]
    assert "shadow_version" not in item  # a None optional field is left out
    for name in ("arm", "shadow_prediction_ids", "shadow_scores"):
        del item[name]
    table.put_item(Item=item)

    (old,) = store.predictions()
    assert old == record and old.arm == "production" and old.shadow_scores == []
    assert store.predictions_frame(columns=["arm"])["arm"].tolist() == ["production"]


def test_shadow_fields_round_trip(store: DynamoEventStore) -> None:
    shadow = make_prediction(2)
    store.write_predictions([shadow])
    (stored,) = store.predictions()
    assert stored == shadow and stored.shadow_version == "4" and stored.shadow_scores == [0.5, 0.25]


def test_create_tables_is_idempotent(store: DynamoEventStore) -> None:
    store.write_predictions([make_prediction(1)])
    store.create_tables()
    assert store.get_prediction("req-0001") == make_prediction(1)
    tables = store._client.list_tables()["TableNames"]
    assert sorted(tables) == ["rc-unit-feedback", "rc-unit-logs"]


def test_create_tables_refuses_a_table_with_other_keys(aws: None, boto_session: Any) -> None:
    store = DynamoEventStore("rc-odd", session=boto_session)
    store._client.create_table(
        TableName="rc-odd-logs",
        KeySchema=[{"AttributeName": "request_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "request_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ConfigError, match="rc-odd-logs"):
        store.create_tables()


def test_reads_use_query_never_scan(aws: None, boto_session: Any) -> None:
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    # The hook goes on the session before the store makes its client, which copies it.
    boto_session.events.register("before-call.dynamodb", record, unique_id="rc-test-calls")
    try:
        store = DynamoEventStore("rc-spy", session=boto_session)
        store.create_tables()
        store.write_predictions([make_prediction(n) for n in range(5)])
        store.write_feedback([make_feedback(n) for n in range(5)])
        calls.clear()
        assert len(store.predictions(at(60), at(200))) == 3
        assert len(store.predictions()) == 5
        assert len(store.feedback(end=at(121))) == 2
        assert len(store.predictions_frame(columns=["ts", "latency_ms"])) == 5
        assert len(store.feedback_frame()) == 5
        assert store.random_prediction() is not None
        assert store.get_prediction("req-0003") is not None
        assert store.prediction_span() == (at(0), at(240))
        assert len(store.predictions_frame(newest=2)) == 2
        assert store.traffic_summary(bucket_s=60, latency_edges_ms=[1.0, 10.0], versions=["3"]).requests == 5
    finally:
        boto_session.events.unregister("before-call.dynamodb", unique_id="rc-test-calls")
    assert "Scan" not in calls
    assert set(calls) == {"Query", "GetItem"}


def _logged_queries(boto_session: Any, prefix: str) -> tuple[DynamoEventStore, list[dict[str, Any]]]:
    """A store on moto whose Query requests (their JSON bodies) are appended to the returned list."""
    queries: list[dict[str, Any]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "Query":
            queries.append(json.loads(params["body"]))

    boto_session.events.register("before-call.dynamodb", record, unique_id=f"rc-{prefix}-queries")
    try:
        store = DynamoEventStore(prefix, session=boto_session)
    finally:
        # The store's client copied the hook; the session must not keep it for later tests.
        boto_session.events.unregister("before-call.dynamodb", unique_id=f"rc-{prefix}-queries")
    store.create_tables()
    return store, queries


def _day_of(query: dict[str, Any]) -> str:
    return str(query["ExpressionAttributeValues"][":v0"]["S"])


def test_traffic_summary_projects_only_the_fields_it_counts(aws: None, boto_session: Any) -> None:
    store, queries = _logged_queries(boto_session, "rc-projection")
    store.write_predictions([make_prediction(n) for n in range(4)])  # two days
    queries.clear()
    store.traffic_summary(bucket_s=60, latency_edges_ms=[1.0], versions=["3"])
    window_queries = [q for q in queries if _day_of(q) != DAYS_PARTITION]
    assert len(window_queries) == 2  # one a day
    for body in window_queries:
        names = set(body["ExpressionAttributeNames"].values())
        projected = {
            body["ExpressionAttributeNames"][n.strip()] for n in body["ProjectionExpression"].split(",")
        }
        assert projected == {"ts", "userid", "latency_ms", "model_version"}
        assert "model_version" in names and "FilterExpression" in body


def test_newest_and_span_read_only_what_they_need(aws: None, boto_session: Any) -> None:
    store, queries = _logged_queries(boto_session, "rc-newest")
    predictions = [make_prediction(n, seconds=n * 3600) for n in range(30)]  # 28 Nov to 30 Nov
    store.write_predictions(predictions)
    queries.clear()
    newest = store.predictions_frame(columns=["request_id"], newest=2)
    assert newest["request_id"].tolist() == ["req-0028", "req-0029"]
    assert {_day_of(q) for q in queries} == {DAYS_PARTITION, "2026-11-30"}  # older days never read
    queries.clear()
    assert store.prediction_span(end="2026-11-30") == (predictions[0].ts, predictions[24].ts)
    assert all(q.get("Limit") == 1 for q in queries if _day_of(q) != DAYS_PARTITION)


def test_span_and_newest_skip_an_indexed_day_without_records(store: DynamoEventStore) -> None:
    # A write that failed after indexing its day leaves an empty day in the index.
    store._client.put_item(TableName="rc-unit-logs", Item={"day": DAYS_PARTITION, "ts_id": "2026-12-05"})
    store._client.put_item(TableName="rc-unit-logs", Item={"day": DAYS_PARTITION, "ts_id": "2026-11-01"})
    predictions = [make_prediction(n) for n in range(3)]
    store.write_predictions(predictions)
    assert store.prediction_span() == (predictions[0].ts, predictions[2].ts)
    assert store.predictions_frame(columns=["request_id"], newest=1)["request_id"].tolist() == ["req-0002"]


def test_a_missing_table_raises_store_error(aws: None, boto_session: Any) -> None:
    store = DynamoEventStore("rc-absent", session=boto_session, max_attempts=1)
    with pytest.raises(StoreError, match="ResourceNotFound"):
        store.write_predictions([make_prediction(1)])
    with pytest.raises(StoreError):
        store.predictions()
    with pytest.raises(StoreError):
        store.ping()


@pytest.mark.parametrize("operation", ["query", "batch_write_item", "put_item"])
def test_throttling_raises_store_error(store: DynamoEventStore, operation: str) -> None:
    store.write_predictions([make_prediction(1)])  # its day is indexed: the next write is a batch
    with Stubber(store._client) as stub:
        stub.add_client_error(operation, "ProvisionedThroughputExceededException", http_status_code=400)
        with pytest.raises(StoreError, match="ProvisionedThroughputExceeded"):
            if operation == "query":
                store.predictions()
            elif operation == "batch_write_item":
                store.write_predictions([make_prediction(2, seconds=61)])
            else:
                store.write_feedback([make_feedback(2)])  # first feedback: the day index comes first


def test_an_unreachable_endpoint_raises_store_error_quickly(
    monkeypatch: pytest.MonkeyPatch, boto_session: Any
) -> None:
    endpoint = f"http://127.0.0.1:{_free_port()}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    store = DynamoEventStore("rc-down", max_attempts=1)  # a fresh session reads the variables
    assert store._client.meta.endpoint_url == endpoint
    started = time.monotonic()
    with pytest.raises(StoreError, match="Could not connect"):
        store.write_predictions([make_prediction(1)])
    with pytest.raises(StoreError):
        store.ping()
    assert time.monotonic() - started < 5.0


def test_aws_region_wins_over_the_default_region(monkeypatch: pytest.MonkeyPatch, boto_session: Any) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert DynamoEventStore(session=boto_session)._client.meta.region_name == "ap-south-1"
    monkeypatch.delenv("AWS_REGION")
    assert DynamoEventStore(session=boto_session)._client.meta.region_name == "eu-west-1"


def test_no_region_at_all_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(ConfigError, match="region"):
        DynamoEventStore()


def test_default_prefix_names_the_design_tables(boto_session: Any) -> None:
    store = DynamoEventStore(session=boto_session, region_name="eu-west-1")
    assert (store.logs_table, store.feedback_table) == ("readcrumbs-logs", "readcrumbs-feedback")
    assert store.url == "dynamodb://readcrumbs"


def test_random_prediction_skips_empty_days_and_reaches_other_records(aws: None, boto_session: Any) -> None:
    store = DynamoEventStore("rc-random", session=boto_session, rng=random.Random(5))
    store.create_tables()
    # An indexed day with no records, as a write that failed after indexing its day leaves.
    store._client.put_item(TableName="rc-random-logs", Item={"day": DAYS_PARTITION, "ts_id": "2026-11-27"})
    predictions = [make_prediction(n, seconds=n * 3 * 3600) for n in range(6)]  # 2 days, spread out
    store.write_predictions(predictions)
    drawn = [store.random_prediction() for _ in range(15)]
    assert all(record in predictions for record in drawn)
    assert len({record.request_id for record in drawn if record is not None}) >= 3  # not stuck on one


def test_random_prediction_of_only_empty_days_is_none(store: DynamoEventStore) -> None:
    store._client.put_item(TableName="rc-unit-logs", Item={"day": DAYS_PARTITION, "ts_id": "2026-11-27"})
    assert store.random_prediction() is None


@pytest.mark.slow
def test_round_trip_over_http_with_a_local_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real wire path: AWS_ENDPOINT_URL pointing at moto's server on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    from readcrumbs.events import open_event_store

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        }.items():
            monkeypatch.setenv(name, value)
        store = open_event_store("dynamodb://rc-http")
        assert isinstance(store, DynamoEventStore)
        store.create_tables()
        store.ping()
        predictions = [make_prediction(n) for n in range(3)]
        store.write_predictions(predictions)
        store.write_feedback([make_feedback(1, request_id=None, position=None)])
        assert store.predictions() == predictions
        assert store.get_prediction("req-0002") == predictions[2]
        assert store.feedback() == [make_feedback(1, request_id=None, position=None)]
        store.close()
    finally:
        server.stop()


def test_numbers_outside_dynamodbs_range_are_handled() -> None:
    from readcrumbs.events.dynamodb import _number

    assert _number(1e-300) == 0 and _number(-0.0) == 0
    assert float(_number(1 / 3)) == 1 / 3
    with pytest.raises(ValueError, match="too large"):
        _number(1e200)


def test_a_bound_between_ts_and_its_sort_key_compares_on_ts_alone(store: DynamoEventStore) -> None:
    # "<ts>!" sorts after the record's ts but before its sort key "<ts>#<id>": a key condition
    # alone would let the record in, though start <= ts is false (as SQLite answers).
    record = make_prediction(1)
    store.write_predictions([record])
    assert store.predictions(start=record.ts + "!") == []
    assert store.predictions(start=record.ts) == [record]
