"""bench/api.py: both bare endpoints take /predict's request and answer in its shape, the bare +
scoring one recommends exactly what /predict does with the same model version (and nothing else:
no record, no metrics), and what /predict returns is what was evaluated (fav3 Recall@10 through
the API equals the offline figure in the manifest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import bench.http_client as http_client
from backend.main import create_app
from backend.schemas import PredictResponse
from bench.api import answered_book_ids, fav3_recall_through_api, main, report, unlogged, worker_pids
from bench.baselines import bare_scoring_app, canned_app, canned_direct_app, title_index
from bench.http_client import HOST, WrkTally
from bench.models import ModelSource, production_version
from bench.servers import free_port, running, server_env, use_ports, wait_for
from experiments.evaluate import evaluate as evaluate_offline
from experiments.evaluate import heldout_evaluation_set
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.dataset import Dataset, save_dataset
from readcrumbs.model_bundle import ModelBundle, bundle_files, load_bundle
from readcrumbs.recommenders import create_model
from readcrumbs.registry import Registry
from tests.backend.conftest import make_settings
from tests.backend.tiny import MODEL_NAME, predict_payload, register_version, tiny_catalogue, tiny_likes

SEED = 7


def tiny_dataset() -> Dataset:
    """The tiny likes as a dataset whose 15 most active readers are held out."""
    likes = tiny_likes(n_users=120, seed=3)
    catalogue = tiny_catalogue()
    users, books = likes.nonzero()
    interactions = pd.DataFrame(
        {"user_id": users.astype(np.int64) + 1, "book_id": catalogue["book_id"].to_numpy()[books]}
    )
    per_user = interactions.groupby("user_id").size().sort_values(ascending=False, kind="stable")
    heldout = np.sort(per_user.index[:15].to_numpy(dtype=np.int64))
    return Dataset("tiny-bench", interactions, catalogue, heldout)


@pytest.mark.parametrize("model_type", ["itemknn", "ease"])
def test_fav3_recall_through_the_api_equals_the_offline_figure(tmp_path, model_type):
    store = FolderBlobStore(tmp_path / "registry")
    dataset = tiny_dataset()
    save_dataset(store, dataset)
    model = create_model(model_type, {"neighbours": 5} if model_type == "itemknn" else {"l2": 10.0})
    model.fit(dataset.likes_matrix(dataset.training_users()))
    offline = evaluate_offline(model, heldout_evaluation_set(dataset, SEED))
    registry = Registry(store)
    manifest = registry.register(
        MODEL_NAME,
        model_type,
        bundle_files(model, dataset.catalogue),
        params=model.params,
        metrics=offline,
        data_version=dataset.version,
    )
    registry.promote(MODEL_NAME, manifest.version, force=True)
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:
        figures = fav3_recall_through_api(client, store, MODEL_NAME, SEED)
    assert figures is not None
    assert figures["readers"] >= 10
    assert figures["api_recall@10"] == pytest.approx(offline["fav3"]["recall@10"], abs=1e-12)
    assert figures["offline_recall@10"] == offline["fav3"]["recall@10"]


def test_no_recall_without_an_offline_figure(tmp_path):
    registry = Registry(FolderBlobStore(tmp_path / "registry"))
    register_version(registry, neighbours=5, promote=True)  # no dataset stored for it
    settings = make_settings(tmp_path / "home", events_url="memory://")
    with TestClient(create_app(settings, registry=registry)) as client:
        assert fav3_recall_through_api(client, registry.store, MODEL_NAME, SEED) is None


def promoted_registry(folder: Path) -> tuple[Registry, int]:
    registry = Registry(FolderBlobStore(folder))
    return registry, register_version(registry, neighbours=5, promote=True)


def bundle_of(registry: Registry, version: int) -> ModelBundle:
    return load_bundle(registry, MODEL_NAME, version)


@pytest.mark.parametrize("app", [canned_app, canned_direct_app])
def test_the_canned_endpoints_have_the_real_request_and_answer_shapes(app):
    with TestClient(app()) as client:
        answer = client.post("/predict", json={"items": ["Emma"], "userid": "u"})
        assert answer.status_code == 200
        assert PredictResponse.model_validate(answer.json()).recs
        refused = client.post("/predict", json={"items": ["Emma"], "userid": ""})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][0] == "body"
        assert client.get("/ready").status_code == 200


def test_both_canned_endpoints_answer_the_same_bytes():
    body = {"items": ["Emma", 7], "userid": "u", "k": 3}
    with TestClient(canned_app()) as plain, TestClient(canned_direct_app()) as direct:
        assert plain.post("/predict", json=body).content == direct.post("/predict", json=body).content


def test_a_shared_title_names_its_most_popular_book_as_the_catalogue_does():
    index = title_index(tiny_catalogue())
    assert index["Rebecca"] == 6  # 20 likes against book 7's 2
    assert index["The Hobbit"] == 1
    assert len(index) == len(set(tiny_catalogue()["title"]))


@pytest.mark.parametrize(
    "items",
    [
        ["The Hobbit", "Rebecca", "Emma"],
        ["Pride and Prejudice", 12],
        ["Dune (Dune Chronicles, #1)", "a title in no catalogue"],
    ],
)
def test_bare_scoring_recommends_what_predict_does(tmp_path, items):
    registry, version = promoted_registry(tmp_path / "registry")
    settings = make_settings(tmp_path / "home", model_name=MODEL_NAME, events_url="memory://")
    body = predict_payload(*items, k=5)
    with TestClient(create_app(settings, registry=registry)) as real:
        expected = real.post("/predict", json=body)
    with TestClient(bare_scoring_app(bundle_of(registry, version))) as bare:
        answer = bare.post("/predict", json=body)
    assert expected.status_code == answer.status_code == 200
    got, wanted = PredictResponse.model_validate(answer.json()), expected.json()
    assert [book.model_dump() for book in got.books] == wanted["books"]
    assert got.recs == wanted["recs"]
    assert got.model_version == wanted["model_version"] == str(version)
    assert [match.book_id for match in got.resolved] == [match["book_id"] for match in wanted["resolved"]]
    assert got.unknown == wanted["unknown"]
    assert got.request_id and got.request_id != wanted["request_id"]


def test_bare_scoring_rejects_what_matches_nothing_and_bad_bodies(tmp_path):
    registry, version = promoted_registry(tmp_path / "registry")
    with TestClient(bare_scoring_app(bundle_of(registry, version))) as client:
        assert client.post("/predict", json=predict_payload("the hobbit", 999)).status_code == 400
        assert client.post("/predict", json=predict_payload("Emma", userid="")).status_code == 422
        assert client.post("/predict", json=predict_payload("Emma", k=0)).status_code == 422
        assert client.get("/metrics").status_code == 404  # no Prometheus layer
        assert client.get("/ready").status_code == 200


def test_production_version_is_the_alias_or_an_error(tmp_path):
    _, version = promoted_registry(tmp_path / "registry")
    source = ModelSource(f"file://{tmp_path / 'registry'}", MODEL_NAME, synthetic=False)
    assert production_version(source) == version
    empty = ModelSource(f"file://{tmp_path / 'empty'}", MODEL_NAME, synthetic=False)
    with pytest.raises(RuntimeError, match="no production version"):
        production_version(empty)


def test_serving_bare_scoring_needs_a_model_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--serve-bare-scoring", "--port", "1"])
    assert exited.value.code == 2
    assert "--model-version" in capsys.readouterr().err


@pytest.mark.slow
def test_the_bare_scoring_server_loads_the_version_it_is_given(tmp_path):
    """The subprocess the bench starts: settings from the backend's environment, the given version."""
    registry, first = promoted_registry(tmp_path / "registry")
    second = register_version(registry, neighbours=2)  # registered, not promoted
    source = ModelSource(f"file://{tmp_path / 'registry'}", MODEL_NAME, synthetic=False)
    env = {**server_env(tmp_path, source), "WANDB_MODE": "disabled"}
    assert env["READCRUMBS_REGISTRY_URL"] == source.registry_url and first != second
    body = predict_payload("The Hobbit", "1984", userid="u", k=5)
    with TestClient(bare_scoring_app(bundle_of(registry, second))) as client:
        wanted = [book["book_id"] for book in client.post("/predict", json=body).json()["books"]]
    port = free_port()
    command = [sys.executable, "-m", "bench.api", "--serve-bare-scoring", "--model-version", str(second)]
    with running([*command, "--port", str(port)], env) as process:
        wait_for(f"http://{HOST}:{port}/ready", process, timeout_s=60)
        assert answered_book_ids(port, [json.dumps(body).encode()]) == [wanted]
    assert process.returncode is not None  # stopped on leaving ``running``


