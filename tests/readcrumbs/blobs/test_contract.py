"""The contract every blob store keeps, run against a folder and S3 (moto)."""

from __future__ import annotations

from pathlib import Path

import pytest

from readcrumbs.blobs import BlobStore, open_blob_store
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.errors import BlobNotFound, ConfigError, StoreError


def test_write_then_read_round_trips_bytes(blob_store: BlobStore) -> None:
    payload = bytes(range(256)) * 10
    blob_store.write("a/b/c.bin", payload)
    assert blob_store.read("a/b/c.bin") == payload
    assert blob_store.exists("a/b/c.bin")


def test_overwrite_replaces_content(blob_store: BlobStore) -> None:
    blob_store.write("k.json", b"old")
    blob_store.write("k.json", b"new")
    assert blob_store.read("k.json") == b"new"


def test_missing_key_raises_blob_not_found(blob_store: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        blob_store.read("nope/missing.txt")
    assert not blob_store.exists("nope/missing.txt")


def test_list_returns_sorted_keys_under_prefix_only(blob_store: BlobStore) -> None:
    for key in ["models/x/2", "models/x/1", "models/y/1", "data/z"]:
        blob_store.write(key, b"1")
    assert blob_store.list("models/x/") == ["models/x/1", "models/x/2"]
    assert blob_store.list("models/") == ["models/x/1", "models/x/2", "models/y/1"]
    assert blob_store.list("absent/") == []


def test_delete_removes_and_ignores_absent(blob_store: BlobStore) -> None:
    blob_store.write("gone.txt", b"x")
    blob_store.delete("gone.txt")
    blob_store.delete("gone.txt")
    assert not blob_store.exists("gone.txt")


def test_empty_object_is_an_object(blob_store: BlobStore) -> None:
    blob_store.write("empty", b"")
    assert blob_store.exists("empty")
    assert blob_store.read("empty") == b""


def test_folder_store_refuses_keys_that_escape_its_root(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "root")
    with pytest.raises(StoreError):
        store.write("../outside.txt", b"x")
    with pytest.raises(StoreError):
        store.read("/etc/passwd")


def test_folder_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path)
    store.write("a.txt", b"1")
    store.write("a.txt", b"2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_open_blob_store_picks_backend_by_url(tmp_path: Path, s3_store: BlobStore) -> None:
    assert isinstance(open_blob_store(f"file://{tmp_path}"), FolderBlobStore)
    s3 = open_blob_store("s3://readcrumbs-test/prefix")
    assert s3.url == "s3://readcrumbs-test/prefix"
    with pytest.raises(ConfigError):
        open_blob_store("ftp://somewhere")
    with pytest.raises(ConfigError):
        open_blob_store("s3:///no-bucket")


def test_s3_errors_become_store_errors(s3_store: BlobStore) -> None:
    from readcrumbs.blobs.s3 import S3BlobStore

    missing_bucket = S3BlobStore("no-such-bucket", "p")
    with pytest.raises(StoreError):
        missing_bucket.write("k", b"x")
    with pytest.raises(StoreError):
        missing_bucket.list("")
