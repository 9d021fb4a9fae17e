"""End to end: `python -m backend` in a subprocess on 127.0.0.1, a folder registry, SQLite events,
then SIGTERM; every answered prediction and feedback must be in SQLite afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.backend.live import free_port, wait_ready
from tests.backend.tiny import MODEL_NAME, predict_payload, register_version

REPO_ROOT = Path(__file__).resolve().parents[2]


def backend_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("READCRUMBS_")}
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "WANDB_MODE": "disabled",
            "READCRUMBS_HOME": str(tmp_path / "home"),
            "READCRUMBS_REGISTRY_URL": f"file://{tmp_path / 'registry'}",
            "READCRUMBS_EVENTS_URL": f"sqlite:///{tmp_path / 'events.db'}",
            "READCRUMBS_MODEL_NAME": MODEL_NAME,
            # The longest allowed wait, so records are still queued when SIGTERM arrives.
            "READCRUMBS_EVENT_FLUSH_S": "1.0",
        }
    )
    return env


@pytest.mark.slow
def test_real_uvicorn_logs_every_record_through_sigterm(tmp_path):
    register_version(Registry(FolderBlobStore(tmp_path / "registry")), neighbours=10, promote=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,  # no stray .env
        env=backend_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process, timeout_s=30)
        with httpx.Client(base_url=url, timeout=10) as client:
            answers = [
                client.post("/predict", json=predict_payload("Emma", "1984", userid=f"u{i}")).json()
                for i in range(20)
            ]
            request_ids = [answer["request_id"] for answer in answers]
            feedback_ids = [
                client.post(
                    "/feedback",
                    json={
                        "userid": f"u{i}",
                        "book_id": answer["books"][0]["book_id"],
                        "feedback": "like",
                        "request_id": answer["request_id"],
                    },
                ).json()["feedback_id"]
                for i, answer in enumerate(answers[:5])
            ]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM, or 0.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr

    from readcrumbs.events import open_event_store

    store = open_event_store(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        assert sorted(record.request_id for record in store.predictions()) == sorted(request_ids)
        assert sorted(record.feedback_id for record in store.feedback()) == sorted(feedback_ids)
    finally:
        store.close()
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert logs and all({"ts", "level", "logger", "message"} <= set(entry) for entry in logs)
    assert not (tmp_path / "home" / "spool" / "events.jsonl").exists()
