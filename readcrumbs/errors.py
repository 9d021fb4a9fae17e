"""Typed errors of ReadCrumbs.

Every error the project raises on purpose derives from :class:`ReadCrumbsError`, so a command
line or an HTTP layer can turn them into a clear answer in one place::

    ReadCrumbsError
    ├── ConfigError            a setting is missing or wrong
    ├── DataError              the source data cannot be used
    │   └── DataSourceUnavailable   nothing to read: no folder, no network
    ├── StoreError             a blob or event store failed (I/O, network, permissions)
    │   └── BlobNotFound       no object under that key
    ├── RegistryError          a registry operation was refused
    │   ├── VersionNotFound    no such model version (or no version behind an alias)
    │   ├── ChecksumMismatch   an artifact's sha256 differs from its manifest
    │   └── PromotionRefused   the gate kept a candidate out of production
    ├── ModelNotReady          no model is loaded yet
    └── UnknownBook            a book id or title that the catalogue does not know
"""

from __future__ import annotations


class ReadCrumbsError(Exception):
    """Base of every error raised on purpose by ReadCrumbs."""


class ConfigError(ReadCrumbsError):
    """A setting is missing or has a value that cannot work."""


class DataError(ReadCrumbsError):
    """The source data cannot be used; the message says which file and why."""


class DataSourceUnavailable(DataError):
    """There is no data to read: the folder is missing or the download failed."""


class StoreError(ReadCrumbsError):
    """A blob or event store failed to read or write."""


class BlobNotFound(StoreError):
    """No object is stored under the requested key."""


class RegistryError(ReadCrumbsError):
    """A registry operation was refused."""


class VersionNotFound(RegistryError):
    """The requested model version, or the version behind an alias, does not exist."""


class ChecksumMismatch(RegistryError):
    """An artifact's sha256 differs from the one recorded in its manifest."""


class PromotionRefused(RegistryError):
    """The promotion gate kept a candidate out of production."""


class ModelNotReady(ReadCrumbsError):
    """No model is loaded yet."""


class UnknownBook(ReadCrumbsError):
    """A book id or title that the catalogue does not know."""
