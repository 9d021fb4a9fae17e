"""What every ``experiments`` command line shares: settings that fail as one clear line."""

from __future__ import annotations

from pydantic import ValidationError

from readcrumbs.errors import ConfigError
from readcrumbs.settings import Settings, get_settings


def load_settings(settings: Settings | None = None) -> Settings:
    """``settings``, or the process's own; a bad ``READCRUMBS_*`` variable is a :class:`ConfigError`."""
    if settings is not None:
        return settings
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
