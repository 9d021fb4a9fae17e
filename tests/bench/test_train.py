"""The training benchmark: each stage's wall time and own peak memory, on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import train as bench_train
from tests.experiments import tiny


def test_measured_records_time_and_the_stages_own_peak() -> None:
    figures: list[dict[str, object]] = []
    big = np.ones(40 * 1024 * 1024 // 8)  # 40 MiB, freed before the stage
    del big
    with bench_train.measured("allocate", figures):
        block = np.ones(80 * 1024 * 1024 // 8)  # 80 MiB inside the stage
        block[0] = 2.0
    (record,) = figures
    assert record["stage"] == "allocate"
    assert isinstance(record["wall_s"], float) and record["wall_s"] >= 0
    if not record["peak_is_stage_own"]:
        pytest.skip("this kernel does not let a process reset its peak RSS")
    peak, start = record["peak_rss_mib"], record["start_rss_mib"]
    assert isinstance(peak, float) and isinstance(start, float)
    assert peak - start >= 70


def test_format_figures_with_an_earlier_run() -> None:
    figures = [
        {"stage": "data", "wall_s": 3.0, "peak_rss_mib": 100.0, "peak_is_stage_own": True},
        {
            "stage": "fit ease",
            "wall_s": 20.0,
            "peak_rss_mib": 900.0,
            "artifact_mib": 21.5,
            "peak_is_stage_own": True,
        },
    ]
    table = bench_train.format_figures(figures, previous=[{"stage": "fit ease", "wall_s": 25.0}])
    assert "fit ease" in table and "20.0 s (was 25.0)" in table and "21.50 MiB" in table
    assert "total of stages: 23.0 s" in table
    assert "note:" not in table


@pytest.mark.slow
def test_the_benchmark_runs_every_stage_in_its_own_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("READCRUMBS_DATA_SOURCE", str(tiny.write_goodbooks(tmp_path / "source")))
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    out_file = tmp_path / "bench.json"
    assert bench_train.main(["--models", "popularity,ease", "--json", str(out_file)]) == 0
    printed = capsys.readouterr().out
    stages = [record["stage"] for record in json.loads(out_file.read_text())]
    assert stages == ["data", "fit popularity", "evaluate popularity", "fit ease", "evaluate ease"]
    assert "peak RSS" in printed and "fav3 r@10" in printed
    # The benchmark writes into a temporary home of its own, never the configured one.
    assert not (tmp_path / "home").exists()


def test_an_unknown_model_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_train.main(["--models", "svd"]) == 2
    assert "unknown model type" in capsys.readouterr().err
