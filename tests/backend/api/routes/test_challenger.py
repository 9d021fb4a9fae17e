"""Champion and challenger over HTTP: /predict's arm, the logged records, /ready, reload and poll."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from backend.arms import reader_draw
from backend.main import create_app
from readcrumbs.registry import CHALLENGER
from tests.backend.api.routes.test_admin import AUTH
from tests.backend.conftest import make_settings
from tests.backend.tiny import MODEL_NAME, predict_payload


def _ask(client, userids):
    return {
        userid: client.post("/predict", json=predict_payload("Emma", userid=userid)).json()
        for userid in userids
    }


def test_split_answers_the_share_with_the_challenger_and_logs_each_arm(tmp_path, registry, store):
    registry.set_alias(MODEL_NAME, CHALLENGER, 2)
    settings = make_settings(tmp_path / "home", challenger_share=0.5)
    userids = [f"reader-{n}" for n in range(40)]
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        answers = _ask(client, userids)
        again = _ask(client, userids)
    for userid, answer in answers.items():
        expected = "challenger" if reader_draw(userid) < 0.5 else "production"
        assert answer["arm"] == again[userid]["arm"] == expected
        assert answer["model_version"] == ("2" if expected == "challenger" else "1")
    records = {record.request_id: record for record in store.predictions()}
    assert len(records) == 80
    for answer in [*answers.values(), *again.values()]:
        record = records[answer["request_id"]]
        assert (record.arm, record.model_version) == (answer["arm"], answer["model_version"])
        assert record.shadow_version is None and record.shadow_prediction_ids == []


def test_shadow_shows_production_and_logs_what_the_challenger_would_have_shown(tmp_path, registry, store):
    registry.set_alias(MODEL_NAME, CHALLENGER, 2)
    settings = make_settings(tmp_path / "home", challenger_mode="shadow", challenger_share=1.0)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        answer = client.post("/predict", json=predict_payload("Emma", "1984", userid="u1")).json()
    assert (answer["arm"], answer["model_version"]) == ("production", "1")
    (record,) = store.predictions()
    assert (record.arm, record.model_version, record.shadow_version) == ("shadow", "1", "2")
    assert record.prediction_ids == [book["book_id"] for book in answer["books"]]
    assert record.shadow_prediction_ids and len(record.shadow_scores) == len(record.shadow_prediction_ids)
    assert not {2, 10} & set(record.shadow_prediction_ids)  # favourites are never recommended back


def test_ready_shows_the_challenger_beside_production(tmp_path, registry, store):
    settings = make_settings(tmp_path / "home", challenger_share=0.1)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        assert client.get("/ready").json()["challenger"] is None
        registry.set_alias(MODEL_NAME, CHALLENGER, 2)
        reload = client.post("/admin/reload", headers=AUTH).json()
        assert (reload["challenger_outcome"], reload["challenger_version"]) == ("loaded", "2")
        ready = client.get("/ready").json()
        assert ready["model"]["version"] == "1"
        assert ready["challenger"]["model"]["version"] == "2"
        assert (ready["challenger"]["mode"], ready["challenger"]["share"]) == ("split", 0.1)
        registry.clear_alias(MODEL_NAME, CHALLENGER)
        assert client.post("/admin/reload", headers=AUTH).json()["challenger_outcome"] == "cleared"
        assert client.get("/ready").json()["challenger"] is None


def test_the_poll_picks_up_a_new_challenger_and_its_clearing(tmp_path, registry, store):
    settings = make_settings(tmp_path / "home", model_poll_s=1.0, challenger_share=1.0)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        registry.set_alias(MODEL_NAME, CHALLENGER, 2)
        _wait_for(client, lambda ready: ready["challenger"] is not None)
        assert client.post("/predict", json=predict_payload("Emma")).json()["arm"] == "challenger"
        registry.clear_alias(MODEL_NAME, CHALLENGER)
        _wait_for(client, lambda ready: ready["challenger"] is None)
        assert client.post("/predict", json=predict_payload("Emma")).json()["arm"] == "production"


def _wait_for(client, condition):
    deadline = time.monotonic() + 5
    while not condition(client.get("/ready").json()):
        assert time.monotonic() < deadline, "the poll did not pick up the alias change"
        time.sleep(0.05)
