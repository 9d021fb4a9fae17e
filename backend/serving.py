"""The model being served, swapped atomically when the registry's production alias moves.

One :class:`ModelHolder` follows one registry alias: the backend keeps one for ``production``
and one for ``challenger`` (champion and challenger, issue 12). When the challenger alias is
cleared, its holder stops serving it (:attr:`ReloadOutcome.CLEARED`); production's never does.

A request reads :meth:`ModelHolder.current` once and works with that :class:`ServingState`
(model and catalogue together) to the end, so a reload never changes the model under a request in
flight: the swap is one reference assignment, done only after the new version has been loaded,
verified against its checksums and indexed. A version whose files fail their checksums is
refused (:class:`~readcrumbs.errors.ChecksumMismatch`), remembered so that the poll does not
download it again, and the current version keeps serving.

Every version loaded from the registry is also copied to a local :class:`~backend.model_cache.ModelCache`
(when the holder has one), so that a start-up while the registry is unreachable can serve the last
good version (:meth:`ModelHolder.load_cached`) until the registry answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from backend.answers import Card, book_cards
from backend.metrics import Metrics
from backend.model_cache import ModelCache
from backend.server_process import settle_heap
from readcrumbs.catalogue import DEFAULT_FUZZY_THRESHOLD, Catalogue
from readcrumbs.errors import ChecksumMismatch, ModelNotReady, ReadCrumbsError, VersionNotFound
from readcrumbs.events.records import utc_now_iso
from readcrumbs.model_bundle import ModelBundle, bundle_from_files
from readcrumbs.registry import PRODUCTION, Manifest, Registry

log = logging.getLogger(__name__)


class ModelSource(StrEnum):
    """Where a served version's files were read from."""

    REGISTRY = "registry"
    CACHE = "cache"


@dataclass(frozen=True)
class ServingState:
    """One loaded model version, the catalogue index built from its own catalogue, and each book's
    card for answers (:func:`backend.answers.book_cards`).

    ``source`` is where its files came from: the registry, or the local cache of the last good
    version while the registry could not be reached.
    """

    bundle: ModelBundle
    catalogue: Catalogue
    cards: Mapping[int, Card]
    loaded_at: str
    source: ModelSource = ModelSource.REGISTRY

    @property
    def version(self) -> str:
        return self.bundle.version


class ReloadOutcome(StrEnum):
    LOADED = "loaded"
    UNCHANGED = "unchanged"
    CLEARED = "cleared"  # the challenger alias was unset: nothing served for it any more


@dataclass(frozen=True)
class Reload:
    """What a reload did: ``outcome``, the version now served (None once cleared) and the one before."""

    outcome: ReloadOutcome
    version: int | None
    previous: int | None


