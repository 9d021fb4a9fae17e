"""Settings of the readers' app.

The app needs none of the shared settings (it reaches state only through the backend's HTTP API),
so it has its own small class. Variables are prefixed ``READCRUMBS_`` and documented in
``.env.example``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class FrontendSettings(BaseSettings):
    """Where the backend lives and how long to wait for it; refuses bad values at start-up."""

    model_config = SettingsConfigDict(env_prefix="READCRUMBS_", env_file=".env", extra="ignore", frozen=True)

    api_url: str = Field("http://localhost:8000", description="Base URL of the backend's HTTP API.")
    request_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Seconds to wait for a backend answer before giving up."
    )
    search_limit: int = Field(8, ge=1, le=50, description="Books shown per catalogue search.")

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"READCRUMBS_API_URL must start with http:// or https://, got {url!r}")
        # One spelling, so joining paths never yields a double slash.
        return url.rstrip("/")


@lru_cache
def get_settings() -> FrontendSettings:
    """The app's settings, read from the environment (and ``.env``) once per process."""
    return FrontendSettings()
