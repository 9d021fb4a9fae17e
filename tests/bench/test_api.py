"""bench/api.py: the bare endpoint mirrors /predict's shape, and what /predict returns is what was
evaluated (fav3 Recall@10 through the API equals the offline figure in the manifest)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.schemas import PredictResponse
from bench.api import bare_app, fav3_recall_through_api, report
from experiments.dataset import Dataset, save_dataset
from experiments.evaluate import evaluate as evaluate_offline
from experiments.evaluate import heldout_evaluation_set
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.model_bundle import bundle_files
from readcrumbs.recommenders import create_model
from readcrumbs.registry import Registry
from tests.backend.conftest import make_settings
from tests.backend.tiny import MODEL_NAME, register_version, tiny_catalogue, tiny_likes

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


def test_the_bare_endpoint_has_the_real_request_and_answer_shapes():
    with TestClient(bare_app()) as client:
        answer = client.post("/predict", json={"items": ["Emma"], "userid": "u"})
        assert answer.status_code == 200
        assert PredictResponse.model_validate(answer.json()).recs
        assert client.post("/predict", json={"items": ["Emma"], "userid": ""}).status_code == 422


def test_report_names_every_figure():
    row = {"requests": 10, "errors": 0, "seconds": 1.0, "throughput_rps": 10.0, "p50_ms": 1.0, "p99_ms": 2.0}
    results = {
        "model": {"registry_url": "file:///r", "model_name": "readcrumbs", "synthetic": True},
        "concurrency": 8,
        "in_process": {
            "load_s": 0.1,
            "n_books": 10.0,
            "scoring_p50_ms": 0.5,
            "scoring_p99_ms": 0.9,
            "predict_p50_ms": 0.6,
            "predict_p99_ms": 1.0,
        },
        "predict": row,
        "bare": {**row, "throughput_rps": 20.0},
        "ratio": 0.5,
        "cold_start_s": 1.5,
        "memory": {"rss_mib": 200.0, "peak_rss_mib": 210.0},
        "logged": {"answered": 10, "in_sqlite": 10},
    }
    text = report(results)
    for phrase in ("ratio", "scoring", "cold start", "RSS", "logged: 10 in SQLite of 10"):
        assert phrase in text
