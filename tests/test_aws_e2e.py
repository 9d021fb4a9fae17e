"""The AWS path end to end, over real HTTP on 127.0.0.1: nothing in-process is mocked.

moto's server stands in for AWS (S3 + DynamoDB). The test bootstraps the bucket and tables with
``scripts.aws_bootstrap``, trains and promotes a model into S3 with ``experiments.pipeline`` on a
tiny dataset it writes in the official goodbooks-10k layout, serves it from S3 with
``python -m backend`` (uvicorn), asks for recommendations and gives feedback over HTTP, and
reads the records back from DynamoDB with a plain boto3 client.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3
import httpx
import pytest

from tests.backend.live import free_port
from tests.tiny_goodbooks import write_tiny_goodbooks

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "readcrumbs-e2e"
TABLE_PREFIX = "rc-e2e"
# Two quick model types keep the test well under a minute; the gate still picks the better one.
PIPELINE_COMMAND = [sys.executable, "-m", "experiments.pipeline", "--models", "ease,popularity"]


def wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout_s} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Emulator:
    """moto's server on 127.0.0.1 and the environment that points boto3 at it."""

    endpoint: str
    env: Mapping[str, str]

    def client(self, service: Literal["s3", "dynamodb"]) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{endpoint}/moto-api/", server, timeout_s=30)
        keep = {
            key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "READCRUMBS_"))
        }
        env = {
            **keep,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "WANDB_MODE": "disabled",
            "WANDB_SILENT": "true",
            "READCRUMBS_HOME": str(tmp_path / "home"),
            "READCRUMBS_REGISTRY_URL": f"s3://{BUCKET}/registry",
            "READCRUMBS_EVENTS_URL": f"dynamodb://{TABLE_PREFIX}",
            "READCRUMBS_DATA_SOURCE": str(tmp_path / "goodbooks"),
        }
        yield Emulator(endpoint, env)
    finally:
        stop(server)


def run_step(command: Sequence[str], env: Mapping[str, str], timeout_s: float) -> str:
    """Run one command from the repository root; its output, or a failure that shows it."""
    result = subprocess.run(
        list(command), cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout_s, check=False
    )
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def scan(emulator: Emulator, table: str) -> list[dict[str, Any]]:
    dynamodb = emulator.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_train_into_s3_serve_from_s3_and_log_to_dynamodb(tmp_path: Path, emulator: Emulator):
    started = time.monotonic()
    titles = write_tiny_goodbooks(tmp_path / "goodbooks")
    env = emulator.env

    # 1. bootstrap: the bucket and both tables, twice (idempotent).
    for _ in range(2):
        run_step([sys.executable, "-m", "scripts.aws_bootstrap"], env, timeout_s=60)
    assert set(emulator.client("dynamodb").list_tables()["TableNames"]) >= {
        f"{TABLE_PREFIX}-logs",
        f"{TABLE_PREFIX}-feedback",
    }

    # 2. train into S3: data -> train -> evaluate -> register -> promote.
    run_step(PIPELINE_COMMAND, env, timeout_s=90)
    s3 = emulator.client("s3")
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix="registry/")["Contents"]]
    assert "registry/models/readcrumbs/aliases/production.json" in keys
    assert any(key.endswith("/manifest.json") for key in keys)

    # 3. serve from S3.
    port = free_port()
    backend = subprocess.Popen(
        [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/ready", backend, timeout_s=60)
        favourites = [titles[0], titles[2], titles[4]]
        answer = httpx.post(
            f"{base}/predict", json={"items": favourites, "userid": "e2e-reader", "k": 5}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        prediction = answer.json()
        assert len(prediction["recs"]) == 5 and not set(prediction["recs"]) & set(favourites)
        liked = prediction["books"][0]
        feedback = httpx.post(
            f"{base}/feedback",
            json={
                "userid": "e2e-reader",
                "feedback": 1,
                "book_id": liked["book_id"],
                "request_id": prediction["request_id"],
                "position": 0,
            },
            timeout=10,
        )
        assert feedback.status_code in (200, 201), feedback.text

        # 4. the records are in DynamoDB (the backend writes in the background, in batches).
        deadline = time.monotonic() + 15
        logs: list[dict[str, Any]] = []
        likes: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not (logs and likes):
            logs = [i for i in scan(emulator, f"{TABLE_PREFIX}-logs") if "request_id" in i]
            likes = [i for i in scan(emulator, f"{TABLE_PREFIX}-feedback") if "feedback_id" in i]
            time.sleep(0.3)
    finally:
        stop(backend)
    assert [item["request_id"]["S"] for item in logs] == [prediction["request_id"]]
    assert logs[0]["userid"]["S"] == "e2e-reader"
    assert [value["S"] for value in logs[0]["items"]["L"]] == favourites
    assert [int(value["N"]) for value in logs[0]["prediction_ids"]["L"]] == [
        b["book_id"] for b in prediction["books"]
    ]
    assert len(likes) == 1
    assert likes[0]["request_id"]["S"] == prediction["request_id"]
    assert int(likes[0]["book_id"]["N"]) == liked["book_id"]
    assert int(likes[0]["value"]["N"]) == 1
    assert time.monotonic() - started < 60
