"""Training one model type: fit on training users only, evaluate, register, reuse, command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from experiments import train
from experiments.evaluate import heldout_evaluation_set
from experiments.train import engine_of, fit_model, train_and_register, training_likes, training_tags
from readcrumbs.dataset import Dataset
from readcrumbs.model_bundle import CATALOGUE_FILE, MODEL_FILE, load_bundle
from readcrumbs.registry import fingerprint, open_registry
from readcrumbs.settings import Settings
from tests.experiments import tiny
from tests.experiments.conftest import TINY_PARAMS, assert_one_error_line


def test_engines() -> None:
    assert engine_of("als") == "implicit"
    assert {engine_of(t) for t in ("ease", "itemknn", "popularity")} == {"numpy"}


def test_training_likes_leave_out_the_heldout_users(dataset: Dataset) -> None:
    likes = training_likes(dataset)
    n_training_users = dataset.interactions["user_id"].nunique() - len(dataset.heldout_users)
    assert likes.shape == (n_training_users, len(dataset.catalogue))
    heldout_likes = dataset.interactions["user_id"].isin(dataset.heldout_users).sum()
    assert likes.nnz == len(dataset.interactions) - heldout_likes


def test_fit_model_times_the_fit(dataset: Dataset) -> None:
    model, seconds = fit_model("ease", TINY_PARAMS["ease"], training_likes(dataset))
    assert seconds >= 0
    assert model.score(sp.csr_matrix(np.eye(1, len(dataset.catalogue), dtype=np.float32))).shape == (
        1,
        len(dataset.catalogue),
    )


@pytest.mark.parametrize("model_type", sorted(TINY_PARAMS))
def test_train_and_register_records_everything(settings: Settings, dataset: Dataset, model_type: str) -> None:
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    registry = open_registry(settings)
    result = train_and_register(settings, dataset, evaluation, registry, model_type, TINY_PARAMS[model_type])
    manifest = result.manifest
    assert not result.reused
    assert manifest.model_type == model_type
    assert manifest.engine == engine_of(model_type)
    assert manifest.data_version == dataset.version
    assert manifest.split_id == evaluation.split_id
    assert set(manifest.metrics) == {"fav3", "fold80"}
    assert manifest.params.items() >= TINY_PARAMS[model_type].items()
    assert set(manifest.files) == {MODEL_FILE, CATALOGUE_FILE}
    assert manifest.wandb_run is None  # W&B is disabled in tests
    assert manifest.extra["fit_seconds"] >= 0
    bundle = load_bundle(registry, settings.model_name, manifest.version)
    assert np.array_equal(bundle.book_ids, dataset.book_ids)


def test_a_learning_model_finds_the_readers_series(settings: Settings, dataset: Dataset) -> None:
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    registry = open_registry(settings)
    ease = train_and_register(settings, dataset, evaluation, registry, "ease", TINY_PARAMS["ease"])
    popular = train_and_register(settings, dataset, evaluation, registry, "popularity", {})
    assert ease.metrics["fav3"]["recall@10"] > popular.metrics["fav3"]["recall@10"]
    assert ease.metrics["fav3"]["hit_rate@10"] == 1.0


def test_heldout_users_are_never_trained_on(
    settings: Settings, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[sp.csr_matrix] = []
    original = train.fit_model

    def spy(model_type: str, params: dict[str, object], likes: sp.csr_matrix, book_tags: object) -> object:
        seen.append(likes)
        return original(model_type, params, likes, book_tags)

    monkeypatch.setattr(train, "fit_model", spy)
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    train_and_register(
        settings, dataset, evaluation, open_registry(settings), "itemknn", TINY_PARAMS["itemknn"]
    )
    assert (seen[0] != training_likes(dataset)).nnz == 0


def test_the_same_training_is_reused_not_repeated(
    settings: Settings, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    registry = open_registry(settings)
    first = train_and_register(settings, dataset, evaluation, registry, "ease", {"l2": 5.0, "neighbours": 10})

    def must_not_fit(*args: object) -> None:
        raise AssertionError("an identical training must not be fitted again")

    monkeypatch.setattr(train, "fit_model", must_not_fit)
    # The defaults count: giving the default explicitly is the same training.
    again = train_and_register(settings, dataset, evaluation, registry, "ease", {"l2": 5, "neighbours": 10})
    assert again.reused and again.manifest.version == first.manifest.version
    assert registry.versions(settings.model_name) == [first.manifest.version]
    expected = fingerprint("ease", first.manifest.params, dataset.version, "numpy")
    assert again.manifest.fingerprint == expected


def test_new_data_is_a_new_version(settings: Settings, dataset: Dataset) -> None:
    registry = open_registry(settings)
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    first = train_and_register(settings, dataset, evaluation, registry, "popularity", {})
    newer = tiny.tiny_dataset(version="tiny-v2", seed=1)
    second = train_and_register(
        settings, newer, heldout_evaluation_set(newer, settings.seed), registry, "popularity", {}
    )
    assert second.manifest.version == first.manifest.version + 1
    assert second.manifest.split_id != first.manifest.split_id


def test_the_command_line_trains_and_registers(
    settings: Settings, tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tiny.write_goodbooks(tmp_path / "source")
    settings = settings.model_copy(update={"data_source": str(source)})
    code = train.main(
        ["--model", "ease", "--config", str(config_file), "--param", "l2=2.0"], settings=settings
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "registered readcrumbs v1 (ease" in out and "recall@10" in out
    manifest = open_registry(settings).manifest("readcrumbs", 1)
    assert manifest.params["l2"] == 2.0 and manifest.params["neighbours"] == 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "svd"], "unknown model type 'svd'"),
        (["--model", "ease", "--param", "l2"], "expected name=value"),
        (["--model", "ease", "--param", "depth=3"], "bad parameters for ease"),
    ],
)
def test_the_command_line_reports_errors_in_one_line(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    assert train.main(argv, settings=settings) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err, message)


def test_a_missing_data_source_is_reported_in_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train.main(["--model", "ease"], settings=settings) == 2
    assert_one_error_line(capsys.readouterr().err, "READCRUMBS_DATA_SOURCE")


def test_the_training_tags_are_the_catalogues_or_none(dataset: Dataset) -> None:
    tags = training_tags(dataset)
    assert tags is not None and tags.counts is not None
    assert tags.counts.shape == (1 + tiny.CLUSTERS, len(dataset.catalogue))
    assert tags.like_share is not None
    np.testing.assert_array_equal(tags.like_share, dataset.catalogue["like_share"].to_numpy())
    dataset.book_tags = None
    only_shares = training_tags(dataset)
    assert only_shares is not None and only_shares.counts is None and only_shares.like_share is not None
    dataset.catalogue = dataset.catalogue.drop(columns=["like_share"])  # a data version from before it
    assert dataset.like_shares() is None
    assert training_tags(dataset) is None
