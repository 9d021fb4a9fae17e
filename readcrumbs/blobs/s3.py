"""Blob store on an S3 bucket and prefix (``s3://bucket/prefix``).

boto3 is imported here only, so processes that never touch AWS do not need it. The endpoint
comes from ``AWS_ENDPOINT_URL`` when set (a local emulator), as boto3 itself honours it.
"""

from __future__ import annotations

from typing import Any

from readcrumbs.errors import BlobNotFound, StoreError


class S3BlobStore:
    """Keys live under ``prefix`` in ``bucket``; a PUT of one object is atomic on S3."""

    def __init__(self, bucket: str, prefix: str = "", client: Any | None = None) -> None:
        import boto3
        import botocore.exceptions

        self._client_errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._s3 = client or boto3.client("s3")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def read(self, key: str) -> bytes:
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
            return body
        except self._s3.exceptions.NoSuchKey:
            raise BlobNotFound(f"no object {key!r} in {self.url}") from None
        except self._client_errors as exc:
            raise StoreError(f"cannot read {key!r} from {self.url}: {exc}") from exc

    def write(self, key: str, data: bytes) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except self._client_errors as exc:
            raise StoreError(f"cannot write {key!r} to {self.url}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except self._s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(f"cannot check {key!r} in {self.url}: {exc}") from exc
        except self._client_errors as exc:
            raise StoreError(f"cannot check {key!r} in {self.url}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except self._client_errors as exc:
            raise StoreError(f"cannot list {prefix!r} in {self.url}: {exc}") from exc
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._client_errors as exc:
            raise StoreError(f"cannot delete {key!r} from {self.url}: {exc}") from exc
