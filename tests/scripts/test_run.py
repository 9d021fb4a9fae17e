"""scripts.run (`make run`): the Procfile, the environment it gets, and honcho supervising it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from honcho.environ import parse_procfile

from readcrumbs.blobs import open_blob_store
from readcrumbs.registry import PRODUCTION, Registry
from readcrumbs.settings import Settings
from scripts import run
from scripts.run import RunSettings, banner, service_environment, services, wait_until_serving
from tests.backend.live import free_port
from tests.tiny_goodbooks import write_tiny_goodbooks

ROOT = Path(__file__).resolve().parents[2]


def test_procfile_runs_the_three_services_on_the_ports_run_sets():
    processes = parse_procfile((ROOT / "Procfile").read_text()).processes
    assert list(processes) == ["backend", "frontend", "monitoring"]
    assert processes["backend"].startswith("python -m backend ")
    assert "streamlit run frontend/app.py" in processes["frontend"]
    assert "streamlit run monitoring/app.py" in processes["monitoring"]
    env = service_environment({}, RunSettings())
    for name, variable in (
        ("backend", "READCRUMBS_BACKEND_PORT"),
        ("frontend", "READCRUMBS_FRONTEND_PORT"),
        ("monitoring", "READCRUMBS_MONITORING_PORT"),
    ):
        assert f"${{{variable}:-{env[variable]}}}" in processes[name]
        assert "READCRUMBS_BIND_HOST" in processes[name]


def test_service_environment_puts_this_venv_first_and_sets_ports():
    settings = RunSettings(backend_port=9100, frontend_port=9101, monitoring_port=9102)
    env = service_environment(
        {"PATH": "/usr/bin:/venv/bin", "KEEP": "1"}, settings, python="/venv/bin/python"
    )
    assert env["PATH"] == "/venv/bin:/usr/bin"
    assert env["KEEP"] == "1"
    assert (
        env["READCRUMBS_BACKEND_PORT"],
        env["READCRUMBS_FRONTEND_PORT"],
        env["READCRUMBS_MONITORING_PORT"],
    ) == (
        "9100",
        "9101",
        "9102",
    )
    assert env["READCRUMBS_API_URL"] == "http://127.0.0.1:9100"


def test_service_environment_keeps_an_api_url_that_was_set():
    env = service_environment({"READCRUMBS_API_URL": "http://api.example:80"}, RunSettings())
    assert env["READCRUMBS_API_URL"] == "http://api.example:80"


def test_a_wildcard_bind_is_shown_as_loopback():
    shown = services(RunSettings(bind_host="0.0.0.0", backend_port=9000))
    assert shown[-1].url == "http://127.0.0.1:9000"
    assert shown[-1].health_url == "http://127.0.0.1:9000/health"
    assert shown[0].health_url.endswith("/_stcore/health")


def test_run_settings_refuse_a_bad_port(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("READCRUMBS_BACKEND_PORT", "70000")
    with pytest.raises(ValueError, match="backend_port"):
        RunSettings()


def test_banner_lists_every_url():
    text = banner(services(RunSettings()), "readcrumbs v3")
    assert "readcrumbs v3" in text
    for url in ("http://127.0.0.1:8501", "http://127.0.0.1:8502", "http://127.0.0.1:8000", "/docs", "Ctrl-C"):
        assert url in text


def test_wait_gives_up_when_the_supervisor_exits():
    supervisor = subprocess.Popen([sys.executable, "-c", "pass"])
    supervisor.wait()
    started = time.monotonic()
    targets = services(RunSettings(backend_port=free_port()))
    assert wait_until_serving(supervisor, targets, timeout_s=30) is False
    assert time.monotonic() - started < 5


# -- honcho end to end, with stand-in services that answer the health URLs ------------------------
@pytest.fixture
def registry_with_production(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    settings = Settings(home=home)
    registry = Registry(open_blob_store(settings.resolved_registry_url))
    manifest = registry.register(
        settings.model_name, "popularity", {"scores.json": b"[]"}, params={}, metrics={}, data_version="tiny"
    )
    registry.set_alias(settings.model_name, PRODUCTION, manifest.version)
    return home


def start_run(tmp_path: Path, home: Path, procfile: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
    """``python -m scripts.run`` with ``procfile`` in place of the real one."""
    site = tmp_path / "site"
    (site / "_stcore").mkdir(parents=True)
    (site / "health").write_text('{"status": "ok"}')
    (site / "_stcore" / "health").write_text("ok")
    (tmp_path / "Procfile").write_text(procfile.replace("SITE", str(site)))
    ports = {"backend": free_port(), "frontend": free_port(), "monitoring": free_port()}
    env = {
        **os.environ,
        "READCRUMBS_HOME": str(home),
        "READCRUMBS_BACKEND_PORT": str(ports["backend"]),
        "READCRUMBS_FRONTEND_PORT": str(ports["frontend"]),
        "READCRUMBS_MONITORING_PORT": str(ports["monitoring"]),
        "READCRUMBS_STARTUP_TIMEOUT_S": "20",
    }
    code = (
        "import sys; from pathlib import Path; from scripts import run;"
        " run.PROCFILE = Path(sys.argv[1]); sys.exit(run.main())"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "Procfile")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, ports


def read_until(process: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not printed within {timeout_s} s:\n{''.join(seen)}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


STAND_INS = "\n".join(
    f"{name}: exec python -m http.server ${{{variable}}} --bind 127.0.0.1 --directory SITE"
    for name, variable in (
        ("backend", "READCRUMBS_BACKEND_PORT"),
        ("frontend", "READCRUMBS_FRONTEND_PORT"),
        ("monitoring", "READCRUMBS_MONITORING_PORT"),
    )
)


def test_run_prints_the_urls_and_ctrl_c_stops_every_service(tmp_path: Path, registry_with_production: Path):
    started = time.monotonic()
    process, ports = start_run(tmp_path, registry_with_production, STAND_INS)
    try:
        output = read_until(process, "Press Ctrl-C", timeout_s=30)
        # The registry already had a production model: nothing was trained.
        assert "production model: readcrumbs v1" in output
        assert time.monotonic() - started < 15
        for port in ports.values():
            assert f"http://127.0.0.1:{port}" in output
            assert port_open(port)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) != 0
        assert not any(port_open(port) for port in ports.values())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_run_stops_everything_when_one_service_exits(tmp_path: Path, registry_with_production: Path):
    procfile = STAND_INS.replace(
        "backend: exec python -m http.server", "backend: echo no model >&2; exit 3; #"
    )
    process, ports = start_run(tmp_path, registry_with_production, procfile)
    try:
        assert process.wait(timeout=30) != 0
        assert process.stdout is not None
        assert "Press Ctrl-C" not in process.stdout.read()
        assert not any(port_open(port) for port in ports.values())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_main_reports_a_failed_model_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("READCRUMBS_EVENTS_URL", "postgres://nope")
    monkeypatch.setattr(run, "get_settings", lambda: Settings())
    assert run.main() == 1
    assert "READCRUMBS_EVENTS_URL" in capsys.readouterr().err


# -- the real thing: pipeline, backend, readers' app and dashboard -------------------------------
@pytest.mark.slow
def test_make_run_trains_once_and_serves_the_three_real_services(tmp_path: Path):
    write_tiny_goodbooks(tmp_path / "goodbooks")
    ports = {"backend": free_port(), "frontend": free_port(), "monitoring": free_port()}
    keep = {key: value for key, value in os.environ.items() if not key.startswith(("READCRUMBS_", "AWS_"))}
    env = {
        **keep,
        "WANDB_MODE": "disabled",
        "READCRUMBS_HOME": str(tmp_path / "home"),
        "READCRUMBS_DATA_SOURCE": str(tmp_path / "goodbooks"),
        "READCRUMBS_BACKEND_PORT": str(ports["backend"]),
        "READCRUMBS_FRONTEND_PORT": str(ports["frontend"]),
        "READCRUMBS_MONITORING_PORT": str(ports["monitoring"]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = read_until(process, "Press Ctrl-C", timeout_s=120)
        assert "running the pipeline" in output
        api = f"http://127.0.0.1:{ports['backend']}"
        answer = httpx.post(f"{api}/predict", json={"items": ["Book Number 1"], "userid": "run"}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["recs"]) == 10
        for name in ("frontend", "monitoring"):
            page = httpx.get(f"http://127.0.0.1:{ports[name]}/", timeout=10)
            assert page.status_code == 200 and "<html" in page.text.lower()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        assert not any(port_open(port) for port in ports.values())
        # A second check finds the promoted model: nothing would be trained again.
        registry = Registry(open_blob_store(Settings(home=tmp_path / "home").resolved_registry_url))
        assert registry.alias("readcrumbs", PRODUCTION) is not None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
