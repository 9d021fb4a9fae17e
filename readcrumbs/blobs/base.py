"""The blob store interface: bytes under slash-separated keys.

The registry and the data stage write through it, so the same code runs on a local folder
(``file://``) and on S3 (``s3://``). Keys never start with a slash.
"""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """Bytes under keys such as ``models/readcrumbs/versions/3/manifest.json``."""

    url: str

    def read(self, key: str) -> bytes:
        """The object's bytes; :class:`~readcrumbs.errors.BlobNotFound` when absent."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically: readers see the old or the new bytes."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key that starts with ``prefix``, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; absent keys are ignored."""
        ...
