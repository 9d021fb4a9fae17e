"""The engine benchmark: process-tree memory, the worker protocol and the table (no Spark needed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import train_spark
from bench.train_spark import EngineRun, PeakMemory, format_runs, run_engine, tree_rss_bytes
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.dataset import save_dataset
from tests.experiments import tiny

MIB = 1024 * 1024
TINY_ALS = {"factors": 4, "regularization": 0.1, "alpha": 5.0, "iterations": 5, "seed": 1}


def engine_run(engine: str, wall_s: float, recall: float, params: dict[str, object]) -> EngineRun:
    return EngineRun(
        engine=engine,
        wall_s=wall_s,
        startup_s=1.0,
        load_s=0.5,
        fit_s=wall_s - 2,
        evaluate_s=0.5,
        peak_rss_mib=300.0,
        fold80_recall_at_20=recall,
        fav3_recall_at_10=recall / 2,
        params=params,
        detail={},
    )


def test_tree_memory_includes_child_processes() -> None:
    # A child holding 64 MiB (touched, so resident) stands in for Spark's driver JVM.
    holder = (
        "import sys, time; block = bytearray(64 * 1024 * 1024); print('ready', flush=True); time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with open(f"/proc/{os.getpid()}/statm") as statm:
            own = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

        assert tree_rss_bytes(os.getpid()) - own >= 60 * MIB
    finally:
        child.kill()
        child.wait()


def test_peak_memory_samples_until_stopped() -> None:
    memory = PeakMemory(os.getpid(), every_s=0.01)
    time.sleep(0.05)

    peak = memory.stop()

    assert peak > 0
    assert not memory._thread.is_alive()


def test_a_gone_process_has_no_memory() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()

    assert tree_rss_bytes(child.pid) == 0


def test_the_table_shows_each_engine_and_an_earlier_run() -> None:
    params: dict[str, object] = {"factors": 64}
    runs = [engine_run("implicit", 10.0, 0.25, params), engine_run("spark", 140.0, 0.2475, params)]
    earlier = [engine_run("spark", 1200.0, 0.27, {"factors": 128})]

    table = format_runs(runs, earlier)

    lines = table.splitlines()
    assert lines[2].startswith("implicit") and "10.0" in lines[2] and "0.2500" in lines[2]
    assert lines[3].startswith("spark") and "140.0" in lines[3] and "0.2475" in lines[3]
    assert lines[4].startswith("spark (before)") and "1200.0" in lines[4]
    assert 'params: {"factors": 64}' in table and 'params (before): {"factors": 128}' in table


def test_an_implicit_worker_trains_and_evaluates_a_stored_dataset(tmp_path: Path) -> None:
    dataset = tiny.tiny_dataset()
    save_dataset(FolderBlobStore(tmp_path), dataset)

    run = run_engine("implicit", f"file://{tmp_path}", dataset.version, TINY_ALS, seed=7)

    assert run.engine == "implicit" and run.params == TINY_ALS
    assert run.wall_s >= run.fit_s > 0 and run.peak_rss_mib > 50
    assert 0 < run.fold80_recall_at_20 <= 1 and 0 < run.fav3_recall_at_10 <= 1
    assert run.detail["users"] == dataset.training_users().size


def test_a_failing_worker_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="the implicit worker failed"):
        run_engine("implicit", f"file://{tmp_path}", "no-such-version", TINY_ALS, seed=7)


def test_unknown_engines_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert train_spark.main(["--engines", "implicit,flink"]) == 2
    assert "unknown engines ['flink']" in capsys.readouterr().err
