"""backend.connections: the limits fit the open-file limit (the sockets themselves: tests/reliability)."""

from __future__ import annotations

import resource

from backend.connections import RESERVED_FDS, ConnectionLimits, effective_limits, raise_file_limit


def test_limits_that_fit_are_kept():
    limits = ConnectionLimits(max_connections=100, max_connections_per_client=10)
    assert effective_limits(limits, 1024) == limits


def test_a_cap_over_the_file_limit_is_lowered_under_it(caplog):
    limits = ConnectionLimits(max_connections=5_000, max_connections_per_client=4_000)
    fitted = effective_limits(limits, 1024)
    assert fitted.max_connections == 1024 - RESERVED_FDS
    assert fitted.max_connections_per_client == 1024 - RESERVED_FDS
    assert "does not fit the open-file limit" in caplog.text


def test_the_soft_file_limit_is_raised_to_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if hard != resource.RLIM_INFINITY and hard > 64:
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
            assert raise_file_limit() == hard
            assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
