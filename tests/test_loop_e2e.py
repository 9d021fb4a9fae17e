"""The whole loop on small data, over real HTTP and a real SQLite event store.

serve (v1 production) -> simulated readers -> retrain with their feedback (v2 challenger) -> the
backend's poll serves v2 to its share of readers -> more simulated readers -> online comparison
-> promote --online -> the poll serves v2 as production -> new predictions carry v2. Every
prediction answered and every vote accepted on the way is in the event store, with the arm and
version the reader was shown.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from backend.arms import reader_draw
from backend.main import create_app
from experiments import pipeline, registry_cli, retrain
from experiments.ground_truth import Visit
from experiments.promotion import OnlineGate, online_comparison
from experiments.retrain import RetrainSettings
from experiments.simulate import Plan, load_readers, run_simulation
from readcrumbs.events.records import to_iso
from readcrumbs.events.sqlite import SqliteEventStore
from readcrumbs.registry import CHALLENGER, PRODUCTION, open_registry
from tests.backend.conftest import make_settings
from tests.backend.live import serve_in_thread
from tests.tiny_goodbooks import write_tiny_goodbooks

SHARE = 0.5
PLAN = Plan(readers=10, favourites=3, more=3, return_share=0.7, k=25, seed=3)


def _simulate(url: str, settings: RetrainSettings, run: str) -> list[Visit]:
    readers, _ = load_readers(settings, PLAN, run=run)
    visits, counters = asyncio.run(
        run_simulation(url, readers, PLAN, rate=500, concurrency=4, return_after_s=0.05, progress=False)
    )
    assert counters.failed_predictions == 0 and counters.refused_votes == 0
    return visits


def _wait_for(url: str, condition) -> dict:
    deadline = time.monotonic() + 20
    while True:
        ready = httpx.get(f"{url}/ready").json()
        if condition(ready):
            return ready
        assert time.monotonic() < deadline, f"the alias poll did not get there: {ready}"
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_serve_simulate_retrain_challenge_compare_promote_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    write_tiny_goodbooks(tmp_path / "goodbooks")
    events_path = tmp_path / "events.db"
    settings = RetrainSettings(
        _env_file=None,  # type: ignore[call-arg]
        home=tmp_path / "home",
        data_source=str(tmp_path / "goodbooks"),
        registry_url=f"file://{tmp_path / 'registry'}",
        events_url=f"sqlite:///{events_path}",
    )
    registry = open_registry(settings)
    assert pipeline.main(["--models", "itemknn"], settings=settings) == 0
    assert registry.alias("readcrumbs", PRODUCTION) == 1
    backend = make_settings(
        tmp_path / "home",
        registry_url=settings.registry_url,
        events_url=settings.events_url,
        model_poll_s=1.0,
        challenger_share=SHARE,
    )
    with serve_in_thread(create_app(backend)) as url:
        before = _simulate(url, settings, run="before")
        assert {(v.model_version, v.arm) for v in before} == {("1", "production")}

        # Manifests date a version to the second and the experiment starts then: let that second
        # come after the first simulation's last answer.
        time.sleep(1.05)
        # Retrain with the readers' feedback; the new version becomes the challenger.
        assert retrain.main([], settings=settings) == 0
        assert "v2 is now challenger" in capsys.readouterr().out
        _wait_for(url, lambda ready: (ready["challenger"] or {}).get("model", {}).get("version") == "2")

        during = _simulate(url, settings, run="during")
        for visit in during:  # each reader on the arm their hashed userid picks, on every visit
            arm = "challenger" if reader_draw(visit.userid) < SHARE else "production"
            assert (visit.arm, visit.model_version) == (arm, "2" if arm == "challenger" else "1")
        assert {v.arm for v in during} == {"production", "challenger"}

        # The online comparison, then the promotion it allows; the poll serves v2 as production.
        store = SqliteEventStore(events_path)
        try:
            since = to_iso(datetime.fromisoformat(registry.manifest("readcrumbs", 2).created_at))
            comparison = online_comparison(OnlineGate(store, min_readers=1), 1, 2, since)
        finally:
            store.close()
        # The experiment starts when v2 was registered: exactly the second simulation's readers.
        readers = {arm: {v.userid for v in during if v.arm == arm} for arm in ("production", "challenger")}
        assert comparison.challenger_readers == len(readers["challenger"])
        assert comparison.production_readers == len(readers["production"])
        # Ten readers give wide intervals: a loose --max-drop lets the tiny run through, while the
        # offline gate (production re-evaluated on v2's feedback-merged split) applies in full.
        code = registry_cli.main(
            ["promote", "2", "--online", "--min-readers", "1", "--max-drop", "100"], settings=settings
        )
        assert code == 0, capsys.readouterr().err
        assert "now production" in capsys.readouterr().out
        assert (
            registry.alias("readcrumbs", PRODUCTION) == 2 and registry.alias("readcrumbs", CHALLENGER) is None
        )
        _wait_for(url, lambda ready: ready["model"]["version"] == "2" and ready["challenger"] is None)

        answer = httpx.post(f"{url}/predict", json={"items": [1, 2, 3], "userid": "after-promotion"}).json()
        assert (answer["model_version"], answer["arm"]) == ("2", "production")

    # Nothing lost: every answer and accepted vote is stored, with the version and arm shown.
    store = SqliteEventStore(events_path)
    try:
        stored = {record.request_id: record for record in store.predictions()}
        votes = {(vote.request_id, vote.book_id): vote.value for vote in store.feedback()}
    finally:
        store.close()
    visits = [*before, *during]
    assert len(stored) == len(visits) + 1
    for visit in visits:
        record = stored[visit.request_id]
        assert (record.model_version, record.arm) == (visit.model_version, visit.arm)
        assert tuple(record.prediction_ids) == visit.shown
        for book, value in visit.votes:
            assert votes[(visit.request_id, book)] == value
    assert len(votes) == sum(len(v.votes) for v in visits)
    assert (stored[answer["request_id"]].model_version, stored[answer["request_id"]].arm) == (
        "2",
        "production",
    )
