"""The model holder: first load, reload, checksum refusal, polling."""

from __future__ import annotations

import time

import pytest

from backend.metrics import Metrics
from backend.serving import ModelHolder, ReloadOutcome
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.errors import ChecksumMismatch, ModelNotReady, VersionNotFound
from readcrumbs.model_bundle import MODEL_FILE
from readcrumbs.registry import Registry
from tests.backend.tiny import MODEL_NAME, register_version


def corrupt(registry: Registry, version: int, file: str = MODEL_FILE) -> None:
    """Flip the last byte of one of a version's files in the folder registry."""
    store = registry.store
    assert isinstance(store, FolderBlobStore)
    path = store.root / f"models/{MODEL_NAME}/versions/{version}/{file}"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_nothing_is_served_before_the_first_load(registry):
    holder = ModelHolder(registry, MODEL_NAME)
    assert holder.state is None
    with pytest.raises(ModelNotReady, match="make train"):
        holder.current()


def test_reload_serves_production_then_reports_unchanged(registry):
    metrics = Metrics()
    holder = ModelHolder(registry, MODEL_NAME, metrics=metrics)
    first = holder.reload()
    assert (first.outcome, first.version, first.previous) == (ReloadOutcome.LOADED, 1, None)
    assert holder.current().version == "1"
    assert len(holder.current().catalogue) == len(holder.current().bundle.catalogue)
    again = holder.reload()
    assert (again.outcome, again.version, again.previous) == (ReloadOutcome.UNCHANGED, 1, 1)
    assert 'readcrumbs_model_info{model_type="itemknn",name="readcrumbs",version="1"} 1.0' in (
        metrics.exposition().decode()
    )


def test_reload_follows_the_alias(registry):
    holder = ModelHolder(registry, MODEL_NAME)
    holder.reload()
    old_state = holder.current()
    registry.promote(MODEL_NAME, 2, force=True)
    reload = holder.reload()
    assert (reload.outcome, reload.version, reload.previous) == (ReloadOutcome.LOADED, 2, 1)
    assert holder.current().version == "2"
    assert old_state.version == "1"  # a request holding the old state keeps a working model
    assert old_state.bundle.recommend([1], 3)


def test_a_corrupt_version_is_refused_and_the_current_one_keeps_serving(registry):
    metrics = Metrics()
    holder = ModelHolder(registry, MODEL_NAME, metrics=metrics)
    holder.reload()
    corrupt(registry, 2)
    registry.promote(MODEL_NAME, 2, force=True)
    with pytest.raises(ChecksumMismatch, match="still serving v1"):
        holder.reload()
    assert holder.current().version == "1"
    assert 'readcrumbs_model_reloads_total{outcome="refused"} 1.0' in metrics.exposition().decode()
    # The poll does not download it again; an explicit reload retries (and is refused again).
    assert holder.reload(retry_refused=False).outcome == ReloadOutcome.UNCHANGED
    with pytest.raises(ChecksumMismatch):
        holder.reload()


def test_a_corrupt_first_version_leaves_the_holder_not_ready(registry):
    corrupt(registry, 1, "catalogue.json")
    holder = ModelHolder(registry, MODEL_NAME)
    with pytest.raises(ChecksumMismatch, match="no model is served"):
        holder.reload()
    with pytest.raises(ModelNotReady):
        holder.current()


def test_no_production_alias(tmp_path):
    registry = Registry(FolderBlobStore(tmp_path / "empty"))
    register_version(registry, neighbours=5)  # registered, never promoted
    holder = ModelHolder(registry, MODEL_NAME)
    with pytest.raises(VersionNotFound):
        holder.reload()


def test_polling_picks_up_a_promotion_and_skips_a_corrupt_one(registry):
    holder = ModelHolder(registry, MODEL_NAME)
    holder.reload()
    # Poll faster than settings allow: the holder itself takes any interval.
    holder.start_polling(0.02)
    try:
        registry.promote(MODEL_NAME, 2, force=True)
        deadline = time.monotonic() + 5
        while holder.current().version != "2":
            assert time.monotonic() < deadline, "poll did not load version 2"
            time.sleep(0.01)
        version = register_version(registry, neighbours=4)
        corrupt(registry, version)
        registry.promote(MODEL_NAME, version, force=True)
        time.sleep(0.2)
        assert holder.current().version == "2"
    finally:
        holder.stop_polling()


def test_the_poll_survives_a_failing_registry(registry, monkeypatch):
    holder = ModelHolder(registry, MODEL_NAME)
    holder.reload()
    real_alias = registry.alias
    calls = {"n": 0}

    def flaky_alias(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("registry hiccup (test)")
        return real_alias(*args, **kwargs)

    registry.promote(MODEL_NAME, 2, force=True)
    monkeypatch.setattr(registry, "alias", flaky_alias)
    holder.start_polling(0.02)
    try:
        deadline = time.monotonic() + 5
        while holder.current().version != "2":
            assert time.monotonic() < deadline, "the poll stopped after a failure"
            time.sleep(0.01)
    finally:
        holder.stop_polling()
    assert calls["n"] > 2
