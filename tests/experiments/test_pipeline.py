"""``make train`` end to end on tiny data: promote, re-run without duplicates, refuse, re-evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from experiments import pipeline, train
from experiments.config import ModelConfig
from experiments.pipeline import format_result, run_pipeline
from experiments.tune import validation_score
from readcrumbs.dataset import Dataset
from readcrumbs.recommenders import side_information
from readcrumbs.recommenders.ease import EASE
from readcrumbs.recommenders.itemknn import ItemKNN
from readcrumbs.registry import PRODUCTION, STAGING, open_registry
from readcrumbs.settings import Settings
from tests.experiments import tiny
from tests.experiments.conftest import TINY_PARAMS, assert_one_error_line

NAME = "readcrumbs"


def test_the_first_run_registers_every_type_and_promotes_the_best_on_validation(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    result = run_pipeline(settings, dataset, model_config)
    registry = open_registry(settings)
    manifests = registry.manifests(NAME)
    assert [m.model_type for m in manifests] == ["als", "ease", "itemknn", "popularity"]
    for manifest in manifests:
        recorded = manifest.extra[pipeline.VALIDATION]
        assert recorded["metrics"] == result.validation[manifest.model_type]
        assert recorded["split_id"] != manifest.split_id  # other readers than the held-out ones
    best = max(manifests, key=lambda m: validation_score(m.extra[pipeline.VALIDATION]["metrics"]))
    assert registry.alias(NAME, PRODUCTION) == best.version
    assert registry.alias(NAME, STAGING) == best.version
    assert result.promotion is not None and result.promotion.promoted
    assert "first production model" in result.promotion.message
    assert {m.split_id for m in manifests} == {result.split_id}


def test_a_rerun_adds_no_version_and_trains_nothing(
    settings: Settings, dataset: Dataset, model_config: ModelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pipeline(settings, dataset, model_config)
    registry = open_registry(settings)
    before = registry.versions(NAME)
    production = registry.alias(NAME, PRODUCTION)

    def must_not_fit(*args: object) -> None:
        raise AssertionError("unchanged data and parameters must not be trained again")

    monkeypatch.setattr(train, "fit_model", must_not_fit)
    again = run_pipeline(settings, dataset, model_config)
    assert registry.versions(NAME) == before
    assert all(r.reused for r in again.results.values())
    assert registry.alias(NAME, PRODUCTION) == production
    assert again.promotion is not None and not again.promotion.promoted
    assert "already" in again.promotion.message
    assert "(reused)" in format_result(again, NAME)


def test_a_worse_candidate_is_refused_but_staged(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    first = run_pipeline(settings, dataset, model_config, models=["ease"])
    production = first.results["ease"].manifest.version
    second = run_pipeline(settings, dataset, model_config, models=["popularity"])
    registry = open_registry(settings)
    candidate = second.results["popularity"].manifest.version
    assert registry.alias(NAME, PRODUCTION) == production
    assert registry.alias(NAME, STAGING) == candidate
    assert second.promotion is not None and not second.promotion.promoted
    assert "promotion refused" in second.promotion.message and "does not beat" in second.promotion.message


def test_a_better_candidate_on_the_same_split_is_promoted(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    run_pipeline(settings, dataset, model_config, models=["popularity"])
    result = run_pipeline(settings, dataset, model_config, models=["ease"])
    assert result.promotion is not None and result.promotion.promoted
    assert "beats production" in result.promotion.message
    assert open_registry(settings).alias(NAME, PRODUCTION) == result.results["ease"].manifest.version


def test_no_promote_leaves_the_aliases_alone(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    result = run_pipeline(settings, dataset, model_config, models=["popularity"], promote=False)
    registry = open_registry(settings)
    assert result.promotion is None
    assert registry.alias(NAME, PRODUCTION) is None and registry.alias(NAME, STAGING) is None
    assert "production" not in format_result(result, NAME)


def _dataset_with_other_heldout(dataset: Dataset) -> Dataset:
    """Same books, new data version, a different set of held-out readers: another split."""
    heldout = np.sort(dataset.heldout_users)[:-3]
    return Dataset("tiny-v2", dataset.interactions, dataset.catalogue, heldout)


def test_production_from_another_split_is_re_evaluated_then_beaten(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    run_pipeline(settings, dataset, model_config, models=["popularity"])
    newer = _dataset_with_other_heldout(dataset)
    result = run_pipeline(settings, newer, model_config, models=["ease"])
    assert result.promotion is not None and result.promotion.promoted
    assert "re-evaluated on split" in result.promotion.message
    assert open_registry(settings).alias(NAME, PRODUCTION) == result.results["ease"].manifest.version


def test_production_from_another_split_that_still_wins_stays(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    first = run_pipeline(settings, dataset, model_config, models=["ease"])
    newer = _dataset_with_other_heldout(dataset)
    result = run_pipeline(settings, newer, model_config, models=["popularity"])
    assert result.promotion is not None and not result.promotion.promoted
    assert "re-evaluated on split" in result.promotion.message
    assert open_registry(settings).alias(NAME, PRODUCTION) == first.results["ease"].manifest.version


def test_production_over_another_catalogue_is_not_compared(
    settings: Settings, dataset: Dataset, model_config: ModelConfig
) -> None:
    first = run_pipeline(settings, dataset, model_config, models=["popularity"])
    fewer_books = dataset.catalogue.iloc[:-1].reset_index(drop=True)
    last_book = dataset.catalogue["book_id"].iloc[-1]
    newer = Dataset(
        "tiny-v3",
        dataset.interactions[dataset.interactions["book_id"] != last_book].reset_index(drop=True),
        fewer_books,
        dataset.heldout_users,
    )
    result = run_pipeline(settings, newer, model_config, models=["ease"])
    assert result.promotion is not None and not result.promotion.promoted
    assert "another catalogue" in result.promotion.message and "--force" in result.promotion.message
    assert open_registry(settings).alias(NAME, PRODUCTION) == first.results["popularity"].manifest.version


def test_the_command_line_end_to_end(
    settings: Settings, tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    assert pipeline.main(["--config", str(config_file)], settings=settings) == 0
    out = capsys.readouterr().out
    registry = open_registry(settings)
    production = registry.alias(NAME, PRODUCTION)
    assert production is not None and f"production: readcrumbs v{production}" in out
    for model_type in ("als", "ease", "itemknn", "popularity"):
        assert model_type in out
    registry.verify(NAME, production)

    assert (
        pipeline.main(["--config", str(config_file), "--models", "ease,popularity"], settings=settings) == 0
    )
    out = capsys.readouterr().out
    assert registry.versions(NAME) == [1, 2, 3, 4]
    assert out.count("reused") >= 2


def test_the_command_line_refuses_an_unknown_model_in_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pipeline.main(["--models", "ease,svd"], settings=settings) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err, "unknown model type 'svd'")


def test_with_feedback_reads_the_event_store(
    settings: Settings, tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import experiments.data as data_stage

    calls: list[bool] = []
    original = data_stage.prepare_dataset

    def spy(settings: Settings, *, with_feedback: bool = False) -> Dataset:
        calls.append(with_feedback)
        return original(settings, with_feedback=with_feedback)

    monkeypatch.setattr(data_stage, "prepare_dataset", spy)
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    argv = ["--config", str(config_file), "--models", "popularity", "--with-feedback", "--no-promote"]
    assert pipeline.main(argv, settings=settings) == 0
    assert calls == [True]
    assert open_registry(settings).alias(NAME, PRODUCTION) is None


def test_the_choice_follows_validation_not_the_heldout_readers(
    settings: Settings, dataset: Dataset, model_config: ModelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured = pipeline.validation_metrics

    def popularity_wins_on_validation(*args: Any) -> dict[str, dict[str, float]]:
        metrics = measured(*args)
        if args[4] == "popularity":
            return {
                protocol: {**values, "recall@10": 1.0, "recall@20": 1.0}
                for protocol, values in metrics.items()
            }
        return metrics

    monkeypatch.setattr(pipeline, "validation_metrics", popularity_wins_on_validation)
    result = run_pipeline(settings, dataset, model_config, models=["ease", "popularity"])
    registry = open_registry(settings)
    staged = registry.manifest(NAME, registry.alias(NAME, STAGING))
    ease = result.results["ease"].manifest
    assert staged.model_type == "popularity"
    assert staged.metrics["fav3"]["recall@10"] < ease.metrics["fav3"]["recall@10"]  # held-out says ease
    assert "best on validation" in (result.promotion.message if result.promotion else "")


def test_a_blend_reuses_the_parts_the_run_fitted_alone(
    settings: Settings, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = [
        {"model_type": "ease", "weight": 1.0, "params": TINY_PARAMS["ease"]},
        {"model_type": "itemknn", "weight": 0.5, "params": TINY_PARAMS["itemknn"]},
    ]
    config = ModelConfig(
        models=["blend", "ease", "itemknn"], params={**TINY_PARAMS, "blend": {"parts": parts}}
    )
    fits: list[str] = []
    for model_class in (EASE, ItemKNN):
        original = model_class.fit

        def counted(self: Any, likes: Any, book_tags: Any = None, original: Any = original) -> None:
            fits.append(self.model_type)
            original(self, likes, book_tags)

        monkeypatch.setattr(model_class, "fit", counted)
    result = run_pipeline(settings, dataset, config)
    # Once on the validation split's training users and once on all training users, each.
    assert sorted(fits) == ["ease", "ease", "itemknn", "itemknn"]
    blend = result.results["blend"].manifest
    assert blend.model_type == "blend" and blend.metrics["fav3"]["recall@10"] > 0
    assert blend.extra[pipeline.VALIDATION]["metrics"] == result.validation["blend"]


def test_models_with_tags_train_on_one_tag_gram_for_both_training_sets(
    settings: Settings, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    tagged = {**TINY_PARAMS["ease"], "tag_weight": 2.0}
    edlae = {"l2": 5.0, "dropout": 0.2, "neighbours": 10, "tag_weight": 2.0}
    config = ModelConfig(models=["ease", "edlae"], params={**TINY_PARAMS, "ease": tagged, "edlae": edlae})
    products: list[int] = []
    original = side_information.tag_profiles

    def counted(counts: Any) -> Any:
        products.append(counts.shape[1])
        return original(counts)

    monkeypatch.setattr(side_information, "tag_profiles", counted)
    result = run_pipeline(settings, dataset, config)

    assert products == [len(dataset.catalogue)]  # four fits, one FᵀF
    for model_type in ("ease", "edlae"):
        manifest = result.results[model_type].manifest
        assert manifest.params["tag_weight"] == 2.0 and manifest.metrics["fav3"]["recall@10"] > 0
