"""The dashboard's quality figures equal the simulator's ground truth, on SQLite and DynamoDB.

Two real models are trained on a tiny goodbooks-10k (the real pipeline); the better one is
production, the other the challenger, served to half the readers by a real uvicorn backend
logging to SQLite or to DynamoDB (moto's server on 127.0.0.1), and the simulated
readers (:mod:`experiments.simulate`) use it over HTTP. Their ground truth comes only from what
they sent and received; the dashboard's figures (:func:`monitoring.report.build_report`) and the
arm comparison's (:func:`readcrumbs.online.arm_outcomes`) come only from the event store. They
must agree to rounding: a record lost, a vote tied to the wrong book or a definition that drifts
apart shows here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.main import create_app
from experiments import pipeline
from experiments.ground_truth import ALL, TruthRow, Visit, ground_truth
from experiments.simulate import Plan, load_readers, run_simulation
from monitoring.loading import load_window
from monitoring.models import load_registry_view
from monitoring.report import ReportOptions, build_report
from monitoring.windows import Window
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.events import open_event_store
from readcrumbs.online import CHALLENGER, arm_outcomes
from readcrumbs.registry import PRODUCTION, Registry
from readcrumbs.settings import Settings
from tests.backend.conftest import make_settings
from tests.backend.live import serve_in_thread
from tests.test_aws_e2e import free_port, stop, wait_for
from tests.tiny_goodbooks import write_tiny_goodbooks

K = 25  # most of the tiny catalogue's 40 books, so the other taste group's (disliked) books show up
PLAN = Plan(readers=10, favourites=3, more=3, return_share=0.7, k=K, seed=3)


@dataclass(frozen=True)
class Simulated:
    visits: list[Visit]
    events_url: str
    registry_url: str


@pytest.fixture
def dynamodb_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Fresh DynamoDB tables on moto's server (127.0.0.1), and boto3 pointed at it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/moto-api/", server, timeout_s=30)
        for name, value in {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        from readcrumbs.events.dynamodb import DynamoEventStore

        store = DynamoEventStore("rc-sim")
        store.create_tables()
        store.close()
        yield "dynamodb://rc-sim"
    finally:
        stop(server)


@pytest.fixture(params=["sqlite", "dynamodb"])
def events_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    url: str = request.getfixturevalue("dynamodb_url")
    return url


@pytest.fixture
def simulated(tmp_path: Path, events_url: str, monkeypatch: pytest.MonkeyPatch) -> Simulated:
    """Train and promote on tiny data, serve it, run the simulated readers; the backend is stopped
    (so every queued record is written) before the test reads the store."""
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_SILENT", "true")
    write_tiny_goodbooks(tmp_path / "goodbooks")
    registry_url = f"file://{tmp_path / 'registry'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        home=tmp_path / "home",
        data_source=str(tmp_path / "goodbooks"),
        registry_url=registry_url,
        events_url=events_url,
    )
    assert pipeline.main(["--models", "ease,popularity"], settings=settings) == 0
    registry = Registry(FolderBlobStore(tmp_path / "registry"))
    production = registry.alias("readcrumbs", PRODUCTION)
    registry.set_alias(
        "readcrumbs", CHALLENGER, next(v for v in registry.versions("readcrumbs") if v != production)
    )
    readers, _ = load_readers(settings, PLAN, run="test")
    assert len(readers) == PLAN.readers
    backend = make_settings(
        tmp_path / "home", registry_url=registry_url, events_url=events_url, challenger_share=0.5
    )
    with serve_in_thread(create_app(backend)) as url:
        visits, counters = asyncio.run(
            run_simulation(url, readers, PLAN, rate=500, concurrency=4, return_after_s=0.05, progress=False)
        )
    assert counters.failed_predictions == 0 and counters.refused_votes == 0
    return Simulated(visits, events_url, registry_url)


def assert_same(truth: TruthRow, like: float, dislike: float, hit: float, mrr: float) -> None:
    assert like == pytest.approx(truth.like_rate, abs=1e-12)
    assert dislike == pytest.approx(truth.dislike_rate, abs=1e-12)
    assert hit == pytest.approx(truth.hit_rate, abs=1e-12)
    assert mrr == pytest.approx(truth.mrr, abs=1e-12)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_dashboard_reads_the_simulators_ground_truth(simulated: Simulated) -> None:
    truth = {(row.model_version, row.arm): row for row in ground_truth(simulated.visits, K)}
    total = truth[(ALL, ALL)]
    # The run exercised every figure: likes, dislikes, returns, later favourites, hits.
    assert total.likes > 0 and total.dislikes > 0 and total.favourites_hit > 0
    assert total.rated_requests > 0 and total.favourites_added > total.favourites_hit

    store = open_event_store(simulated.events_url)
    try:
        data = load_window(store, Window(None, None), sample_size=10_000)
        registry = load_registry_view(simulated.registry_url, "readcrumbs")
        report = build_report(data, registry, ReportOptions(recall_k=K))
        arms = arm_outcomes(store.predictions(), store.feedback(), K)
    finally:
        store.close()

    assert report.requests == total.requests == len(simulated.visits)
    quality = report.feedback_quality
    assert (quality.rated_requests, quality.likes, quality.dislikes) == (
        total.rated_requests,
        total.likes,
        total.dislikes,
    )
    assert_same(total, quality.like_rate, quality.dislike_rate, quality.hit_rate, quality.mrr)
    recall = report.favourite_recall
    assert (recall.added, recall.hits) == (total.favourites_added, total.favourites_hit)
    assert recall.recall == pytest.approx(total.recall, abs=1e-12)

    # Per model version (the versions table) and per arm (the arm comparison): both arms served.
    served = [key for key in truth if key != (ALL, ALL)]
    assert {arm for _, arm in served} == {PRODUCTION, CHALLENGER}
    for version, arm in served:
        row = report.versions.loc[report.versions["model_version"] == version].iloc[0]
        expected = truth[(version, arm)]
        assert_same(expected, row["like_rate"], row["dislike_rate"], row["hit_rate"], row["mrr"])
        assert row[f"recall@{K}"] == pytest.approx(expected.recall, abs=1e-12)
        outcome = arms[arm]
        assert outcome.rated_requests == expected.rated_requests
        assert outcome.readers == len(expected.readers)
        assert_same(expected, outcome.like_rate, outcome.dislike_rate, outcome.hit_rate, outcome.mrr)
        assert outcome.favourite_recall == pytest.approx(expected.recall, abs=1e-12)
