"""Fixtures for the readers' app: an in-memory backend, the page under AppTest, a stub server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from frontend.settings import get_settings
from tests.frontend.fake_backend import FakeBackend
from tests.frontend.stub_server import StubServer

APP_PATH = Path(__file__).resolve().parents[2] / "frontend" / "app.py"


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings come from a clean environment, re-read in every test."""
    for name in ("READCRUMBS_API_URL", "READCRUMBS_REQUEST_TIMEOUT_S", "READCRUMBS_SEARCH_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def app(backend: FakeBackend) -> AppTest:
    """The page, not yet run, talking to ``backend`` instead of HTTP."""
    page = AppTest.from_file(str(APP_PATH), default_timeout=20)
    page.session_state["backend"] = backend
    return page


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server
