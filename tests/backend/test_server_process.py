"""The server process's GIL interval and frozen heap (backend/server_process.py)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend import server_process
from backend.main import create_app_from_env
from backend.serving import ModelHolder
from readcrumbs.registry import PRODUCTION, Registry
from tests.backend.tiny import MODEL_NAME


class Cycle:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def tuned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test process tuned as a server; Python's defaults again afterwards."""
    interval = sys.getswitchinterval()
    monkeypatch.setattr(server_process, "_freeze_after_swaps", False)
    server_process.tune_server_process()
    yield
    sys.setswitchinterval(interval)
    gc.unfreeze()


def test_tuning_sets_the_gil_interval(tuned: None) -> None:
    assert sys.getswitchinterval() == pytest.approx(server_process.GIL_SWITCH_INTERVAL_S)


def test_an_untuned_process_never_freezes(monkeypatch: pytest.MonkeyPatch, registry: Registry) -> None:
    monkeypatch.setattr(server_process, "_freeze_after_swaps", False)
    frozen = gc.get_freeze_count()
    ModelHolder(registry, MODEL_NAME).reload()
    assert gc.get_freeze_count() == frozen


def test_a_swap_freezes_the_new_model_and_frees_the_old_garbage(tuned: None, registry: Registry) -> None:
    holder = ModelHolder(registry, MODEL_NAME)
    holder.reload()
    assert gc.get_freeze_count() > 0

    garbage = Cycle()
    gone = weakref.ref(garbage)
    gc.freeze()  # as if it had been alive at the last settle
    del garbage
    gc.collect()
    assert gone() is not None  # frozen: the collector's passes skip it

    registry.set_alias(MODEL_NAME, PRODUCTION, 2)
    holder.reload()
    assert gone() is None  # the swap's settle collected it
    assert holder.current().version == "2"


def test_each_worker_process_is_tuned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []
    monkeypatch.setattr(server_process, "tune_server_process", lambda: calls.append("tuned"))
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path))
    create_app_from_env()
    assert calls == ["tuned"]
