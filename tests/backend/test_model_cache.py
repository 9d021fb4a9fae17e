"""The local copy of the last good production version: kept on every load, verified on reuse."""

from __future__ import annotations

import pytest

from backend.model_cache import LAST_GOOD, ModelCache
from backend.serving import ModelHolder, ModelSource, ReloadOutcome
from readcrumbs.errors import ChecksumMismatch, ModelNotReady, VersionNotFound
from readcrumbs.model_bundle import MODEL_FILE
from tests.backend.tiny import MODEL_NAME


def cached_file(cache: ModelCache, version: int, file: str = MODEL_FILE):
    return cache.folder / f"models/{MODEL_NAME}/versions/{version}/{file}"


def test_every_load_from_the_registry_keeps_a_verified_copy(tmp_path, registry):
    cache = ModelCache(tmp_path / "cache")
    holder = ModelHolder(registry, MODEL_NAME, cache=cache)
    assert cache.last_good(MODEL_NAME) is None
    holder.reload()
    assert cache.last_good(MODEL_NAME) == 1
    manifest, files = cache.load(MODEL_NAME)
    assert manifest == registry.manifest(MODEL_NAME, 1)
    assert files == registry.load_files(MODEL_NAME, 1)[1]


def test_only_the_last_good_version_is_kept(tmp_path, registry):
    cache = ModelCache(tmp_path / "cache")
    holder = ModelHolder(registry, MODEL_NAME, cache=cache)
    holder.reload()
    registry.promote(MODEL_NAME, 2, force=True)
    holder.reload()
    assert cache.last_good(MODEL_NAME) == 2
    assert cache.registry.versions(MODEL_NAME) == [2]
    assert not cached_file(cache, 1).exists()


def test_a_cached_copy_serves_when_asked_and_says_so(tmp_path, registry):
    cache = ModelCache(tmp_path / "cache")
    ModelHolder(registry, MODEL_NAME, cache=cache).reload()
    fresh = ModelHolder(registry, MODEL_NAME, cache=cache)
    loaded = fresh.load_cached()
    assert (loaded.outcome, loaded.version, loaded.previous) == (ReloadOutcome.LOADED, 1, None)
    state = fresh.current()
    assert (state.version, state.source) == ("1", ModelSource.CACHE)
    assert state.bundle.recommend([1], 3)
    # Once the registry answers, the same version is loaded again from it rather than kept as is.
    again = fresh.reload()
    assert (again.outcome, again.version, again.previous) == (ReloadOutcome.LOADED, 1, 1)
    assert fresh.current().source == ModelSource.REGISTRY
    assert fresh.reload().outcome == ReloadOutcome.UNCHANGED


def test_a_corrupted_cached_copy_is_refused(tmp_path, registry):
    cache = ModelCache(tmp_path / "cache")
    ModelHolder(registry, MODEL_NAME, cache=cache).reload()
    path = cached_file(cache, 1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    holder = ModelHolder(registry, MODEL_NAME, cache=cache)
    with pytest.raises(ChecksumMismatch, match="checksum"):
        holder.load_cached()
    with pytest.raises(ModelNotReady):
        holder.current()


def test_nothing_cached_or_no_cache_at_all(tmp_path, registry):
    with pytest.raises(VersionNotFound, match="no version"):
        ModelHolder(registry, MODEL_NAME, cache=ModelCache(tmp_path / "cache")).load_cached()
    with pytest.raises(VersionNotFound, match="no local cache"):
        ModelHolder(registry, MODEL_NAME).load_cached()


def test_an_unreadable_pointer_counts_as_nothing_cached(tmp_path, registry):
    cache = ModelCache(tmp_path / "cache")
    ModelHolder(registry, MODEL_NAME, cache=cache).reload()
    (cache.folder / f"models/{MODEL_NAME}/{LAST_GOOD}").write_text("{not json")
    assert cache.last_good(MODEL_NAME) is None


def test_a_cache_that_cannot_be_written_does_not_stop_serving(tmp_path, registry, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    holder = ModelHolder(registry, MODEL_NAME, cache=ModelCache(blocker))
    with caplog.at_level("WARNING", logger="backend.serving"):
        assert holder.reload().outcome == ReloadOutcome.LOADED
    assert holder.current().version == "1"
    assert any("could not copy" in record.getMessage() for record in caplog.records)