def test_interleaved_load_takes_the_servers_in_turn_for_equal_time(monkeypatch):
    slices: list[tuple[int, float]] = []

    async def fake_drive(port, bodies, seconds, concurrency, tally):
        slices.append((port, seconds))
        tally.statuses += [200] * port + [500]
        tally.latencies += [0.001 * port] * (port + 1)
        tally.seconds += seconds

    monkeypatch.setattr(http_client, "_drive", fake_drive)
    loads = http_client.drive_interleaved({"a": 1, "b": 2, "c": 3}, [b"{}"], 6.0, 4, rounds=3)
    assert [port for port, _ in slices] == [1, 2, 3, 2, 3, 1, 3, 1, 2]
    assert all(seconds == pytest.approx(2.0) for _, seconds in slices)
    assert loads["b"].requests == 3 * 3 and loads["b"].errors == 3
    assert loads["c"].seconds == pytest.approx(6.0)
    assert loads["c"].throughput_rps == pytest.approx(12 / 6.0)
    assert loads["a"].p50_ms == pytest.approx(1.0)


# One endpoint's figures as run() reports them.
ENDPOINT_ROW = {
    "requests": 10,
    "errors": 0,
    "seconds": 1.0,
    "throughput_rps": 10.0,
    "p50_ms": 1.0,
    "p99_ms": 2.0,
    "loop_cpu_us": 400.0,
    "cpu_us": 450.0,
}


