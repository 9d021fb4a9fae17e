"""Issue 15's small things: security headers, offline /docs with a CSP, HEAD /health, userid text.

Before: no X-Content-Type-Options, Referrer-Policy or CSP on any answer; /docs loaded Swagger UI
from a third-party CDN (blank offline); HEAD /health answered 405; a userid could carry control
and bidi-override characters into logs and the dashboard.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import make_settings
from tests.backend.tiny import predict_payload


@pytest.fixture
def client(tmp_path, registry):
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics", "/openapi.json", "/books/1", "/nowhere"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in headers["content-security-policy"]


def test_errors_and_posts_carry_them_too(client):
    for answer in (
        client.post("/predict", json={"items": []}),
        client.post("/predict", json=predict_payload("Emma")),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_docs_are_served_from_the_package_with_a_strict_csp(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"https?://", page.text)  # nothing from a CDN
    policy = page.headers["content-security-policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assets = re.findall(r"(?:src|href)=\"(/docs/[^\"]+)\"", page.text)
    assert any(asset.endswith(".js") for asset in assets) and any(asset.endswith(".css") for asset in assets)
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["content-type"].split(";")[0] in (
            "application/javascript",
            "text/javascript",
            "text/css",
        )
    assert "/openapi.json" in client.get("/docs/init.js").text


def test_head_health_answers_200(client):
    answer = client.head("/health")
    assert answer.status_code == 200 and answer.content == b""


@pytest.mark.parametrize(
    "userid", ["a\x00b", "reader\u202egnp.exe", "line\nbreak", "tab\there", "\u2066x\u2069", "x\x7f"]
)
def test_control_and_bidi_characters_in_userid_are_refused(client, userid):
    assert client.post("/predict", json=predict_payload("Emma", userid=userid)).status_code == 422
    body = {"userid": userid, "book_id": 9, "feedback": 1}
    assert client.post("/feedback", json=body).status_code == 422


def test_ordinary_unicode_userids_are_fine(client):
    assert (
        client.post("/predict", json=predict_payload("Emma", userid="lectrice-ü-🙂 名前")).status_code == 200
    )
