"""The model registry: immutable versions and movable aliases over a blob store.

Layout (identical on a folder and on S3)::

    models/<name>/versions/<version>/manifest.json   # + artifact files, never overwritten
    models/<name>/aliases/<alias>.json               # {"version": v, "history": [...]}
    models/<name>/versions/<version>/deleted.json    # tombstone: the number is never reused

Versions are the integers 1, 2, 3, … in order of registration. A version's files are written
before its manifest, so a manifest's presence means the version is complete. An alias file is
replaced in one atomic write; ``history`` keeps the versions it pointed to before, newest last,
which is what a rollback returns to. Files are verified against their sha256 on every load.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from readcrumbs.blobs import BlobStore, open_blob_store
from readcrumbs.errors import (
    BlobNotFound,
    ChecksumMismatch,
    PromotionRefused,
    RegistryCorrupt,
    RegistryError,
    VersionNotFound,
)

if TYPE_CHECKING:
    from readcrumbs.settings import Settings

PRODUCTION = "production"
STAGING = "staging"
# The version served beside production to a share of readers, or in shadow (issue 12).
CHALLENGER = "challenger"
# The gate's yardstick: DESIGN.md compares candidates on fav3 Recall@10.
GATE_PROTOCOL = "fav3"
GATE_METRIC = "recall@10"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileEntry:
    """One artifact file as the manifest records it."""

    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """Everything known about one registered model version (``manifest.json``)."""

    name: str
    version: int
    model_type: str
    params: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    data_version: str
    files: dict[str, FileEntry]
    created_at: str
    git_commit: str | None = None
    wandb_run: str | None = None
    split_id: str | None = None
    engine: str = "numpy"
    fingerprint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse ``manifest.json``; :class:`RegistryCorrupt` when it is not one."""
        try:
            raw = json.loads(data)
            raw["files"] = {name: FileEntry(**entry) for name, entry in raw["files"].items()}
            manifest = cls(**raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # UnicodeDecodeError is a ValueError
            raise RegistryCorrupt(f"malformed manifest ({type(exc).__name__}: {exc})") from None
        if type(manifest.version) is not int:
            raise RegistryCorrupt(f"malformed manifest: version {manifest.version!r} is not an integer")
        return manifest

    def metric(self, protocol: str = GATE_PROTOCOL, name: str = GATE_METRIC) -> float | None:
        """One offline metric, or None when it was not measured."""
        return self.metrics.get(protocol, {}).get(name)


def _is_version(value: object) -> bool:
    """A version number as JSON holds it: an int (``true`` is not one)."""
    return type(value) is int


def fingerprint(model_type: str, params: Mapping[str, Any], data_version: str, engine: str) -> str:
    """What makes two trainings the same: re-registering an equal fingerprint is a no-op."""
    key = json.dumps(
        {"model_type": model_type, "params": params, "data_version": data_version, "engine": engine},
        sort_keys=True,
        default=str,
    )
    return sha256_hex(key.encode())[:16]


class Registry:
    """Model versions and aliases kept in a :class:`~readcrumbs.blobs.BlobStore`."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    # -- keys -------------------------------------------------------------------------------
    @staticmethod
    def _check_name(name: str) -> str:
        if not _NAME.match(name):
            raise RegistryError(f"invalid model name {name!r}: letters, digits, '_', '.', '-'")
        return name

    def _version_key(self, name: str, version: int, file: str = "manifest.json") -> str:
        return f"models/{self._check_name(name)}/versions/{version}/{file}"

    def _alias_key(self, name: str, alias: str) -> str:
        return f"models/{self._check_name(name)}/aliases/{self._check_name(alias)}.json"

    # -- versions ---------------------------------------------------------------------------
    def _numbers(self, name: str, file: str | None) -> list[int]:
        prefix = f"models/{self._check_name(name)}/versions/"
        found = {
            int(key[len(prefix) :].split("/", 1)[0])
            for key in self.store.list(prefix)
            if file is None or key.endswith(f"/{file}")
        }
        return sorted(found)

    def versions(self, name: str) -> list[int]:
        """Every complete version of ``name``, oldest first."""
        return self._numbers(name, "manifest.json")

    def manifest(self, name: str, version: int) -> Manifest:
        """The manifest of one version; :class:`VersionNotFound` when absent."""
        key = self._version_key(name, version)
        try:
            return Manifest.from_json(self.store.read(key))
        except BlobNotFound:
            raise VersionNotFound(f"model {name!r} has no version {version}") from None
        except RegistryCorrupt as exc:
            raise RegistryCorrupt(f"{key}: {exc}") from None

    def manifests(self, name: str) -> list[Manifest]:
        """Every version's manifest, oldest first."""
        return [self.manifest(name, version) for version in self.versions(name)]

    def find(self, name: str, fingerprint_: str) -> Manifest | None:
        """The version registered with this fingerprint, if any."""
        return next((m for m in self.manifests(name) if m.fingerprint == fingerprint_), None)

    def register(
        self,
        name: str,
        model_type: str,
        files: Mapping[str, bytes],
        *,
        params: Mapping[str, Any],
        metrics: Mapping[str, Mapping[str, float]],
        data_version: str,
        split_id: str | None = None,
        engine: str = "numpy",
        git_commit: str | None = None,
        wandb_run: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Manifest:
        """Store a new immutable version; an identical earlier training is returned instead."""
        fp = fingerprint(model_type, params, data_version, engine)
        existing = self.find(name, fp)
        if existing is not None:
            return existing
        for file in files:
            if not _FILE.match(file) or file == "manifest.json":
                raise RegistryError(f"invalid artifact file name {file!r}")
        # Deleted versions leave a tombstone, so their numbers are never given out again.
        known = self._numbers(name, None)
        version = (known[-1] if known else 0) + 1
        # Two writers racing for one number would both see it free; refuse rather than mix files.
        if self.store.exists(self._version_key(name, version)):
            raise RegistryError(f"version {version} of {name!r} appeared while registering; retry")
        for file, data in files.items():
            self.store.write(self._version_key(name, version, file), data)
        manifest = Manifest(
            name=name,
            version=version,
            model_type=model_type,
            params=dict(params),
            metrics={protocol: dict(values) for protocol, values in metrics.items()},
            data_version=data_version,
            files={file: FileEntry(sha256_hex(data), len(data)) for file, data in files.items()},
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            git_commit=git_commit,
            wandb_run=wandb_run,
            split_id=split_id,
            engine=engine,
            fingerprint=fp,
            extra=dict(extra or {}),
        )
        self.store.write(self._version_key(name, version), manifest.to_json())
        return manifest

    def load_files(self, name: str, version: int) -> tuple[Manifest, dict[str, bytes]]:
        """A version's manifest and files, each verified against its sha256."""
        manifest = self.manifest(name, version)
        files: dict[str, bytes] = {}
        for file, entry in manifest.files.items():
            data = self.store.read(self._version_key(name, version, file))
            if len(data) != entry.bytes or sha256_hex(data) != entry.sha256:
                raise ChecksumMismatch(
                    f"{name} v{version}: {file} does not match its manifest checksum; refusing it"
                )
            files[file] = data
        return manifest, files

    def verify(self, name: str, version: int) -> Manifest:
        """Check every file of a version against its checksum; the manifest when all match."""
        manifest, _ = self.load_files(name, version)
        return manifest

    def delete(self, name: str, version: int) -> None:
        """Remove a version that no alias points to (nor could roll back to)."""
        self.manifest(name, version)
        for alias in self.aliases(name):
            state = self._alias_state(name, alias)
            if state["version"] == version:
                raise RegistryError(f"version {version} is '{alias}'; move the alias first")
            if version in state.get("history", []):
                raise RegistryError(f"'{alias}' can roll back to version {version}; it is kept")
        # The manifest goes first: without it the version no longer counts as complete.
        self.store.delete(self._version_key(name, version))
        for key in self.store.list(f"models/{name}/versions/{version}/"):
            self.store.delete(key)
        tombstone = {"deleted_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.store.write(self._version_key(name, version, "deleted.json"), json.dumps(tombstone).encode())

    # -- aliases ----------------------------------------------------------------------------
    def aliases(self, name: str) -> list[str]:
        """Names of the aliases that exist for ``name``."""
        prefix = f"models/{self._check_name(name)}/aliases/"
        return [key[len(prefix) : -len(".json")] for key in self.store.list(prefix) if key.endswith(".json")]

    def _alias_state(self, name: str, alias: str) -> dict[str, Any]:
        """``{"version": int | None, "history": [int, ...]}``; :class:`RegistryCorrupt` when malformed."""
        key = self._alias_key(name, alias)
        try:
            state = json.loads(self.store.read(key))
        except BlobNotFound:
            return {"version": None, "history": []}
        except ValueError as exc:  # not JSON, or not UTF-8
            raise RegistryCorrupt(f"malformed alias {key} ({exc})") from None
        if not isinstance(state, dict) or "version" not in state:
            raise RegistryCorrupt(f"malformed alias {key}: not an object with a version")
        history = state.get("history", [])
        version = state["version"]
        if not _is_version(version) and version is not None:
            raise RegistryCorrupt(f"malformed alias {key}: version {version!r} is not an integer")
        if not isinstance(history, list) or not all(_is_version(v) for v in history):
            raise RegistryCorrupt(f"malformed alias {key}: history {history!r} is not a list of integers")
        return {"version": version, "history": history}

    def alias(self, name: str, alias: str = PRODUCTION) -> int | None:
        """The version an alias points to, or None when it is unset."""
        version = self._alias_state(name, alias)["version"]
        return int(version) if version is not None else None

    def resolve(self, name: str, alias: str = PRODUCTION) -> Manifest:
        """The manifest behind an alias; :class:`VersionNotFound` when unset."""
        version = self.alias(name, alias)
        if version is None:
            raise VersionNotFound(f"model {name!r} has no '{alias}' version")
        return self.manifest(name, version)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``, remembering where it pointed before."""
        self.manifest(name, version)
        state = self._alias_state(name, alias)
        if state["version"] == version:
            return
        history = list(state.get("history", []))
        if state["version"] is not None:
            history.append(state["version"])
        self._write_alias(name, alias, version, history)

    def clear_alias(self, name: str, alias: str) -> int | None:
        """Unset ``alias`` (a rollback sets it back); the version it pointed to, or None."""
        state = self._alias_state(name, alias)
        if state["version"] is None:
            return None
        self._write_alias(name, alias, None, [*state.get("history", []), state["version"]])
        return int(state["version"])

    def _write_alias(self, name: str, alias: str, version: int | None, history: list[int]) -> None:
        state = {
            "version": version,
            "history": history,
            "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.store.write(self._alias_key(name, alias), json.dumps(state, indent=2).encode())

    def promote(self, name: str, version: int, *, force: bool = False, alias: str = PRODUCTION) -> None:
        """Make ``version`` the alias's version if it passes :func:`check_gate` (or ``force``)."""
        candidate = self.manifest(name, version)
        current = self.alias(name, alias)
        if not force and current is not None and current != version:
            check_gate(candidate, self.manifest(name, current))
        self.set_alias(name, alias, version)

    def rollback(self, name: str, alias: str = PRODUCTION) -> int:
        """Point ``alias`` back at the version it had before; the version it now points to."""
        state = self._alias_state(name, alias)
        history: list[int] = list(state.get("history", []))
        if not history:
            raise RegistryError(f"'{alias}' of {name!r} has no earlier version to roll back to")
        previous = history.pop()
        self._write_alias(name, alias, previous, history)
        return previous


def open_registry(settings: Settings) -> Registry:
    """The registry the settings name (``READCRUMBS_REGISTRY_URL``, else ``$READCRUMBS_HOME/registry``).

    Every process opens its registry through this, so all of them agree on where it is.
    """
    return Registry(open_blob_store(settings.resolved_registry_url))


def check_gate(candidate: Manifest, production: Manifest) -> None:
    """Refuse a candidate that does not beat production on fav3 Recall@10 of the same split.

    Raises :class:`PromotionRefused` with the reason; returns quietly when the candidate wins.
    """
    if candidate.split_id != production.split_id:
        raise PromotionRefused(
            f"v{candidate.version} and production v{production.version} were evaluated on "
            f"different held-out splits ({candidate.split_id} vs {production.split_id}); "
            "re-evaluate production on the candidate's split first"
        )
    new, old = candidate.metric(), production.metric()
    if new is None or old is None:
        raise PromotionRefused(f"{GATE_PROTOCOL} {GATE_METRIC} is missing from a manifest")
    if new <= old:
        raise PromotionRefused(
            f"v{candidate.version} {GATE_PROTOCOL} {GATE_METRIC}={new:.4f} does not beat "
            f"production v{production.version}'s {old:.4f}"
        )
