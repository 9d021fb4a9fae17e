"""What the app opens at start-up and closes at shutdown, in one object the routes reach via deps."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import IO

from backend import arms
from backend.event_writer import EventWriter, claim_spool_dir
from backend.metrics import Metrics
from backend.model_cache import ModelCache
from backend.offload import CpuPool
from backend.serving import ModelHolder
from backend.settings import BackendSettings
from readcrumbs.errors import (
    BlobNotFound,
    ChecksumMismatch,
    ReadCrumbsError,
    RegistryCorrupt,
    StoreError,
    VersionNotFound,
)
from readcrumbs.events.base import EventStore
from readcrumbs.registry import CHALLENGER, Registry, open_registry

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The served models (production and challenger), the event store and the writer in front of it."""

    settings: BackendSettings
    metrics: Metrics
    models: ModelHolder
    challenger: ModelHolder
    store: EventStore
    writer: EventWriter
    owns_store: bool
    # Why the locally cached version serves instead of the registry's (shown by /ready).
    fallback_reason: str | None = None
    # Held open (with its lock) while this process owns its spool folder.
    spool_lock: IO[bytes] | None = None
    # Threads for CPU-heavy request work; set by the app's lifespan (it needs the running loop).
    cpu: CpuPool | None = None

    @classmethod
    def start(
        cls,
        settings: BackendSettings,
        metrics: Metrics,
        *,
        registry: Registry | None = None,
        event_store: EventStore | None = None,
    ) -> Runtime:
        """Open the stores, start the writer, load the production and challenger models and start polling.

        A missing production model is logged, not fatal: ``/ready`` answers 503 and a reload
        (or the poll) can load it later. When the registry cannot be reached, or its production
        version is corrupt (bad checksum, malformed manifest), the locally cached last good
        version serves until a reload succeeds.
        """
        if event_store is None:
            from readcrumbs.events import open_event_store  # imports only the backend the URL names

            event_store = open_event_store(settings.resolved_events_url)
            owns_store = True
        else:
            owns_store = False
        store = event_store
        registry = registry or open_registry(settings)
        models = ModelHolder(
            registry,
            settings.model_name,
            fuzzy_threshold=settings.title_match_threshold,
            metrics=metrics,
            cache=ModelCache(settings.model_cache_dir),
        )
        # No local cache: it keeps the last good production version, which a challenger must not replace.
        challenger = ModelHolder(
            registry,
            settings.model_name,
            alias=CHALLENGER,
            fuzzy_threshold=settings.title_match_threshold,
            metrics=metrics,
        )
        spool_dir, spool_lock = claim_spool_dir(settings.spool_dir)
        writer = EventWriter(
            store,
            spool_dir,
            queue_size=settings.event_queue_size,
            batch_size=settings.event_batch_size,
            flush_s=settings.event_flush_s,
            metrics=metrics,
            retry_after_s=settings.event_retry_after_s,
            durable=settings.event_durable,
            pending_from=settings.spool_dir,
        )
        writer.start()
        fallback_reason = None
        try:
            models.reload()
        except VersionNotFound as exc:
            log.error("%s; serving nothing until one is promoted (run `make train`)", exc)
        except (ChecksumMismatch, RegistryCorrupt) as exc:
            log.error("the production version in the registry is corrupt: %s", exc)
            fallback_reason = serve_cached(models, f"the registry's production version is corrupt: {exc}")
        except StoreError as exc:
            if isinstance(exc, BlobNotFound):  # the registry answered: a file of the version is missing
                log.error("cannot load the production model: %s", exc)
            else:
                log.error("cannot reach the model registry %s: %s", models.registry.store.url, exc)
                fallback_reason = serve_cached(models, f"the registry cannot be reached: {exc}")
        except ReadCrumbsError as exc:
            log.error("cannot load the production model: %s", exc)
        load_challenger(challenger)
        if settings.model_poll_s > 0:
            models.start_polling(settings.model_poll_s)
            challenger.start_polling(settings.model_poll_s)
        return cls(
            settings, metrics, models, challenger, store, writer, owns_store, fallback_reason, spool_lock
        )

    def route(self, userid: str) -> arms.Route:
        """Which served model answers ``userid`` (see :mod:`backend.arms`); ModelNotReady without one."""
        return arms.route(
            self.models,
            self.challenger,
            userid,
            self.settings.challenger_share,
            self.settings.challenger_mode,
        )

    def event_store_reachable(self) -> bool:
        """Whether the event store answers now (records are spooled, not lost, while it does not)."""
        try:
            self.store.ping()
        except Exception as exc:
            log.warning("event store %s unreachable: %s", self.store.url, exc)
            return False
        return True

    def event_store_state(self) -> str:
        """``unavailable`` when the store does not answer, ``degraded`` while writes fail, else ``ok``."""
        if not self.event_store_reachable():
            return "unavailable"
        return "degraded" if self.writer.degraded else "ok"

    def stop(self) -> None:
        """Stop polling, write or spool every queued record, and close the store if we opened it."""
        self.models.stop_polling()
        self.challenger.stop_polling()
        self.writer.close()
        if self.owns_store:
            self.store.close()
        if self.spool_lock is not None:
            self.spool_lock.close()  # releases the spool folder for the next process
        log.info("stopped; %d event records wait in the spool", self.writer.spool.count)


def load_challenger(challenger: ModelHolder) -> None:
    """Serve the challenger alias's version if one is set; production serves alone otherwise."""
    try:
        challenger.reload()
    except VersionNotFound:
        log.info("no %s version; production answers every request", CHALLENGER)
    except ReadCrumbsError as exc:
        log.error("cannot load the %s model (production answers every request): %s", CHALLENGER, exc)


def serve_cached(models: ModelHolder, reason: str) -> str | None:
    """Serve the local copy of the last good version; ``reason`` when it serves, else None."""
    try:
        reload = models.load_cached()
    except VersionNotFound as exc:
        log.error("%s; serving nothing until the registry answers", exc)
        return None
    except ReadCrumbsError as exc:
        log.error("the locally cached model cannot be served either (%s); serving nothing", exc)
        return None
    log.error("serving the last good version v%d from the local cache because %s", reload.version, reason)
    return reason
