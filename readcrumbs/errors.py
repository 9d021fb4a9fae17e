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
    │   ├── RegistryCorrupt    an alias or manifest file is not what it should be
    │   └── PromotionRefused   the gate kept a candidate out of production
    ├── ModelNotReady          no model is loaded yet
    ├── UnknownBook            a book id or title that the catalogue does not know
    └── ServiceError           another ReadCrumbs service, called over HTTP, failed
        ├── ServiceUnavailable no usable answer: refused, timed out, 5xx, not JSON
        └── RequestRejected    a 4xx answer; carries the status and the server's detail
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


class RegistryCorrupt(RegistryError):
    """An alias or manifest file cannot be read as one (not JSON, wrong shape, a non-integer version)."""


class PromotionRefused(RegistryError):
    """The promotion gate kept a candidate out of production."""


class ModelNotReady(ReadCrumbsError):
    """No model is loaded yet."""


class UnknownBook(ReadCrumbsError):
    """A book id or title that the catalogue does not know."""


class UnknownGenre(ReadCrumbsError):
    """Genre names that no catalogue book carries; ``close`` lists known genres close to them."""

    def __init__(self, unknown: list[str], close: list[str]) -> None:
        hint = f" Known genres close to them: {', '.join(close)}." if close else ""
        super().__init__(f"Unknown genres: {', '.join(repr(name) for name in unknown)}.{hint}")
        self.unknown = unknown
        self.close = close


class ServiceError(ReadCrumbsError):
    """Another ReadCrumbs service, called over HTTP, did not give a usable answer."""


class ServiceUnavailable(ServiceError):
    """No usable answer: the connection was refused or timed out, a 5xx, or a body that is not JSON."""


class RequestRejected(ServiceError):
    """The service refused the request with a 4xx answer.

    ``status`` is the HTTP status; ``detail`` the ``detail`` field of the JSON body as sent (a
    string, or an object such as ``{"message", "unknown", "suggestions"}``), else ``None``.
    """

    def __init__(self, message: str, *, status: int, detail: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
