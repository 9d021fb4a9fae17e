"""scripts.aws_bootstrap: the bucket and both tables, created once, with the store's keys."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.config
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from readcrumbs.errors import ConfigError, StoreError
from readcrumbs.events.dynamodb import REQUEST_ID_INDEX
from readcrumbs.settings import Settings
from scripts import aws_bootstrap
from scripts.aws_bootstrap import BootstrapPlan, bootstrap, ensure_bucket, plan_from


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and an in-process moto; the real endpoint is never reached."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def aws_settings(tmp_path: Path, **overrides: str) -> Settings:
    values = {"registry_url": "s3://rc-bucket/registry", "events_url": "dynamodb://rc", **overrides}
    return Settings(home=tmp_path, **values)  # type: ignore[arg-type]


# -- the plan --------------------------------------------------------------------------------------
def test_plan_reads_the_bucket_and_table_prefix_from_the_urls(tmp_path: Path, aws: None):
    assert plan_from(aws_settings(tmp_path)) == BootstrapPlan("rc-bucket", "rc", "us-east-1")


def test_plan_uses_the_store_default_prefix_for_a_bare_dynamodb_url(tmp_path: Path, aws: None):
    plan = plan_from(aws_settings(tmp_path, events_url="dynamodb://"))
    assert plan.table_prefix == "readcrumbs"


def test_plan_overrides_win(tmp_path: Path, aws: None):
    plan = plan_from(aws_settings(tmp_path), bucket="other", table_prefix="tp", region="eu-west-1")
    assert plan == BootstrapPlan("other", "tp", "eu-west-1")


def test_plan_region_falls_back_to_aws_region(tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert plan_from(aws_settings(tmp_path)).region == "ap-south-1"


def test_plan_creates_only_what_is_on_aws(tmp_path: Path, aws: None):
    plan = plan_from(Settings(home=tmp_path, events_url="dynamodb://rc"))
    assert (plan.bucket, plan.table_prefix) == (None, "rc")


def test_plan_refuses_local_stores(tmp_path: Path):
    with pytest.raises(ConfigError, match="nothing to bootstrap"):
        plan_from(Settings(home=tmp_path))


# -- creating -------------------------------------------------------------------------------------
def test_bootstrap_creates_a_private_bucket_and_both_tables_with_their_keys(tmp_path: Path, aws: None):
    report = bootstrap(plan_from(aws_settings(tmp_path)))
    assert report == [
        "s3 bucket rc-bucket: created",
        "dynamodb table rc-logs: ready",
        "dynamodb table rc-feedback: ready",
    ]
    s3 = boto3.client("s3")
    s3.head_bucket(Bucket="rc-bucket")
    block = s3.get_public_access_block(Bucket="rc-bucket")["PublicAccessBlockConfiguration"]
    assert all(block.values())
    dynamodb = boto3.client("dynamodb")
    for table in ("rc-logs", "rc-feedback"):
        description = dynamodb.describe_table(TableName=table)["Table"]
        assert description["KeySchema"] == [
            {"AttributeName": "day", "KeyType": "HASH"},
            {"AttributeName": "ts_id", "KeyType": "RANGE"},
        ]
        assert description["TableStatus"] == "ACTIVE"
    logs = dynamodb.describe_table(TableName="rc-logs")["Table"]
    assert [index["IndexName"] for index in logs["GlobalSecondaryIndexes"]] == [REQUEST_ID_INDEX]


def test_bootstrap_twice_changes_nothing(tmp_path: Path, aws: None):
    plan = plan_from(aws_settings(tmp_path))
    bootstrap(plan)
    boto3.client("s3").put_object(Bucket="rc-bucket", Key="registry/keep.txt", Body=b"kept")
    assert bootstrap(plan)[0] == "s3 bucket rc-bucket: already there"
    assert (
        boto3.client("s3").get_object(Bucket="rc-bucket", Key="registry/keep.txt")["Body"].read() == b"kept"
    )


def test_bucket_outside_us_east_1_gets_its_location(aws: None):
    s3 = boto3.client("s3", region_name="eu-west-1")
    assert ensure_bucket(s3, "rc-eu", "eu-west-1") is True
    assert s3.get_bucket_location(Bucket="rc-eu")["LocationConstraint"] == "eu-west-1"


def test_a_table_with_other_keys_is_refused(tmp_path: Path, aws: None):
    boto3.client("dynamodb").create_table(
        TableName="rc-logs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ConfigError, match="rc-logs exists with keys"):
        bootstrap(plan_from(aws_settings(tmp_path)))


def test_a_bucket_of_another_account_is_reported():
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(s3) as stub:
        stub.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
        with pytest.raises(StoreError, match="another account"):
            ensure_bucket(s3, "taken", "us-east-1")


def test_an_unreachable_endpoint_is_a_store_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(StoreError, match="cannot reach S3"):
        ensure_bucket(s3, "rc", "us-east-1")


# -- command line ---------------------------------------------------------------------------------
def test_main_prints_what_it_did(
    tmp_path: Path, aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr(aws_bootstrap, "get_settings", lambda: aws_settings(tmp_path))
    assert aws_bootstrap.main(["--table-prefix", "cli"]) == 0
    out = capsys.readouterr().out
    assert "s3 bucket rc-bucket: created" in out
    assert "dynamodb table cli-logs: ready" in out


def test_main_explains_when_nothing_is_on_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr(aws_bootstrap, "get_settings", lambda: Settings(home=tmp_path))
    assert aws_bootstrap.main([]) == 1
    assert "READCRUMBS_REGISTRY_URL=s3://" in capsys.readouterr().err
