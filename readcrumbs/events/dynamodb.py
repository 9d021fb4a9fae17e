"""Event store on two DynamoDB tables (``dynamodb://<table-prefix>``, default ``readcrumbs``).

boto3 is imported here only. The endpoint comes from ``AWS_ENDPOINT_URL`` when set (a local
emulator such as moto's server), which boto3 honours itself; the region from ``AWS_REGION``,
then ``AWS_DEFAULT_REGION`` and the AWS config files.

Key design, the same for ``<prefix>-logs`` (predictions) and ``<prefix>-feedback``:

- partition key ``day`` = the record's UTC day ``YYYY-MM-DD`` (``ts[:10]``), sort key
  ``ts_id`` = ``<ts>#<id>``. A time window is one Query per day in it, each already sorted, so
  reads come back oldest first with no Scan. Rewriting a record puts the same key again, which
  makes replays idempotent.
- a day index: one tiny item per day that holds records (``day = "#days"``, ``ts_id = <day>``),
  written before the day's first records. An open window (no ``start``/``end``) and
  :meth:`~DynamoEventStore.random_prediction` read it (a Query) to learn which days exist.
- ``traffic_summary`` reads the window's predictions with a projection of the four fields it
  counts (``ts``, ``userid``, ``latency_ms``, ``model_version``; a version filter is a
  ``FilterExpression``) and aggregates them here: DynamoDB has no GROUP BY. It reads every
  prediction of the window once, by Query, never a Scan; ``predictions_frame(newest=n)`` and
  ``prediction_span`` query the newest days first and stop as soon as they have their answer.
- ``get_prediction``: the logs table has a global secondary index ``request_id-index``
  (partition key ``request_id``, keys only); a Query on it finds the item's key and a
  consistent GetItem reads it. The index is eventually consistent: a prediction written a
  moment ago may not be found for up to a second or so.
- ``random_prediction``: picks one of the last ``recent_days`` days that hold predictions,
  then a random instant in it, and reads the first prediction at or after that instant
  (wrapping to the day's first). Two or three small Queries, no Scan; the price is that it is
  only roughly uniform: a prediction's chance grows with the quiet time before it, and a quiet
  day counts as much as a busy one.

Writes go through ``batch_writer`` (25 items a request, unprocessed items retried). Every
failure (throttling after boto3's retries, an unreachable endpoint, a missing table, any
``ClientError``) is raised as :class:`~readcrumbs.errors.StoreError`, so the backend's writer
spools. Timeouts are short so that an unreachable endpoint fails in seconds, not minutes.
A single day is a single partition: past about 1,000 writes a second it would need a shard
suffix on ``day``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import botocore.config
import botocore.exceptions
from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from readcrumbs.errors import ConfigError, StoreError
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

DEFAULT_TABLE_PREFIX = "readcrumbs"
DAYS_PARTITION = "#days"  # never a date, so it cannot collide with a day of records
REQUEST_ID_INDEX = "request_id-index"
_MS_PER_DAY = 86_400_000
# DynamoDB numbers span 1e-130 .. 1e126 in magnitude; anything smaller is zero for our purposes.
_TINY = 1e-120

Item = dict[str, Any]


def _number(value: float) -> Decimal:
    """A float as the Decimal DynamoDB stores; ``repr`` makes the round trip exact."""
    if abs(value) < _TINY:
        return Decimal(0)
    if abs(value) >= 1e125:
        raise ValueError(f"{value!r} is too large for a DynamoDB number")
    return Decimal(repr(value))


def _same(value: Any) -> Any:
    return value


def _numbers(values: Sequence[float]) -> list[Decimal]:
    return [_number(value) for value in values]


# How each kind is stored (floats as Decimal) and comes back (Decimal -> int/float).
_ENCODERS: Mapping[Kind, Callable[[Any], Any]] = {Kind.FLOAT: _number, Kind.FLOATS: _numbers}
_DECODERS: Mapping[Kind, Callable[[Any], Any]] = {
    Kind.INT: int,
    Kind.FLOAT: float,
    Kind.TEXTS: list,
    Kind.INTS: lambda values: [int(value) for value in values],
    Kind.FLOATS: lambda values: [float(value) for value in values],
}


def _encoder(spec: RecordField) -> Callable[[Any], Any]:
    return _ENCODERS.get(spec.kind, _same)


def _decoder(spec: RecordField) -> Callable[[Item], Any]:
    """Reads one field from an item; a field the item lacks reads as None or its default.

    Optional fields are left out of items when None, and items written before a field existed
    lack it: both read back as the record's default.
    """
    name, decode = spec.name, _DECODERS.get(spec.kind, _same)

    def read(item: Item) -> Any:
        value = item.get(name)
        if value is None:
            return None if spec.required else spec.fresh_default()
        return decode(value)

    return read


_PREDICTION_ENCODERS = tuple((f.name, _encoder(f)) for f in prediction_fields())
_FEEDBACK_ENCODERS = tuple((f.name, _encoder(f)) for f in feedback_fields())
_PREDICTION_DECODERS: Mapping[str, Callable[[Item], Any]] = {f.name: _decoder(f) for f in prediction_fields()}
_FEEDBACK_DECODERS: Mapping[str, Callable[[Item], Any]] = {f.name: _decoder(f) for f in feedback_fields()}


def _item(day: str, ts_id: str, record: Any, encoders: Sequence[tuple[str, Callable[[Any], Any]]]) -> Item:
    item: Item = {"day": day, "ts_id": ts_id}
    for name, encode in encoders:
        value = getattr(record, name)
        if value is not None:  # missing optional fields are left out rather than stored as NULL
            item[name] = encode(value)
    return item


def _prediction_item(record: PredictionRecord) -> Item:
    return _item(record.ts[:10], f"{record.ts}#{record.request_id}", record, _PREDICTION_ENCODERS)


def _feedback_item(record: FeedbackRecord) -> Item:
    return _item(record.ts[:10], f"{record.ts}#{record.feedback_id}", record, _FEEDBACK_ENCODERS)


def _prediction_from_item(item: Item) -> PredictionRecord:
    return PredictionRecord(*[_PREDICTION_DECODERS[name](item) for name in codec.PREDICTION_FIELDS])


def _feedback_from_item(item: Item) -> FeedbackRecord:
    return FeedbackRecord(*[_FEEDBACK_DECODERS[name](item) for name in codec.FEEDBACK_FIELDS])


def _table_specs(logs: str, feedback: str) -> list[dict[str, Any]]:
    """``create_table`` arguments of both tables (on-demand billing)."""
    keys = [{"AttributeName": "day", "KeyType": "HASH"}, {"AttributeName": "ts_id", "KeyType": "RANGE"}]
    attributes = [
        {"AttributeName": "day", "AttributeType": "S"},
        {"AttributeName": "ts_id", "AttributeType": "S"},
    ]
    return [
        {
            "TableName": logs,
            "KeySchema": keys,
            "AttributeDefinitions": [*attributes, {"AttributeName": "request_id", "AttributeType": "S"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": REQUEST_ID_INDEX,
                    "KeySchema": [{"AttributeName": "request_id", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
        {
            "TableName": feedback,
            "KeySchema": keys,
            "AttributeDefinitions": attributes,
            "BillingMode": "PAY_PER_REQUEST",
        },
    ]


class DynamoEventStore:
    """Predictions and feedback in ``<prefix>-logs`` and ``<prefix>-feedback``; see the module."""

    def __init__(
        self,
        table_prefix: str = DEFAULT_TABLE_PREFIX,
        *,
        session: boto3.session.Session | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        connect_timeout_s: float = 2.0,
        read_timeout_s: float = 5.0,
        max_attempts: int = 3,
        recent_days: int = 30,
        rng: random.Random | None = None,
    ) -> None:
        """Connect lazily (no request is sent); ``session`` lets tests hook boto3's events.

        ``max_attempts`` counts boto3's tries of one request, retries of throttling included.
        """
        self.table_prefix = table_prefix
        self.url = f"dynamodb://{table_prefix}"
        self.logs_table = f"{table_prefix}-logs"
        self.feedback_table = f"{table_prefix}-feedback"
        self.recent_days = recent_days
        self._rng = rng or random.Random()
        self._closed = False
        self._write_lock = threading.Lock()
        self._known_days: set[tuple[str, str]] = set()  # (table, day) whose index item exists
        self._failures: tuple[type[Exception], ...] = (
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        )
        config = botocore.config.Config(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        region = region_name or os.environ.get("AWS_REGION") or None
        try:
            session = session or boto3.session.Session()
            # The resource's client takes and returns plain Python values (Decimal for numbers);
            # clients are thread-safe, resources are not, so reads use the client only.
            self._resource = session.resource(
                "dynamodb", region_name=region, endpoint_url=endpoint_url, config=config
            )
        except botocore.exceptions.NoRegionError as exc:
            raise ConfigError(f"{self.url}: no AWS region; set AWS_REGION or AWS_DEFAULT_REGION") from exc
        self._client = self._resource.meta.client

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn every boto3 failure inside into a StoreError that names the action."""
        if self._closed:
            raise StoreError(f"{self.url} is closed")
        try:
            yield
        except self._failures as exc:
            raise StoreError(f"cannot {action} {self.url}: {exc}") from exc

    # --- tables -------------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create both tables if missing and wait until they are active; safe to repeat.

        Raises :class:`~readcrumbs.errors.ConfigError` when a table exists with other keys.
        """
        with self._guard("create the tables of"):
            for spec in _table_specs(self.logs_table, self.feedback_table):
                try:
                    self._client.create_table(**spec)
                except self._client.exceptions.ResourceInUseException:
                    self._check_keys(spec)
            waiter = self._client.get_waiter("table_exists")
            for name in (self.logs_table, self.feedback_table):
                waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})

    def _check_keys(self, spec: Mapping[str, Any]) -> None:
        found = self._client.describe_table(TableName=spec["TableName"])["Table"]["KeySchema"]
        if sorted(map(str, found)) != sorted(map(str, spec["KeySchema"])):
            raise ConfigError(
                f"table {spec['TableName']} exists with keys {found}, expected {spec['KeySchema']}"
            )

    def ping(self) -> None:
        with self._guard("reach"):
            for name in (self.logs_table, self.feedback_table):
                status = self._client.describe_table(TableName=name)["Table"]["TableStatus"]
                if status not in ("ACTIVE", "UPDATING"):
                    raise StoreError(f"table {name} of {self.url} is {status}")

    def close(self) -> None:
        self._closed = True
        self._client.close()

    # --- writes -------------------------------------------------------------------------

    def _put(self, table: str, items: list[Item], action: str) -> None:
        if not items:
            return
        with self._write_lock, self._guard(action):
            # Index the days first: a record whose day is not indexed would be invisible to
            # open windows. A failure after this point leaves at most an empty day indexed.
            for day in sorted({item["day"] for item in items}):
                if (table, day) not in self._known_days:
                    self._client.put_item(TableName=table, Item={"day": DAYS_PARTITION, "ts_id": day})
                    self._known_days.add((table, day))
            # overwrite_by_pkeys drops duplicates inside a batch, which DynamoDB would refuse.
            with self._resource.Table(table).batch_writer(overwrite_by_pkeys=["day", "ts_id"]) as writer:
                for item in items:
                    writer.put_item(Item=item)

    def write_predictions(self, records: Sequence[PredictionRecord]) -> None:
        items = [_prediction_item(codec.normalize_prediction(record)) for record in records]
        self._put(self.logs_table, items, "write predictions to")

    def write_feedback(self, records: Sequence[FeedbackRecord]) -> None:
        items = [_feedback_item(codec.normalize_feedback(record)) for record in records]
        self._put(self.feedback_table, items, "write feedback to")

    # --- reads --------------------------------------------------------------------------

    def _query(self, **params: Any) -> Iterator[Item]:
        """Every item of a Query, page after page."""
        while True:
            page = self._client.query(**params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _days(self, table: str) -> list[str]:
        """The days that hold records, oldest first."""
        items = self._query(
            TableName=table, KeyConditionExpression=Key("day").eq(DAYS_PARTITION), ConsistentRead=True
        )
        return [item["ts_id"] for item in items]

    def _window(
        self,
        table: str,
        start: str | None,
        end: str | None,
        fields: Sequence[str] | None,
        *,
        newest_first: bool = False,
        page_size: int | None = None,
        versions: Sequence[str] | None = None,
    ) -> Iterator[Item]:
        """Items with ``start <= ts < end``: one Query per indexed day, oldest first by default.

        ``newest_first`` walks days and items backwards, so a caller that stops early reads only
        the newest items; ``page_size`` is each Query's ``Limit``; ``versions`` keeps only items
        of those model versions (a filter: DynamoDB still reads, and bills, the others).
        """
        codec.check_bound(start)
        codec.check_bound(end)
        if start is not None and end is not None and start >= end:
            return
        start_day = None if start is None else start[:10]
        end_day = None if end is None else end[:10]
        extra: dict[str, Any] = {"ScanIndexForward": not newest_first}
        if fields is not None:
            names = {f"#f{i}": name for i, name in enumerate({"ts", *fields})}
            extra |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        if page_size is not None:
            extra["Limit"] = page_size
        if versions is not None:
            extra["FilterExpression"] = Attr("model_version").is_in(list(versions))
        days = self._days(table)
        for day in reversed(days) if newest_first else days:
            if (start_day is not None and day < start_day) or (end_day is not None and day > end_day):
                continue
            condition: ConditionBase = Key("day").eq(day)
            if start is not None and day == start_day and end is not None and day == end_day:
                condition &= Key("ts_id").between(start, end)
            elif start is not None and day == start_day:
                condition &= Key("ts_id").gte(start)
            elif end is not None and day == end_day:
                condition &= Key("ts_id").lt(end)
            items = self._query(
                TableName=table, KeyConditionExpression=condition, ConsistentRead=True, **extra
            )
            # The key condition compares "ts#id" with the bounds; this check makes it exact.
            yield from (item for item in items if codec.in_window(item["ts"], start, end))

    def predictions(self, start: str | None = None, end: str | None = None) -> list[PredictionRecord]:
        with self._guard("read predictions from"):
            return [_prediction_from_item(item) for item in self._window(self.logs_table, start, end, None)]

    def feedback(self, start: str | None = None, end: str | None = None) -> list[FeedbackRecord]:
        with self._guard("read feedback from"):
            records = [
                _feedback_from_item(item) for item in self._window(self.feedback_table, start, end, None)
            ]
        # A later vote with the same feedback_id is a new item (ts is in the key): the latest wins.
        latest: dict[str, FeedbackRecord] = {}
        for record in records:
            if record.feedback_id not in latest or record.ts >= latest[record.feedback_id].ts:
                latest[record.feedback_id] = record
        return [record for record in records if latest[record.feedback_id] is record]

    def get_prediction(self, request_id: str) -> PredictionRecord | None:
        if not request_id:  # an empty key is refused by DynamoDB; no record has one
            return None
        with self._guard("read a prediction from"):
            found = self._client.query(
                TableName=self.logs_table,
                IndexName=REQUEST_ID_INDEX,
                KeyConditionExpression=Key("request_id").eq(request_id),
                Limit=1,
            )["Items"]
            if not found:
                return None
            key = {"day": found[0]["day"], "ts_id": found[0]["ts_id"]}
            item = self._client.get_item(TableName=self.logs_table, Key=key, ConsistentRead=True).get("Item")
        return None if item is None else _prediction_from_item(item)

    def random_prediction(self) -> PredictionRecord | None:
        with self._guard("read a prediction from"):
            days = self._days(self.logs_table)[-self.recent_days :]
            self._rng.shuffle(days)
            for day in days:  # a day indexed by a failed write may be empty: try the next
                item = self._first_from_random_instant(day)
                if item is not None:
                    return _prediction_from_item(item)
        return None

    def _first_from_random_instant(self, day: str) -> Item | None:
        ms = self._rng.randrange(_MS_PER_DAY)
        instant = (
            f"{day}T{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z"
        )
        for condition in (Key("day").eq(day) & Key("ts_id").gte(instant), Key("day").eq(day)):
            items = self._client.query(
                TableName=self.logs_table, KeyConditionExpression=condition, Limit=1, ConsistentRead=True
            )["Items"]
            if items:
                return dict(items[0])
        return None

    def predictions_frame(
        self,
        start: str | None = None,
        end: str | None = None,
        columns: Sequence[str] | None = None,
        newest: int | None = None,
    ) -> pd.DataFrame:
        chosen = codec.check_columns(columns)
        codec.check_newest(newest)
        with self._guard("read predictions from"):
            if newest is None:
                items = list(self._window(self.logs_table, start, end, chosen))
            else:
                page = min(newest, 1000)
                window = self._window(self.logs_table, start, end, chosen, newest_first=True, page_size=page)
                items = list(itertools.islice(window, newest))[::-1]
        values = {name: [_PREDICTION_DECODERS[name](item) for item in items] for name in chosen}
        return codec.frame(values, codec.PREDICTION_DTYPES)

    def prediction_span(self, start: str | None = None, end: str | None = None) -> tuple[str, str] | None:
        with self._guard("read predictions from"):
            first = next(self._window(self.logs_table, start, end, ["ts"], page_size=1), None)
            if first is None:
                return None
            last = next(self._window(self.logs_table, start, end, ["ts"], newest_first=True, page_size=1))
        return str(first["ts"]), str(last["ts"])

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
        if chosen == ():
            codec.check_bound(start)
            codec.check_bound(end)
            return summary.empty(bucket_s, edges)
        fields = ["ts", "userid", "latency_ms", "model_version"]
        with self._guard("read predictions from"):
            items = list(self._window(self.logs_table, start, end, fields, versions=chosen))
        return summary.summarize(
            [item["ts"] for item in items],
            [item["userid"] for item in items],
            [float(item["latency_ms"]) for item in items],
            [item["model_version"] for item in items],
            bucket_s,
            edges,
        )

    def feedback_frame(self, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        return codec.feedback_frame(self.feedback(start, end))


def create_tables(table_prefix: str = DEFAULT_TABLE_PREFIX) -> None:
    """Create ``<prefix>-logs`` and ``<prefix>-feedback`` if missing (``make aws-bootstrap``)."""
    store = DynamoEventStore(table_prefix)
    try:
        store.create_tables()
    finally:
        store.close()


if __name__ == "__main__":
    # python -m readcrumbs.events.dynamodb [table-prefix]
    create_tables(*sys.argv[1:2])
    print(f"tables {sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TABLE_PREFIX}-logs and -feedback are ready")