def test_report_names_every_figure():
    row = dict(ENDPOINT_ROW)
    results = {
        "model": {"registry_url": "file:///r", "model_name": "readcrumbs", "synthetic": True, "version": 3},
        "concurrency": 8,
        "rounds": 5,
        "in_process": {
            "load_s": 0.1,
            "n_books": 10.0,
            "scoring_p50_ms": 0.5,
            "scoring_p99_ms": 0.9,
            "predict_p50_ms": 0.6,
            "predict_p99_ms": 1.0,
        },
        "predict": row,
        "bare_scoring": {**row, "throughput_rps": 12.5},
        "canned": {**row, "throughput_rps": 40.0, "loop_cpu_us": 140.0, "cpu_us": 141.0},
        "canned_direct": {**row, "throughput_rps": 50.0},
        "ratios": {
            "predict_to_bare_scoring": 0.8,
            "predict_to_canned": 0.25,
            "p99_predict_to_canned": 1.5,
            "predict_to_canned_direct": 0.2,
            "loop_cpu_canned_to_predict": 0.35,
        },
        "same_answers": {"checked": 20, "equal": 19},
        "cold_start_s": 1.5,
        "memory": {"rss_mib": 200.0, "peak_rss_mib": 210.0},
        "logged": {"answered": 10, "in_sqlite": 10},
        "recall_skipped": "synthetic model",
    }
    text = report(results)
    for phrase in (
        "v3",
        "5 slices each",
        "bare + scoring = 0.80   (diagnostic",
        "canned, direct = 0.20   (diagnostic",
        "canned         = 0.25   (target >= 0.50, goal 0.60",
        "p99 ratio        /predict : canned         = 1.50   (target <= 2.0)",
        "loop CPU/answer  canned : /predict         = 0.35   (diagnostic",
        "19 of 20",
        "scoring",
        "cold start",
        "RSS",
        "logged: 10 in SQLite of 10",
        "skipped (synthetic model)",
    ):
        assert phrase in text
    rows = [line.split() for line in text.splitlines()[4:8]]
    assert [row[0] for row in rows] == ["/predict", "bare", "canned", "canned,"]
    assert rows[0][-2:] == ["400", "450"] and rows[2][-2:] == ["140", "141"]  # CPU µs per answer


def test_unlogged_counts_answers_missing_from_the_store():
    assert unlogged({"logged": {"answered": 10, "in_sqlite": 10}}) == 0
    assert unlogged({"logged": {"answered": 10, "in_sqlite": 7}}) == 3
    both = {"logged": {"answered": 10, "in_sqlite": 10}, "logged_workers": {"answered": 20, "in_sqlite": 18}}
    assert unlogged(both) == 2


