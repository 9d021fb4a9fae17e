"""Event stores, chosen by URL: ``sqlite:///<path>``, ``dynamodb://<table-prefix>`` or ``memory://``.

``sqlite:///var/readcrumbs.db`` is relative to the working folder, ``sqlite:////srv/rc.db``
absolute (three slashes, then the path). ``dynamodb://`` alone uses the table prefix
``readcrumbs``. Backends are imported only when asked for, so boto3 is needed only for DynamoDB.
"""

from __future__ import annotations

import re

from readcrumbs.errors import ConfigError
from readcrumbs.events.base import EventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord

__all__ = ["EventStore", "FeedbackRecord", "PredictionRecord", "open_event_store"]

# DynamoDB table names allow 3-255 of [A-Za-z0-9_.-]; the prefix leaves room for "-feedback".
_TABLE_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_USAGE = "use sqlite:///<path>, dynamodb://<table-prefix> or memory://"


def open_event_store(url: str) -> EventStore:
    """The event store named by ``url``; :class:`~readcrumbs.errors.ConfigError` when it is malformed."""
    if url == "memory://":
        from readcrumbs.events.memory import MemoryEventStore

        return MemoryEventStore()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path == ":memory:" or path.endswith("/"):
            raise ConfigError(f"no database file in {url!r}; {_USAGE}")
        from readcrumbs.events.sqlite import SqliteEventStore

        return SqliteEventStore(path)
    if url.startswith("dynamodb://"):
        from readcrumbs.events.dynamodb import DEFAULT_TABLE_PREFIX, DynamoEventStore

        prefix = url.removeprefix("dynamodb://").strip("/") or DEFAULT_TABLE_PREFIX
        if not _TABLE_PREFIX.fullmatch(prefix):
            raise ConfigError(f"bad DynamoDB table prefix {prefix!r} in {url!r}: use letters, digits, _ . -")
        return DynamoEventStore(prefix)
    raise ConfigError(f"unsupported event store URL {url!r}; {_USAGE}")
