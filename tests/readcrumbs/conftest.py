"""Fixtures shared by the shared package's tests: one blob store per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from readcrumbs.blobs import BlobStore
from readcrumbs.blobs.local import FolderBlobStore


@pytest.fixture
def s3_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlobStore]:
    """An S3 blob store on a moto-mocked bucket."""
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        boto3.client("s3").create_bucket(Bucket="readcrumbs-test")
        from readcrumbs.blobs.s3 import S3BlobStore

        yield S3BlobStore("readcrumbs-test", "some/prefix")


@pytest.fixture(params=["folder", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Every blob-store backend in turn: the contract suites run against each."""
    if request.param == "folder":
        return FolderBlobStore(tmp_path / "store")
    store: BlobStore = request.getfixturevalue("s3_store")
    return store