def test_the_report_puts_several_workers_beside_one():
    row = dict(ENDPOINT_ROW)
    results = {
        "model": {"registry_url": "file:///r", "model_name": "readcrumbs", "synthetic": True, "version": 3},
        "concurrency": 8,
        "rounds": 5,
        "in_process": dict.fromkeys(
            ["load_s", "n_books", "scoring_p50_ms", "scoring_p99_ms", "predict_p50_ms", "predict_p99_ms"], 1.0
        ),
        "predict": row,
        "predict_workers": {**row, "throughput_rps": 15.0, "p99_ms": 3.5},
        "bare_scoring": row,
        "canned": row,
        "canned_direct": row,
        "ratios": {
            "predict_to_bare_scoring": 1.0,
            "predict_to_canned": 1.0,
            "p99_predict_to_canned": 1.0,
            "predict_to_canned_direct": 1.0,
            "loop_cpu_canned_to_predict": 1.0,
            "workers_to_one": 1.5,
        },
        "same_answers": {"checked": 20, "equal": 20},
        "cold_start_s": 1.5,
        "memory": {"rss_mib": 200.0, "peak_rss_mib": 210.0},
        "workers": 2,
        "workers_memory": [{"rss_mib": 190.0, "peak_rss_mib": 200.0}, {"rss_mib": 195.0, "peak_rss_mib": 9}],
        "logged": {"answered": 10, "in_sqlite": 10},
        "logged_workers": {"answered": 12, "in_sqlite": 13},
        "recall_skipped": "synthetic model",
    }
    text = report(results)
    rows = [line.split()[0:2] for line in text.splitlines()[4:8]]
    assert rows[1] == ["/predict", "x2"]
    assert "with 2 workers (same machine, same load): throughput x1.50 of one worker, p99 3.50 ms" in text
    assert "RSS per worker 190, 195 MiB" in text
    assert "logged with 2 workers: 13 in SQLite of 12 answered" in text


def test_worker_pids_are_the_spawned_processes_only():
    script = (
        "import multiprocessing as mp, sys, time\n"
        "if __name__ == '__main__':\n"
        "    ctx = mp.get_context('spawn')\n"
        "    children = [ctx.Process(target=time.sleep, args=(30,)) for _ in range(2)]\n"
        "    [child.start() for child in children]\n"
        "    print('started', flush=True)\n"
        "    time.sleep(30)\n"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as parent:
        try:
            assert parent.stdout is not None and parent.stdout.readline() == b"started\n"
            pids = worker_pids(parent.pid)
            assert len(pids) == 2 and parent.pid not in pids
        finally:
            parent.kill()


def test_wrk_slices_merge_into_percentiles_of_the_whole_run():
    tally = WrkTally()
    fast, slow = [1000] * 1000, [1000] * 900 + [9000] * 100
    tally.add({"requests": 300, "duration_us": 10**6, "non2xx": 1, "socket_errors": 0, "quantiles_us": fast})
    tally.add({"requests": 100, "duration_us": 10**6, "non2xx": 0, "socket_errors": 1, "quantiles_us": slow})
    result = tally.result()
    assert (result.requests, result.errors, result.throughput_rps) == (400, 2, 200.0)
    # 10 of the 400 requests took 9 ms: the p99 is one of them, the p50 is not.
    assert result.p50_ms == 1.0 and result.p99_ms == 9.0


def test_ports_come_from_the_given_range():
    use_ports(18190)
    try:
        assert free_port() in range(18190, 18200)
    finally:
        use_ports(0)


@pytest.mark.skipif(not http_client.wrk_available(), reason="wrk is not installed")
def test_wrk_drives_a_real_server_and_counts_its_answers(tmp_path):
    settings = make_settings(tmp_path)
    env = server_env(tmp_path, ModelSource(settings.resolved_registry_url, MODEL_NAME, synthetic=True))
    port = free_port()
    command = [sys.executable, "-m", "bench.api", "--serve-canned", "--port", str(port)]
    with running(command, env) as process:
        wait_for(f"http://{HOST}:{port}/ready", process)
        bodies = [json.dumps(predict_payload("Emma")).encode(), b'{"items": "not a list"}']
        loads = http_client.drive_interleaved_wrk({"canned": port}, bodies, 1.0, 2, rounds=1)
    result = loads["canned"]
    assert result.requests > 10
    # Every other body is a 422: wrk counts those as errors.
    assert result.errors == pytest.approx(result.requests / 2, abs=2)
    assert 0 < result.p50_ms <= result.p99_ms
