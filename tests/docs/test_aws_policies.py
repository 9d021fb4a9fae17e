"""docs/aws/*.json: the IAM policies grant what the AWS code calls, and nothing more.

The boto3 operations are read from the source (``ast``), so adding a call to the S3 blob store or
the DynamoDB event store without updating the policy fails here, not in production.
"""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import boto3
import pytest

from readcrumbs.blobs import s3 as s3_blobs
from readcrumbs.events import dynamodb
from scripts import aws_bootstrap

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_POLICY = ROOT / "docs" / "aws" / "iam-policy.json"
BOOTSTRAP_POLICY = ROOT / "docs" / "aws" / "iam-bootstrap-policy.json"
# Operations authorised by another action (S3's documented exceptions) and boto3 helpers.
ACTION_OF = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
HELPERS = {"batch_writer": "BatchWriteItem"}
WAITERS = {"table_exists": "DescribeTable"}
# Functions that only `make aws-bootstrap` runs.
BOOTSTRAP_ONLY = {"create_tables", "_check_keys"}


def calls_by_function(module: ModuleType) -> dict[str, set[str]]:
    """Every ``x.method(…)`` name, and waiter/paginator names, per function of ``module``."""
    tree = ast.parse(inspect.getsource(module))
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = found.setdefault(node.name, set())
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                    names.add(call.func.attr)
                    if call.func.attr in ("get_waiter", "get_paginator") and call.args:
                        argument = call.args[0]
                        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                            names.add(argument.value)
    return found


def actions(service: Literal["s3", "dynamodb"], method_names: set[str]) -> set[str]:
    """The IAM actions of the boto3 client methods among ``method_names``."""
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    mapping: dict[str, str] = {**client.meta.method_to_api_mapping, **HELPERS, **WAITERS}
    operations = {f"{service}:{mapping[name]}" for name in method_names if name in mapping}
    return {ACTION_OF.get(operation, operation) for operation in operations}


def granted(policy: dict[str, Any]) -> dict[str, set[str]]:
    """Action -> the resources it is allowed on."""
    result: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert "*" not in resources, f"{statement['Sid']} grants on every resource"
        for action in statement["Action"]:
            assert "*" not in action, f"{statement['Sid']} grants a wildcard action {action}"
            result.setdefault(action, set()).update(resources)
    return result


def load(path: Path) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(path.read_text())
    assert policy["Version"] == "2012-10-17"
    return policy


def runtime_actions() -> set[str]:
    s3_calls = set().union(*calls_by_function(s3_blobs).values())
    dynamo_calls = set().union(
        *(names for function, names in calls_by_function(dynamodb).items() if function not in BOOTSTRAP_ONLY)
    )
    return actions("s3", s3_calls) | actions("dynamodb", dynamo_calls)


def test_the_source_scan_finds_the_known_calls():
    # Guards the scan itself: if it found nothing, the equality below would prove nothing.
    assert {"s3:GetObject", "s3:PutObject", "dynamodb:Query", "dynamodb:BatchWriteItem"} <= runtime_actions()


def test_runtime_policy_grants_exactly_what_the_stores_call():
    assert set(granted(load(RUNTIME_POLICY))) == runtime_actions()


def test_runtime_policy_cannot_create_or_drop_anything():
    for action in granted(load(RUNTIME_POLICY)):
        assert not action.split(":")[1].startswith(("Create", "DeleteTable", "DeleteBucket", "Scan"))


def test_runtime_policy_is_scoped_to_the_bucket_prefix_and_the_two_tables():
    allowed = granted(load(RUNTIME_POLICY))
    assert allowed["s3:GetObject"] == {"arn:aws:s3:::BUCKET_NAME/REGISTRY_PREFIX/*"}
    assert allowed["s3:ListBucket"] == {"arn:aws:s3:::BUCKET_NAME"}
    store = dynamodb.DynamoEventStore("TABLE_PREFIX", region_name="us-east-1")
    logs, feedback = (
        f"arn:aws:dynamodb:REGION:ACCOUNT_ID:table/{t}" for t in (store.logs_table, store.feedback_table)
    )
    store.close()
    assert allowed["dynamodb:PutItem"] == {logs, feedback}
    # get_prediction queries the request-id index of the logs table.
    assert f"{logs}/index/*" in allowed["dynamodb:Query"]


@pytest.mark.parametrize("module, service", [(aws_bootstrap, "s3"), (dynamodb, "dynamodb")])
def test_bootstrap_policy_covers_what_the_bootstrap_calls(
    module: ModuleType, service: Literal["s3", "dynamodb"]
):
    functions = calls_by_function(module)
    names = (
        set().union(*functions.values())
        if module is aws_bootstrap
        else set().union(*(functions[name] for name in BOOTSTRAP_ONLY))
    )
    needed = actions(service, names)
    assert needed, f"no {service} call found in {module.__name__}"
    assert needed <= set(granted(load(BOOTSTRAP_POLICY)))
