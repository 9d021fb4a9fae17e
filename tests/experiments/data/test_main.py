from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from experiments.data.__main__ import main
from readcrumbs.settings import get_settings
from tests.experiments.data.conftest import WriteGoodbooks
from tests.experiments.data.test_source import unused_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """READCRUMBS_* pointing into the test's folder; the cached settings are rebuilt."""
    for name in list(os.environ):
        if name.startswith("READCRUMBS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no stray .env file is read
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_prints_a_summary_of_the_prepared_dataset(
    environment: Path, goodbooks: WriteGoodbooks, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--source", str(goodbooks()), "--heldout-users", "2", "--heldout-min-likes", "5"])

    out = capsys.readouterr().out
    assert code == 0
    version = out.split("data version", 1)[1].split()[0]
    assert (environment / "home" / "registry" / "data" / version / "data.json").is_file()
    assert "likes          28 (rating >= 4)" in out
    assert "users          8 with likes, 2 held out" in out
    assert "books          6" in out


def test_reads_the_source_setting_without_a_flag(
    environment: Path,
    goodbooks: WriteGoodbooks,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("READCRUMBS_DATA_SOURCE", str(goodbooks(gz=True)))

    assert main([]) == 0
    assert "held out" in capsys.readouterr().out


def test_a_data_error_is_one_line_on_stderr_and_exit_status_2(
    environment: Path, goodbooks: WriteGoodbooks, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--source", str(goodbooks(tags=""))])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error: tags.csv") and "Traceback" not in "".join(err)


def test_without_network_or_folder_the_command_names_the_setting(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("READCRUMBS_")}
    env |= {
        "READCRUMBS_HOME": str(tmp_path / "home"),
        "READCRUMBS_DATA_SOURCE": f"http://127.0.0.1:{unused_port()}/goodbooks-10k.zip",
        "no_proxy": "127.0.0.1",
        "NO_PROXY": "127.0.0.1",
    }

    finished = subprocess.run(
        [sys.executable, "-m", "experiments.data"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 2
    assert finished.stdout == ""
    assert "Traceback" not in finished.stderr
    [line] = [line for line in finished.stderr.splitlines() if line.startswith("error:")]
    assert "READCRUMBS_DATA_SOURCE" in line


@pytest.mark.parametrize("flag", ["--heldout-users", "--heldout-min-likes"])
def test_counts_below_one_are_refused_by_the_parser(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([flag, "0"])

    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
