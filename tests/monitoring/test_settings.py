import pytest
from pydantic import ValidationError

from monitoring.settings import MonitoringSettings, get_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the working folder
    for name in ("SLO_LATENCY_MS", "DASHBOARD_REFRESH_S", "DASHBOARD_CACHE_TTL_S", "DASHBOARD_SAMPLE_SIZE"):
        monkeypatch.delenv(f"READCRUMBS_{name}", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_and_shared_fields():
    settings = MonitoringSettings()
    assert settings.slo_latency_ms == 50.0
    assert settings.dashboard_sample_size == 20_000
    assert settings.model_name == "readcrumbs"
    assert settings.resolved_events_url.startswith("sqlite:///")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("READCRUMBS_SLO_LATENCY_MS", "120")
    monkeypatch.setenv("READCRUMBS_DASHBOARD_SAMPLE_SIZE", "5000")
    settings = get_settings()
    assert (settings.slo_latency_ms, settings.dashboard_sample_size) == (120.0, 5000)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("READCRUMBS_SLO_LATENCY_MS", "0"),
        ("READCRUMBS_DASHBOARD_REFRESH_S", "1"),
        ("READCRUMBS_DASHBOARD_SAMPLE_SIZE", "10"),
        ("READCRUMBS_EVENTS_URL", "postgres://nope"),
    ],
)
def test_bad_values_are_refused_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        MonitoringSettings()
