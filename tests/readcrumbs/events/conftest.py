"""Fixtures of the event-store tests: record factories and one store per backend."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from readcrumbs.events.base import EventStore
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord, to_iso
from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.events.summary import TrafficSummary

# Late on a day, so that a few minutes later is the next UTC day: windows cross day buckets.
T0 = datetime(2026, 11, 28, 23, 58, 0, 123000, tzinfo=UTC)


def at(seconds: float) -> str:
    """The records' timestamp ``seconds`` after :data:`T0`."""
    return to_iso(T0 + timedelta(seconds=seconds))


def make_prediction(n: int, seconds: float | None = None, **fields: Any) -> PredictionRecord:
    """Prediction number ``n``, logged ``seconds`` (default ``n * 60``) after T0.

    The arm cycles production, challenger, shadow (with what the challenger would have shown),
    so every store round-trips each arm's fields.
    """
    arm = ("production", "challenger", "shadow")[n % 3]
    values: dict[str, Any] = {
        "request_id": f"req-{n:04d}",
        "ts": at(n * 60 if seconds is None else seconds),
        "userid": f"reader-{n % 3}",
        "items": [f"Book {n}", "Les Misérables"],
        "item_ids": [n + 1, 7],
        "prediction": [f"Answer {n}-{rank}" for rank in range(3)],
        "prediction_ids": [100 + n, 200 + n, 300 + n],
        "scores": [0.9, 1 / 3, -2.5e-7],
        "latency_ms": 1.25 + n,
        "model_version": "3",
        "unknown": [],
        "k": 3,
        "arm": arm,
    }
    if arm == "shadow":
        values |= {
            "shadow_version": "4",
            "shadow_prediction_ids": [400 + n, 100 + n],
            "shadow_scores": [0.5, 0.25],
        }
    values.update(fields)
    return PredictionRecord(**values)


def make_feedback(n: int, seconds: float | None = None, **fields: Any) -> FeedbackRecord:
    """Feedback number ``n`` on prediction ``n``, ``seconds`` (default ``n * 60 + 1``) after T0."""
    values: dict[str, Any] = {
        "feedback_id": f"fb-{n:04d}",
        "ts": at(n * 60 + 1 if seconds is None else seconds),
        "userid": f"reader-{n % 3}",
        "request_id": f"req-{n:04d}",
        "book_id": 100 + n,
        "title": f"Answer {n}-0",
        "position": 0,
        "value": 1 if n % 2 == 0 else -1,
    }
    values.update(fields)
    return FeedbackRecord(**values)


# Latency edges of the summaries compared across stores: scattered_records puts latencies on them.
SCATTER_EDGES = [0.5 * 1.5**i for i in range(12)]


def scattered_records(n: int, seed: int) -> list[PredictionRecord]:
    """``n`` predictions over three days: latencies on and between edges, 40 readers, 3 versions."""
    rng = random.Random(seed)
    return [
        make_prediction(
            i,
            seconds=rng.uniform(0, 3 * 86_400),
            userid=f"u{rng.randrange(40)}",
            latency_ms=rng.choice([rng.uniform(0, 20), rng.choice(SCATTER_EDGES), rng.lognormvariate(1, 1)]),
            model_version=rng.choice(["1", "2", "10"]),
        )
        for i in range(n)
    ]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and moto's in-process DynamoDB; no request leaves the process."""
    moto = pytest.importorskip("moto")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        yield


@pytest.fixture(scope="session")
def boto_session() -> Any:
    """One boto3 session for every DynamoDB test: it loads the service models once (~0.3 s).

    Made after moto is imported, so its clients carry moto's hook (active only under mock_aws).
    """
    pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    return boto3.session.Session()


@pytest.fixture
def dynamo_store(aws: None, boto_session: Any) -> Iterator[EventStore]:
    """A DynamoDB store whose tables exist, on moto."""
    from readcrumbs.events.dynamodb import DynamoEventStore

    store = DynamoEventStore("rc-test", session=boto_session)
    store.create_tables()
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """Every event-store backend in turn: the contract suite runs against each."""
    if request.param == "dynamodb":
        dynamo: EventStore = request.getfixturevalue("dynamo_store")
        yield dynamo
        return
    backend: EventStore = (
        MemoryEventStore() if request.param == "memory" else SqliteEventStore(tmp_path / "events" / "rc.db")
    )
    yield backend
    backend.close()


def assert_same_summary(got: TrafficSummary, expected: TrafficSummary) -> None:
    """Two traffic summaries hold the same counts; latency sums agree to rounding.

    Stores add a cell's latencies in different orders (SQL, pandas), so sums may differ in the
    last bits; every count must be equal.
    """
    assert (got.bucket_s, got.latency_edges_ms, got.users) == (
        expected.bucket_s,
        expected.latency_edges_ms,
        expected.users,
    )
    counts = ["bucket_start_s", "model_version", "latency_bin", "requests"]
    pd.testing.assert_frame_equal(got.cells[counts], expected.cells[counts])
    np.testing.assert_allclose(got.cells["latency_sum_ms"], expected.cells["latency_sum_ms"], rtol=1e-12)
    pd.testing.assert_frame_equal(got.bucket_users, expected.bucket_users)
