"""Settings of the operators' dashboard: the shared ones plus what only the dashboard needs.

Variables are prefixed ``READCRUMBS_`` and documented in ``.env.example``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from readcrumbs.settings import Settings


class MonitoringSettings(Settings):
    """Where the event store and registry live (shared) and how the dashboard reads them."""

    slo_latency_ms: float = Field(
        50.0, gt=0, le=60_000, description="Latency objective of /predict in ms: the default SLO line."
    )
    dashboard_refresh_s: int = Field(
        30, ge=5, le=3600, description="Seconds between automatic refreshes when auto-refresh is on."
    )
    dashboard_cache_ttl_s: int = Field(
        30, ge=1, le=3600, description="Seconds a loaded time window is reused before it is read again."
    )
    dashboard_sample_size: int = Field(
        20_000,
        ge=100,
        le=1_000_000,
        description="List-based metrics (quality, Recall@K, coverage, drift) use this many most recent "
        "predictions of the window.",
    )


@lru_cache
def get_settings() -> MonitoringSettings:
    """The dashboard's settings, read from the environment (and ``.env``) once per process."""
    return MonitoringSettings()
