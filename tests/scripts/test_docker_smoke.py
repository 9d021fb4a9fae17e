"""scripts.docker_smoke: the checks `make docker-test` runs against a live stack, here against a real
uvicorn serving a tiny registry, with SQLite events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.main import create_app
from backend.settings import BackendSettings
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from scripts import docker_smoke
from scripts.docker_smoke import SmokeFailed, call, check_api, check_events, screenshot_page
from tests.backend.live import serve_in_thread
from tests.backend.tiny import MODEL_NAME, register_version

os.environ.setdefault("WANDB_MODE", "disabled")


@pytest.fixture
def events_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def api_url(tmp_path: Path, events_url: str) -> Iterator[str]:
    """A live backend on a tiny folder registry (item-kNN in production) and a SQLite store."""
    register_version(Registry(FolderBlobStore(tmp_path / "registry")), neighbours=10, promote=True)
    settings = BackendSettings(
        _env_file=None,
        home=tmp_path / "home",
        model_name=MODEL_NAME,
        registry_url=f"file://{tmp_path / 'registry'}",
        events_url=events_url,
        event_flush_s=0.02,
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.mark.slow
def test_a_prediction_and_its_feedback_are_found_in_the_store(api_url: str, events_url: str):
    request_id, feedback_id = check_api(api_url)
    check_events(events_url, request_id, feedback_id, wait_s=30)


@pytest.mark.slow
def test_main_writes_the_ids_for_the_shell(api_url: str, tmp_path: Path):
    ids = tmp_path / "out" / "ids.env"
    assert docker_smoke.main(["api", "--api-url", api_url + "/", "--ids-out", str(ids)]) == 0
    names = [line.split("=", 1)[0] for line in ids.read_text().splitlines()]
    assert names == ["REQUEST_ID", "FEEDBACK_ID"]


@pytest.mark.slow
def test_an_unknown_request_is_not_in_the_store(api_url: str, events_url: str):
    check_api(api_url)
    with pytest.raises(SmokeFailed, match="no prediction of request nope"):
        check_events(events_url, "nope", None, wait_s=0)


@pytest.mark.slow
def test_an_error_answer_names_its_status(api_url: str):
    with pytest.raises(SmokeFailed, match="answered 404"):
        call(f"{api_url}/no-such-route")


@pytest.mark.slow
def test_a_rejected_prediction_fails_the_check(api_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(docker_smoke, "FAVOURITES", ["no such book at all, anywhere"])
    with pytest.raises(SmokeFailed, match="/predict"):
        check_api(api_url)


def test_a_server_that_does_not_answer_fails_the_check():
    with pytest.raises(SmokeFailed, match="did not answer"):
        call("http://127.0.0.1:9/health", timeout_s=2)


def test_a_missing_chromium_is_named(tmp_path: Path):
    with pytest.raises(SmokeFailed, match="no-such-browser"):
        screenshot_page("http://127.0.0.1:9/", "app", tmp_path / "a.png", "no-such-browser", wait_s=1)


def test_main_reports_a_failed_check(capsys: pytest.CaptureFixture[str], events_url: str):
    argv = ["events", "--events-url", events_url, "--request-id", "x", "--wait-s", "0"]
    assert docker_smoke.main(argv) == 1
    assert "docker_smoke: " in capsys.readouterr().err
