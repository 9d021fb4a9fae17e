"""Blob stores, chosen by URL: ``file://<folder>`` or ``s3://<bucket>/<prefix>``."""

from __future__ import annotations

from pathlib import Path

from readcrumbs.blobs.base import BlobStore
from readcrumbs.errors import ConfigError

__all__ = ["BlobStore", "open_blob_store"]


def open_blob_store(url: str) -> BlobStore:
    """The blob store named by ``url``."""
    if url.startswith("file://"):
        from readcrumbs.blobs.local import FolderBlobStore

        return FolderBlobStore(Path(url.removeprefix("file://")))
    if url.startswith("s3://"):
        from readcrumbs.blobs.s3 import S3BlobStore

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ConfigError(f"no bucket in {url!r}; expected s3://<bucket>/<prefix>")
        return S3BlobStore(bucket, prefix)
    raise ConfigError(f"unsupported blob store URL {url!r}; use file://<folder> or s3://<bucket>/<prefix>")
