"""Settings shared by every ReadCrumbs process.

Every variable is prefixed ``READCRUMBS_`` and documented in ``.env.example``. Each process
builds its settings once through a cached ``get_settings()`` and passes them down; nothing is
read at import time. Services that need more fields subclass :class:`Settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OFFICIAL_RELEASE_URL = "https://github.com/zygmuntz/goodbooks-10k/releases/download/v1.0/goodbooks-10k.zip"

REGISTRY_SCHEMES = ("file://", "s3://")
EVENTS_SCHEMES = ("sqlite:///", "dynamodb://", "memory://")


class Settings(BaseSettings):
    """Where state lives and where data comes from; refuses bad values at start-up."""

    model_config = SettingsConfigDict(env_prefix="READCRUMBS_", env_file=".env", extra="ignore", frozen=True)

    home: Path = Field(Path("var"), description="Folder for all local state.")
    data_source: str = Field(
        OFFICIAL_RELEASE_URL,
        description="Folder in the official goodbooks-10k layout, or the URL of its release zip.",
    )
    registry_url: str | None = Field(
        None, description="file://<folder> or s3://<bucket>/<prefix>; default $HOME/registry."
    )
    events_url: str | None = Field(
        None, description="sqlite:///<file> or dynamodb://<table-prefix>; default $HOME/readcrumbs.db."
    )
    model_name: str = Field("readcrumbs", description="Name of the model in the registry.")
    like_threshold: int = Field(4, ge=1, le=5, description="A rating at or above this is a like.")
    train_threshold: int = Field(
        3, ge=1, le=5, description="Models train on ratings at or above this (at most like_threshold)."
    )
    seed: int = Field(42, description="Seed of every random split.")

    @field_validator("registry_url")
    @classmethod
    def _check_registry_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(REGISTRY_SCHEMES):
            raise ValueError(
                f"READCRUMBS_REGISTRY_URL must start with one of {REGISTRY_SCHEMES}, got {url!r}"
            )
        return url

    @field_validator("events_url")
    @classmethod
    def _check_events_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(EVENTS_SCHEMES):
            raise ValueError(f"READCRUMBS_EVENTS_URL must start with one of {EVENTS_SCHEMES}, got {url!r}")
        return url

    @model_validator(mode="after")
    def _check_thresholds(self) -> Settings:
        if self.train_threshold > self.like_threshold:
            raise ValueError(
                f"READCRUMBS_TRAIN_THRESHOLD ({self.train_threshold}) must not exceed "
                f"READCRUMBS_LIKE_THRESHOLD ({self.like_threshold}): likes are training signal too"
            )
        return self

    @property
    def resolved_registry_url(self) -> str:
        """The registry URL, defaulting to a folder under ``home``."""
        return self.registry_url or f"file://{(self.home / 'registry').resolve()}"

    @property
    def resolved_events_url(self) -> str:
        """The event-store URL, defaulting to a SQLite file under ``home``."""
        return self.events_url or f"sqlite:///{(self.home / 'readcrumbs.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment (and ``.env``) once."""
    return Settings()
