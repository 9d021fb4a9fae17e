"""``make aws-bootstrap``: create the S3 bucket and both DynamoDB tables ReadCrumbs uses on AWS.

The bucket is the one in ``READCRUMBS_REGISTRY_URL`` (``s3://<bucket>/<prefix>``) and the tables
are those of ``READCRUMBS_EVENTS_URL`` (``dynamodb://<table-prefix>``), both read through the
shared settings; ``--bucket`` and ``--table-prefix`` override them. Safe to run again: what exists
is left as it is. boto3 honours ``AWS_ENDPOINT_URL`` (a local emulator such as moto's server) and
takes the region from ``AWS_DEFAULT_REGION`` (or ``AWS_REGION``, or ``--region``).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from readcrumbs.errors import ConfigError, ReadCrumbsError, StoreError
from readcrumbs.settings import Settings, get_settings

DEFAULT_REGION = "us-east-1"
DEFAULT_TABLE_PREFIX = "readcrumbs"  # the DynamoDB store's default; kept here to avoid importing boto3


@dataclass(frozen=True)
class BootstrapPlan:
    """What to create: ``bucket`` and/or the tables of ``table_prefix``, in ``region``."""

    bucket: str | None
    table_prefix: str | None
    region: str


def plan_from(
    settings: Settings,
    *,
    bucket: str | None = None,
    table_prefix: str | None = None,
    region: str | None = None,
) -> BootstrapPlan:
    """The resources that the settings (or the explicit overrides) name.

    Raises :class:`~readcrumbs.errors.ConfigError` when neither store is on AWS.
    """
    registry_url = settings.resolved_registry_url
    if bucket is None and registry_url.startswith("s3://"):
        bucket = registry_url.removeprefix("s3://").split("/", 1)[0] or None
    events_url = settings.resolved_events_url
    if table_prefix is None and events_url.startswith("dynamodb://"):
        # "dynamodb://" alone means the store's default prefix, as open_event_store reads it.
        table_prefix = events_url.removeprefix("dynamodb://").strip("/") or DEFAULT_TABLE_PREFIX
    if bucket is None and table_prefix is None:
        raise ConfigError(
            "nothing to bootstrap: set READCRUMBS_REGISTRY_URL=s3://<bucket>/<prefix> and/or "
            "READCRUMBS_EVENTS_URL=dynamodb://<table-prefix> (or pass --bucket / --table-prefix)"
        )
    region = region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
    return BootstrapPlan(bucket=bucket, table_prefix=table_prefix, region=region)


def _error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create ``bucket`` (private) unless this account already has it; True when it was created.

    Raises :class:`~readcrumbs.errors.StoreError` when S3 cannot be reached, the name belongs to
    someone else, or the credentials may not look at it.
    """
    import botocore.exceptions

    try:
        return _ensure_bucket(s3, bucket, region)
    except botocore.exceptions.BotoCoreError as exc:
        raise StoreError(f"cannot reach S3 for bucket {bucket!r}: {exc}") from exc


def _ensure_bucket(s3: Any, bucket: str, region: str) -> bool:
    import botocore.exceptions

    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as exc:
        if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise StoreError(
                f"bucket {bucket!r} exists but these credentials cannot use it ({_error_code(exc)}); "
                "it may belong to another account: bucket names are global"
            ) from exc
    # us-east-1 is S3's default location and refuses an explicit LocationConstraint.
    options: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**options)
        # Models and their catalogue are never public, whatever the account's defaults are.
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    except botocore.exceptions.ClientError as exc:
        if _error_code(exc) == "BucketAlreadyOwnedByYou":  # created by a concurrent run
            return False
        raise StoreError(f"cannot create bucket {bucket!r} in {region}: {exc}") from exc
    return True


def ensure_tables(table_prefix: str, region: str) -> list[str]:
    """Create ``<prefix>-logs`` and ``<prefix>-feedback`` with the store's keys; their names.

    The key schema lives in :mod:`readcrumbs.events.dynamodb` alone: this only asks the store.
    Raises :class:`~readcrumbs.errors.ConfigError` when a table exists with other keys.
    """
    from readcrumbs.events.dynamodb import DynamoEventStore

    store = DynamoEventStore(table_prefix, region_name=region)
    try:
        store.create_tables()
    finally:
        store.close()
    return [store.logs_table, store.feedback_table]


def bootstrap(plan: BootstrapPlan) -> list[str]:
    """Create everything in ``plan`` that is missing; one line per resource saying what happened."""
    import boto3

    report: list[str] = []
    if plan.bucket is not None:
        created = ensure_bucket(boto3.client("s3", region_name=plan.region), plan.bucket, plan.region)
        report.append(f"s3 bucket {plan.bucket}: {'created' if created else 'already there'}")
    if plan.table_prefix is not None:
        for table in ensure_tables(plan.table_prefix, plan.region):
            report.append(f"dynamodb table {table}: ready")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: 0 when every resource exists afterwards, 1 with a message otherwise."""
    parser = argparse.ArgumentParser(prog="python -m scripts.aws_bootstrap", description=__doc__)
    parser.add_argument("--bucket", help="bucket to create (default: the one in READCRUMBS_REGISTRY_URL)")
    parser.add_argument("--table-prefix", help="DynamoDB table prefix (default: READCRUMBS_EVENTS_URL's)")
    parser.add_argument("--region", help="AWS region (default: AWS_DEFAULT_REGION, AWS_REGION, us-east-1)")
    args = parser.parse_args(argv)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    try:
        plan = plan_from(
            get_settings(), bucket=args.bucket, table_prefix=args.table_prefix, region=args.region
        )
        print(f"bootstrapping in {plan.region}" + (f" at {endpoint}" if endpoint else ""), flush=True)
        for line in bootstrap(plan):
            print(line, flush=True)
    except (ReadCrumbsError, ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
