"""Fault: DynamoDB throttles every write, or cannot be reached at all (moto, errors injected).

Errors are injected at botocore's ``before-call`` hook of the store's own session, so the real
DynamoDB store code turns them into StoreError as it would on AWS: a throttled write answers
``ProvisionedThroughputExceededException``, an unreachable endpoint raises
``EndpointConnectionError``. Requests keep being answered; records are spooled, then replayed
once DynamoDB recovers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import make_settings
from tests.backend.tiny import predict_payload
from tests.reliability.conftest import wait_until

moto = pytest.importorskip("moto")
import boto3  # noqa: E402
from botocore.awsrequest import AWSResponse, HTTPHeaders  # noqa: E402
from botocore.exceptions import EndpointConnectionError  # noqa: E402

from readcrumbs.events.dynamodb import DynamoEventStore  # noqa: E402

WRITES = ("BatchWriteItem", "PutItem")


class Outage:
    """A ``before-call`` handler: while ``on``, fails the chosen DynamoDB operations."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.on = False
        self.failed_calls = 0

    def __call__(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not self.on:
            return None
        if self.kind == "throttled" and model.name in WRITES:
            self.failed_calls += 1
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded (test)"}
            return AWSResponse("https://dynamodb.test", 400, HTTPHeaders(), None), {"Error": error}
        if self.kind == "unreachable":
            self.failed_calls += 1
            raise EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com")
        return None


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
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


@pytest.mark.parametrize("kind", ["throttled", "unreachable"])
def test_records_are_spooled_during_the_outage_and_replayed_after(tmp_path, registry, aws, kind):
    session = boto3.session.Session()
    outage = Outage(kind)
    # Before the store exists: a client copies its session's handlers when it is created.
    session.events.register("before-call.dynamodb", outage, unique_id="rc-outage")  # type: ignore[arg-type]
    store = DynamoEventStore("rc-outage", session=session, max_attempts=1)
    store.create_tables()
    app = create_app(make_settings(tmp_path / "home"), registry=registry, event_store=store)
    with TestClient(app) as client:
        writer = app.state.runtime.writer
        outage.on = True
        request_ids, shown = [], []
        for n in range(10):
            answer = client.post("/predict", json=predict_payload("Emma", userid=f"r{n}"))
            assert answer.status_code == 200
            request_ids.append(answer.json()["request_id"])
            shown.append(answer.json()["books"][0]["book_id"])
        liked = client.post(
            "/feedback",
            json={"userid": "r0", "book_id": shown[0], "feedback": 1, "request_id": request_ids[0]},
        )
        assert liked.status_code == 200
        wait_until(lambda: writer.spool.count == 11, what="all 11 records spooled")
        assert outage.failed_calls >= 1
        # Throttled or locked: reads answer but writes fail, so the store is degraded, not ok.
        expected_state = "unavailable" if kind == "unreachable" else "degraded"
        assert client.get("/ready").json()["event_store"]["state"] == expected_state
        outage.on = False
        wait_until(lambda: writer.spool.count == 0, timeout=20, what="the spool replayed")
        assert client.get("/ready").json()["event_store"] == {
            "kind": "dynamodb",
            "state": "ok",
            "queue_depth": 0,
            "held": 0,
            "spooled": 0,
        }
    assert sorted(record.request_id for record in store.predictions()) == sorted(request_ids)
    assert [record.feedback_id for record in store.feedback()] == [liked.json()["feedback_id"]]
    store.close()
