"""Settings of the backend process: the shared ones plus serving, logging and event-writer knobs.

Every variable is prefixed ``READCRUMBS_`` and documented, with its default, in ``.env.example``.
Bad values stop the process at start-up with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from backend.connections import ConnectionLimits
from readcrumbs.catalogue import DEFAULT_FUZZY_THRESHOLD
from readcrumbs.settings import Settings

MIN_ADMIN_TOKEN_CHARS = 16
# 50 requests a second per client, sustained: far above what a reader clicks, well below a flood.
DEFAULT_RATE_LIMIT_PER_MIN = 3_000


class BackendSettings(Settings):
    """What the API server needs on top of :class:`~readcrumbs.settings.Settings`."""

    # A refused value is not echoed in the error: a mistyped admin token is still a secret.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of POST /admin/reload (16+ characters); unset disables the route.",
    )
    model_poll_s: float = Field(
        0.0,
        ge=0.0,
        le=86_400.0,
        description="Seconds between checks of the production and challenger aliases; 0 = off.",
    )
    challenger_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share (0..1) of readers, by a stable hash of userid, shown the challenger's list.",
    )
    challenger_mode: Literal["split", "shadow"] = Field(
        "split",
        description="split: the challenger answers its share of readers; shadow: both score every "
        "request, production's list is shown and the challenger's logged.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated origins allowed to call the API from a browser."
    )
    title_match_threshold: float = Field(
        DEFAULT_FUZZY_THRESHOLD, ge=50.0, le=100.0, description="Minimum fuzzy score (0..100) of a title."
    )
    event_queue_size: int = Field(
        10_000, ge=1, le=1_000_000, description="Records held in memory before spooling to disk."
    )
    # 100 rather than 500: shorter write transactions beside the event loop; /predict's p99 at 16
    # connections fell from 32-34 ms to 21-22 ms (EASE, wrk, two runs each), throughput unchanged.
    event_batch_size: int = Field(100, ge=1, le=25_000, description="Most records written at once.")
    event_flush_s: float = Field(
        0.5, gt=0.0, le=1.0, description="Longest wait (seconds) before queued records are written."
    )
    event_retry_after_s: int = Field(
        5,
        ge=1,
        le=3_600,
        description="Retry-After (seconds) of the 503 answered when no record can be logged "
        "(store, spool and memory all failing).",
    )
    event_durable: bool = Field(
        False,
        description="Append and fsync each record to the local spool before answering: a SIGKILL "
        "loses nothing, at one fsync per request.",
    )
    rate_limit_per_min: int = Field(
        DEFAULT_RATE_LIMIT_PER_MIN,
        ge=0,
        le=1_000_000,
        description="Requests one client IP may make per minute (token bucket); 0 = no limit.",
    )
    rate_limit_exempt: Annotated[tuple[str, ...], NoDecode] = Field(
        ("127.0.0.1", "::1"),
        description="Comma-separated client IPs never rate-limited (the readers' app on this machine).",
    )
    workers: int = Field(1, ge=1, le=64, description="Server processes (python -m backend --workers).")
    header_timeout_s: float = Field(
        10.0,
        gt=0.0,
        le=300.0,
        description="Seconds a client may take to send a request's headers (then 408).",
    )
    body_timeout_s: float = Field(
        10.0,
        gt=0.0,
        le=300.0,
        description="Seconds a client may take to send a request's body (then closed).",
    )
    keep_alive_s: int = Field(
        5, ge=1, le=300, description="Seconds an idle keep-alive connection stays open."
    )
    max_connections: int = Field(
        2_000,
        ge=1,
        le=1_000_000,
        description="Open connections per server process; beyond, 503 and closed at once (kept under the "
        "open-file limit).",
    )
    max_connections_per_client: int = Field(
        256, ge=1, le=1_000_000, description="Open connections from one client IP per server process."
    )
    cpu_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Threads that resolve /predict titles off the event loop (fuzzy matching, suggestions).",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    access_log: bool = Field(False, description="Log one JSON line per request.")

    @field_validator("admin_token")
    @classmethod
    def _check_admin_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None or not token.get_secret_value():
            return None
        if len(token.get_secret_value()) < MIN_ADMIN_TOKEN_CHARS:
            raise ValueError(
                f"READCRUMBS_ADMIN_TOKEN must have at least {MIN_ADMIN_TOKEN_CHARS} characters; "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return token

    @field_validator("model_poll_s")
    @classmethod
    def _check_model_poll_s(cls, seconds: float) -> float:
        if 0.0 < seconds < 1.0:
            raise ValueError(f"READCRUMBS_MODEL_POLL_S must be 0 (off) or at least 1 second, got {seconds}")
        return seconds

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_cors_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return value

    @field_validator("rate_limit_exempt", mode="before")
    @classmethod
    def _split_rate_limit_exempt(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(address.strip() for address in value.split(",") if address.strip())
        return value

    @field_validator("rate_limit_exempt")
    @classmethod
    def _check_rate_limit_exempt(cls, addresses: tuple[str, ...]) -> tuple[str, ...]:
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(
                    f"READCRUMBS_RATE_LIMIT_EXEMPT entries must be IP addresses, got {address!r}"
                ) from None
        return addresses

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(
                    f"READCRUMBS_CORS_ORIGINS entries must be http(s)://host[:port] or *, got {origin!r}"
                )
        return origins

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, level: str) -> str:
        level = level.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"READCRUMBS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        return level

    @property
    def log_level_number(self) -> int:
        """The ``logging`` level of :attr:`log_level`."""
        return logging.getLevelNamesMapping()[self.log_level]

    @property
    def connection_limits(self) -> ConnectionLimits:
        """The per-process connection limits of :mod:`backend.connections`."""
        return ConnectionLimits(
            header_timeout_s=self.header_timeout_s,
            body_timeout_s=self.body_timeout_s,
            max_connections=self.max_connections,
            max_connections_per_client=self.max_connections_per_client,
        )

    @property
    def spool_dir(self) -> Path:
        """Where records wait on disk while the event store is unavailable."""
        return self.home / "spool"

    @property
    def model_cache_dir(self) -> Path:
        """Where a copy of the last production version that loaded waits for a registry outage."""
        return self.home / "cache"


@lru_cache
def get_settings() -> BackendSettings:
    """The backend's settings, read from the environment (and ``.env``) once per process."""
    return BackendSettings()