class ModelHolder:
    """Holds the served :class:`ServingState` of one alias; loads its version on request or by polling."""

    def __init__(
        self,
        registry: Registry,
        model_name: str,
        *,
        alias: str = PRODUCTION,
        fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
        metrics: Metrics | None = None,
        cache: ModelCache | None = None,
    ) -> None:
        self.registry = registry
        self.model_name = model_name
        self.alias = alias
        self.fuzzy_threshold = fuzzy_threshold
        self.metrics = metrics or Metrics()
        self.cache = cache
        self._state: ServingState | None = None
        self._reload_lock = threading.Lock()
        self._refused: set[int] = set()
        self._stop_polling = threading.Event()
        self._poller: threading.Thread | None = None

    @property
    def state(self) -> ServingState | None:
        """The served state, or None before the first load."""
        return self._state

    def current(self) -> ServingState:
        """The served state; :class:`ModelNotReady` before the first successful load."""
        state = self._state
        if state is None:
            raise ModelNotReady(
                f"No model is loaded yet; the registry needs a '{self.alias}' version of "
                f"{self.model_name!r} (run `make train`)."
            )
        return state

    def load(self, version: int) -> ServingState:
        """Load, verify and index one version without serving it yet (and copy it to the cache)."""
        manifest, files = self.registry.load_files(self.model_name, version)
        state = self._index(manifest, files, ModelSource.REGISTRY)
        if self.cache is not None:
            try:
                self.cache.save(manifest, files)
            except ReadCrumbsError as exc:  # a full disk must not stop a good version from serving
                log.warning("could not copy %s v%d to the local cache: %s", self.model_name, version, exc)
        return state

    def _index(self, manifest: Manifest, files: dict[str, bytes], source: ModelSource) -> ServingState:
        bundle = bundle_from_files(manifest, files)
        catalogue = Catalogue.from_columns(bundle.columns, self.fuzzy_threshold)
        return ServingState(bundle, catalogue, book_cards(catalogue), utc_now_iso(), source)

    def load_cached(self) -> Reload:
        """Serve the locally cached last good version (the registry cannot be reached).

        Raises :class:`VersionNotFound` when nothing is cached (or there is no cache) and
        :class:`ChecksumMismatch` when the cached copy is corrupt; nothing is served then.
        """
        if self.cache is None:
            raise VersionNotFound("this server keeps no local cache of models")
        with self._reload_lock:
            current = self._state
            previous = int(current.bundle.manifest.version) if current is not None else None
            try:
                manifest, files = self.cache.load(self.model_name)
                state = self._index(manifest, files, ModelSource.CACHE)
            except ChecksumMismatch as exc:
                self.metrics.model_reloads.labels(outcome="refused").inc()
                log.error("refused the locally cached copy of %s: %s", self.model_name, exc)
                raise
            self._state = state
            self._report_serving(state)
            self.metrics.model_reloads.labels(outcome="loaded").inc()
            log.warning(
                "serving %s v%d from the local cache %s (the last good version loaded)",
                manifest.name,
                manifest.version,
                self.cache.folder,
            )
            return Reload(ReloadOutcome.LOADED, manifest.version, previous)

    def _report_serving(self, state: ServingState) -> None:
        # The model_info gauge names the production model; a challenger shows in /ready.
        if self.alias == PRODUCTION:
            manifest = state.bundle.manifest
            self.metrics.serving(manifest.name, state.version, manifest.model_type)

    def reload(self, *, retry_refused: bool = True) -> Reload:
        """Serve the alias's version if it is not served already.

        Raises :class:`VersionNotFound` when the alias is unset and :class:`ChecksumMismatch`
        when that version's files are corrupt; either way the current version keeps serving.
        A holder of another alias than production stops serving when its alias is cleared
        (:attr:`ReloadOutcome.CLEARED`). ``retry_refused=False`` (the poll) skips a version
        refused before.
        """
        with self._reload_lock:
            current = self._state
            previous = int(current.bundle.manifest.version) if current is not None else None
            version = self.registry.alias(self.model_name, self.alias)
            if version is None and self.alias != PRODUCTION and current is not None:
                self._state = None
                log.info("%s of %s cleared; no longer serving v%s", self.alias, self.model_name, previous)
                return Reload(ReloadOutcome.CLEARED, None, previous)
            if version is None:
                raise VersionNotFound(f"model {self.model_name!r} has no '{self.alias}' version")
            # A version served from the local cache is loaded again from the registry once it answers.
            from_registry = current is not None and current.source == ModelSource.REGISTRY
            if (version == previous and from_registry) or (not retry_refused and version in self._refused):
                self.metrics.model_reloads.labels(outcome="unchanged").inc()
                return Reload(ReloadOutcome.UNCHANGED, previous or version, previous)
            started = time.perf_counter()
            try:
                state = self.load(version)
            except ChecksumMismatch as exc:
                self._refused.add(version)
                self.metrics.model_reloads.labels(outcome="refused").inc()
                serving = f"still serving v{previous}" if previous is not None else "no model is served"
                log.error("refused %s v%d: %s; %s", self.model_name, version, exc, serving)
                raise ChecksumMismatch(f"{exc}; {serving}") from exc
            except Exception:
                self.metrics.model_reloads.labels(outcome="failed").inc()
                raise
            self._state = state  # the swap: requests that already hold the old state finish on it
            settle_heap()  # the old model's garbage goes, the new one is frozen (server_process.py)
            manifest = state.bundle.manifest
            self._report_serving(state)
            self.metrics.model_reloads.labels(outcome="loaded").inc()
            log.info(
                "serving %s v%d as %s (%s, %d books), loaded in %.2f s",
                manifest.name,
                version,
                self.alias,
                manifest.model_type,
                len(state.catalogue),
                time.perf_counter() - started,
            )
            return Reload(ReloadOutcome.LOADED, version, previous)

    # -- polling ------------------------------------------------------------------------------
    def start_polling(self, interval_s: float) -> None:
        """Check the alias every ``interval_s`` seconds in a background thread."""
        if self._poller is not None:
            return
        self._stop_polling.clear()
        self._poller = threading.Thread(
            target=self._poll, args=(interval_s,), name=f"model-poll-{self.alias}", daemon=True
        )
        self._poller.start()

    def stop_polling(self) -> None:
        if self._poller is not None:
            self._stop_polling.set()
            self._poller.join(timeout=30)
            self._poller = None

    def _poll(self, interval_s: float) -> None:
        while not self._stop_polling.wait(interval_s):
            try:
                self.reload(retry_refused=False)
            except VersionNotFound:
                log.debug("no %s version of %s yet", self.alias, self.model_name)
            except ChecksumMismatch:
                pass  # logged by reload; the refused version is skipped from now on
            except Exception:
                # A broken registry must not end the poll (nor the process); the old model serves on.
                log.exception("polling the %s alias of %s failed", self.alias, self.model_name)
