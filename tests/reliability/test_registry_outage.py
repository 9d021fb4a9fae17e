"""Fault: the model registry cannot be reached at start-up.

The registry is an S3 bucket whose endpoint refuses connections (a closed port on 127.0.0.1),
so the real S3 blob store fails as it would in an outage. With a last good version cached
locally (by an earlier run), the backend serves it and ``/ready`` says it came from the cache;
without one, or with a corrupted copy, ``python -m backend`` exits 2 with a one-line message.
"""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from backend import __main__ as entry
from backend.main import create_app
from backend.model_cache import ModelCache
from backend.settings import get_settings
from readcrumbs.model_bundle import MODEL_FILE
from readcrumbs.registry import Registry
from tests.backend.conftest import make_settings
from tests.backend.tiny import MODEL_NAME, predict_payload

UNREACHABLE_REGISTRY = "s3://rc-registry/models"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unreachable_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 pointed at a port where nothing listens: every call is refused at once."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def warm_cache(tmp_path, registry: Registry) -> None:
    """An earlier run that loaded production v1 from a reachable registry (and cached it)."""
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:
        assert client.get("/ready").json()["model"]["source"] == "registry"


def test_with_a_cached_version_it_serves_that_and_ready_says_so(tmp_path, registry, unreachable_aws, caplog):
    warm_cache(tmp_path, registry)
    settings = make_settings(tmp_path / "home", registry_url=UNREACHABLE_REGISTRY, events_url="memory://")
    with caplog.at_level("WARNING"), TestClient(create_app(settings)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert (ready.json()["model"]["version"], ready.json()["model"]["source"]) == ("1", "cache")
        answer = client.post("/predict", json=predict_payload("Emma", "1984"))
        assert answer.status_code == 200 and answer.json()["model_version"] == "1"
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "cannot reach the model registry" in messages and "from the local cache" in messages


def test_without_a_cached_version_the_app_is_not_ready(tmp_path, unreachable_aws):
    settings = make_settings(tmp_path / "home", registry_url=UNREACHABLE_REGISTRY, events_url="memory://")
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503


def test_a_corrupted_cached_copy_is_refused_not_served(tmp_path, registry, unreachable_aws):
    warm_cache(tmp_path, registry)
    cached = tmp_path / "home" / "cache" / f"models/{MODEL_NAME}/versions/1/{MODEL_FILE}"
    data = bytearray(cached.read_bytes())
    data[-1] ^= 0xFF
    cached.write_bytes(bytes(data))
    settings = make_settings(tmp_path / "home", registry_url=UNREACHABLE_REGISTRY, events_url="memory://")
    with TestClient(create_app(settings)) as client:
        assert client.get("/ready").status_code == 503
        assert 'readcrumbs_model_reloads_total{outcome="refused"} 1.0' in client.get("/metrics").text


@pytest.fixture
def backend_env(monkeypatch: pytest.MonkeyPatch, tmp_path, unreachable_aws):
    """``python -m backend``'s environment: the unreachable registry, state under tmp_path."""
    for name in ("READCRUMBS_EVENTS_URL", "READCRUMBS_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("READCRUMBS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("READCRUMBS_MODEL_NAME", MODEL_NAME)
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", UNREACHABLE_REGISTRY)
    # The root logger keeps pytest's handlers (main would point it at this test's stderr for good).
    monkeypatch.setattr(entry, "configure_logging", lambda level: None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def exit_message(stderr: str) -> str:
    """The one line ``main`` printed (an earlier test may have left log handlers writing here too)."""
    [line] = [line for line in stderr.splitlines() if line.startswith("Cannot read the model registry")]
    return line


def test_the_server_exits_2_with_one_line_without_a_cached_version(backend_env, monkeypatch, capsys):
    served = []
    monkeypatch.setattr(entry, "serve", lambda *args: served.append(args))
    assert entry.main(["--port", "0"]) == 2
    message = exit_message(capsys.readouterr().err)
    assert message.startswith(f"Cannot read the model registry {UNREACHABLE_REGISTRY} (cannot read")
    assert "Could not connect" in message
    assert "no version of 'readcrumbs' is cached" in message and message.endswith("nothing to serve.")
    assert served == []


def test_the_server_exits_2_when_the_cached_copy_is_corrupt(
    tmp_path, registry, backend_env, monkeypatch, capsys
):
    warm_cache(tmp_path, registry)
    cached = tmp_path / "home" / "cache" / f"models/{MODEL_NAME}/versions/1/{MODEL_FILE}"
    cached.write_bytes(b"not the model")
    monkeypatch.setattr(entry, "serve", lambda *args: pytest.fail("a corrupt copy must not be served"))
    assert entry.main(["--port", "0"]) == 2
    message = exit_message(capsys.readouterr().err)
    assert "does not match its manifest checksum" in message and message.endswith("nothing to serve.")


def test_the_server_starts_with_a_cached_version(tmp_path, registry, backend_env, monkeypatch, caplog):
    warm_cache(tmp_path, registry)
    served = []
    monkeypatch.setattr(entry, "serve", lambda app, host, port, **options: served.append((host, port)))
    with caplog.at_level("WARNING", logger="backend"):
        assert entry.main(["--port", "0"]) == 0
    assert served == [("127.0.0.1", 0)]
    assert any("starting with the locally cached v1" in record.getMessage() for record in caplog.records)
    assert ModelCache(tmp_path / "home" / "cache").last_good(MODEL_NAME) == 1


def test_a_malformed_registry_url_is_not_mistaken_for_an_outage(
    tmp_path, registry, backend_env, monkeypatch, capsys
):
    warm_cache(tmp_path, registry)
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", "s3:///no-bucket")
    get_settings.cache_clear()
    monkeypatch.setattr(
        entry, "serve", lambda *args: pytest.fail("a configuration error must stop the start")
    )
    assert entry.main(["--port", "0"]) == 2
    assert "no bucket" in capsys.readouterr().err
