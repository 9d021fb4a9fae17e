"""A local copy of the last production version that loaded, for a start-up without the registry.

Every time the backend loads a production version from the registry (verified against its
checksums), it copies the manifest and files here, under ``$READCRUMBS_HOME/cache``, in the
registry's own layout::

    models/<name>/versions/<version>/manifest.json   # + artifact files
    models/<name>/last_good.json                     # {"version": v}

so reading the copy back goes through :meth:`~readcrumbs.registry.Registry.load_files`, which
checks every file against the cached manifest's sha256: a corrupted copy is refused like a
corrupted registry version. Only the last good version is kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.errors import BlobNotFound, VersionNotFound
from readcrumbs.registry import Manifest, Registry

log = logging.getLogger(__name__)

LAST_GOOD = "last_good.json"


class ModelCache:
    """The last good production version of each model name, in a local folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.store = FolderBlobStore(folder)
        self.registry = Registry(self.store)

    def save(self, manifest: Manifest, files: Mapping[str, bytes]) -> None:
        """Keep ``files`` (verified against ``manifest``) as the last good version of its model.

        Files first, then the manifest, then the pointer: a copy cut short by a crash is never
        pointed at. Raises :class:`~readcrumbs.errors.StoreError` when the folder cannot be written.
        """
        prefix = f"models/{manifest.name}/versions/{manifest.version}/"
        for file, data in files.items():
            self.store.write(prefix + file, data)
        self.store.write(prefix + "manifest.json", manifest.to_json())
        self.store.write(
            f"models/{manifest.name}/{LAST_GOOD}", json.dumps({"version": manifest.version}).encode()
        )
        for key in self.store.list(f"models/{manifest.name}/versions/"):
            if not key.startswith(prefix):
                self.store.delete(key)

    def last_good(self, name: str) -> int | None:
        """The cached version of ``name``, or None when nothing usable is cached."""
        try:
            pointer = json.loads(self.store.read(f"models/{name}/{LAST_GOOD}"))
            return int(pointer["version"])
        except BlobNotFound:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the unreadable %s of %s in %s: %s", LAST_GOOD, name, self.folder, exc)
            return None

    def load(self, name: str) -> tuple[Manifest, dict[str, bytes]]:
        """The cached version's manifest and files, each checked against its sha256.

        Raises :class:`~readcrumbs.errors.VersionNotFound` when nothing is cached and
        :class:`~readcrumbs.errors.ChecksumMismatch` when the copy is corrupt.
        """
        version = self.last_good(name)
        if version is None:
            raise VersionNotFound(f"no version of {name!r} is cached in {self.folder}")
        return self.registry.load_files(name, version)
