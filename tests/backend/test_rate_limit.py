"""Per-client token buckets and the 429 middleware (a fake clock; the app through TestClient)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.rate_limit import TokenBuckets
from tests.backend.conftest import make_settings
from tests.backend.tiny import predict_payload


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_admits_a_minute_of_requests_then_refuses():
    clock = FakeClock()
    buckets = TokenBuckets(60, clock=clock)
    assert all(buckets.admit("1.2.3.4") == 0.0 for _ in range(60))
    wait_s = buckets.admit("1.2.3.4")
    assert wait_s == pytest.approx(1.0)  # 60 a minute: one token back per second


def test_tokens_come_back_at_the_average_rate():
    clock = FakeClock()
    buckets = TokenBuckets(120, clock=clock)
    for _ in range(120):
        buckets.admit("a")
    assert buckets.admit("a") > 0.0
    clock.now += 1.0  # two tokens back
    assert buckets.admit("a") == 0.0
    assert buckets.admit("a") == 0.0
    assert buckets.admit("a") > 0.0


def test_clients_have_separate_buckets():
    buckets = TokenBuckets(1, clock=FakeClock())
    assert buckets.admit("a") == 0.0
    assert buckets.admit("a") > 0.0
    assert buckets.admit("b") == 0.0


def test_a_long_quiet_spell_refills_only_up_to_the_capacity():
    clock = FakeClock()
    buckets = TokenBuckets(5, clock=clock)
    buckets.admit("a")
    clock.now += 3600.0
    assert sum(buckets.admit("a") == 0.0 for _ in range(10)) == 5


def test_the_least_recently_seen_client_is_forgotten_first():
    buckets = TokenBuckets(1, clock=FakeClock(), max_clients=2)
    buckets.admit("a")
    buckets.admit("b")
    buckets.admit("a")  # refused, but seen: "b" is now the oldest
    buckets.admit("c")
    assert len(buckets) == 2
    assert buckets.admit("a") > 0.0  # still remembered, still empty
    assert buckets.admit("b") == 0.0  # forgotten, so a fresh bucket


def test_a_rate_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        TokenBuckets(0)


def limited_client(tmp_path, registry, store, per_minute: int, client=("203.0.113.7", 5000), **extra):
    settings = make_settings(tmp_path / "home", rate_limit_per_min=per_minute, **extra)
    return TestClient(create_app(settings, registry=registry, event_store=store), client=client)


def test_over_the_limit_is_429_with_retry_after(tmp_path, registry, store):
    with limited_client(tmp_path, registry, store, per_minute=3) as client:
        answers = [client.post("/predict", json=predict_payload("Emma")) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        # 3 a minute: one token every 20 s, less what trickled back while the requests ran.
        retry_after = int(refused.headers["retry-after"])
        assert 15 <= retry_after <= 20
        assert refused.json() == {"detail": f"Too many requests from this client; retry in {retry_after} s."}
        # Other routes share the client's bucket; probes and scrapes are never limited.
        assert client.get("/books/1").status_code == 429
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200
        metrics = client.get("/metrics").text
        assert "readcrumbs_rate_limited_total 2.0" in metrics
        assert 'readcrumbs_http_requests_total{method="POST",route="unmatched",status="429"} 1.0' in metrics


def test_exempt_addresses_and_a_zero_limit_are_never_refused(tmp_path, registry, store):
    with limited_client(tmp_path, registry, store, 1, client=("127.0.0.1", 5000)) as client:
        assert all(client.get("/books/1").status_code == 200 for _ in range(5))
    with limited_client(tmp_path, registry, store, 0) as client:
        assert all(client.get("/books/1").status_code == 200 for _ in range(5))


def test_the_limit_and_exempt_list_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("READCRUMBS_RATE_LIMIT_PER_MIN", "12")
    monkeypatch.setenv("READCRUMBS_RATE_LIMIT_EXEMPT", "10.0.0.1, ::1")
    settings = make_settings(tmp_path)
    assert settings.rate_limit_per_min == 12
    assert settings.rate_limit_exempt == ("10.0.0.1", "::1")
    with pytest.raises(ValueError, match="READCRUMBS_RATE_LIMIT_EXEMPT"):
        make_settings(tmp_path, rate_limit_exempt="localhost")
    with pytest.raises(ValueError, match="greater than or equal"):
        make_settings(tmp_path, rate_limit_per_min=-1)
