"""Schema-driven fuzzing: schemathesis reads the live server's /openapi.json and sends every
operation bounded, reproducible batches of valid (positive) and invalid (negative) requests.

Every answer must be no 5xx, have a documented status code, content type, headers and body
schema, and (negative mode) every invalid request must be refused with a 4xx. The server is a
real uvicorn on 127.0.0.1 with the tiny model loaded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.main import create_app
from readcrumbs.events.memory import MemoryEventStore
from tests.backend.conftest import make_settings
from tests.backend.live import serve_in_thread

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402

EXAMPLES_PER_OPERATION = 40
CONFORMANCE = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    GenerationMode.NEGATIVE: [*CONFORMANCE, st_checks.negative_data_rejection],
}


@pytest.fixture(scope="module")
def live_url(tmp_path_factory, registry_template) -> Iterator[str]:
    home = tmp_path_factory.mktemp("fuzz-home")
    from readcrumbs.blobs.local import FolderBlobStore
    from readcrumbs.registry import Registry

    registry = Registry(FolderBlobStore(registry_template))  # read-only use: no alias moves here
    settings = make_settings(home, rate_limit_per_min=0)
    with serve_in_thread(create_app(settings, registry=registry, event_store=MemoryEventStore())) as url:
        yield url


def fuzz(operation, mode: GenerationMode, url: str, failures: list[str]) -> int:
    """Send one operation its bounded batch of cases; note each failed check; the number sent."""
    sent = 0

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,  # the same cases on every run: a failure reproduces
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case) -> None:
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(base_url=url, checks=CHECKS[mode], timeout=10)
        except (AssertionError, BaseExceptionGroup) as failure:  # one failed check, or several
            failures.append(f"{operation.label}: {str(failure)[:500]}")

    try:
        send()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to break in an operation without input
    return sent


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_operation_answers_a_5xx_or_breaks_its_schema(live_url, mode):
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    failures: list[str] = []
    sent = sum(fuzz(result.ok(), mode, live_url, failures) for result in schema.get_all_operations())
    assert sent >= 100
    assert not failures, "\n".join(failures[:10])
