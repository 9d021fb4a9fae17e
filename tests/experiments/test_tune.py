"""Grid search on a validation split carved from the training users, never the held-out users."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from experiments import tune as tune_module
from experiments.config import DEFAULT_CONFIG
from experiments.evaluate import floor_ratio
from experiments.tune import (
    Trial,
    best_trial,
    format_trials,
    grid_points,
    load_grids,
    metric_value,
    tune,
    validation_dataset,
)
from readcrumbs.dataset import Dataset
from readcrumbs.errors import ConfigError, DataError
from readcrumbs.settings import Settings
from tests.experiments import tiny
from tests.experiments.conftest import assert_one_error_line


def test_the_validation_split_never_touches_heldout_users(dataset: Dataset) -> None:
    validation = validation_dataset(dataset, seed=1, n_users=5, min_likes=5)
    assert not set(validation.interactions["user_id"]) & set(dataset.heldout_users)
    assert not set(validation.heldout_users) & set(dataset.heldout_users)
    assert len(validation.heldout_users) == 5
    per_user = validation.interactions.groupby("user_id").size()
    assert (per_user[validation.heldout_users] >= 5).all()
    assert validation.version != dataset.version
    # Everyone else is left to train on.
    assert len(validation.training_users()) == validation.interactions["user_id"].nunique() - 5


def test_the_validation_split_is_seeded(dataset: Dataset) -> None:
    first = validation_dataset(dataset, seed=1, n_users=5, min_likes=5).heldout_users
    assert np.array_equal(first, validation_dataset(dataset, seed=1, n_users=5, min_likes=5).heldout_users)
    assert not np.array_equal(
        first, validation_dataset(dataset, seed=2, n_users=5, min_likes=5).heldout_users
    )


def test_without_eligible_users_any_user_may_validate(dataset: Dataset) -> None:
    validation = validation_dataset(dataset, seed=1, n_users=3, min_likes=1000)
    assert len(validation.heldout_users) == 3


def test_too_few_training_users_is_a_data_error(dataset: Dataset) -> None:
    only_heldout = dataset.interactions[dataset.interactions["user_id"].isin(dataset.heldout_users[:1])]
    lonely = Dataset("v", only_heldout.reset_index(drop=True), dataset.catalogue, dataset.heldout_users[:1])
    with pytest.raises(DataError, match="fewer than two training users"):
        validation_dataset(lonely, seed=1)


def test_grid_points() -> None:
    assert grid_points({"l2": [1, 2], "neighbours": [5]}) == [
        {"l2": 1, "neighbours": 5},
        {"l2": 2, "neighbours": 5},
    ]
    assert grid_points({}) == [{}]


def test_tune_tries_every_point_and_picks_the_best(settings: Settings, dataset: Dataset) -> None:
    trials = tune(
        settings,
        dataset,
        "itemknn",
        {"neighbours": [1, 10]},
        base_params={"shrink": 0.0},
        validation_users=6,
    )
    assert [t.params["neighbours"] for t in trials] == [1, 10]
    assert all(t.params["shrink"] == 0.0 for t in trials)
    best = best_trial(trials)
    assert floor_ratio(best.metrics) == max(floor_ratio(t.metrics) for t in trials)
    table = format_trials(trials, ["neighbours"])
    assert table.splitlines()[0].split()[:3] == ["neighbours", "fav3", "r@10"]
    assert len(table.splitlines()) == 2 + len(trials)


def test_best_trial_by_another_metric() -> None:
    trials = [
        Trial("ease", {"l2": 1}, {"fav3": {"recall@10": 0.3}, "fold80": {"recall@20": 0.1}}, 1.0),
        Trial("ease", {"l2": 2}, {"fav3": {"recall@10": 0.2}, "fold80": {"recall@20": 0.4}}, 1.0),
    ]
    # By default both floors count: 0.2 / 0.27 beats 0.1 / 0.35.
    assert best_trial(trials).params == {"l2": 2}
    assert best_trial(trials, "fav3/recall@10").params == {"l2": 1}
    assert best_trial(trials, "fold80/recall@20").params == {"l2": 2}
    assert metric_value(trials[1].metrics, "floor") == pytest.approx(0.2 / 0.27)
    with pytest.raises(ConfigError, match="unknown metric"):
        metric_value(trials[0].metrics, "fav3/recall@11")
    with pytest.raises(ConfigError, match="no trials"):
        best_trial([])


def test_load_grids(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text("[models.ease]\nl2 = 1.0\n[tune.ease]\nl2 = [1.0, 2.0]\n")
    assert load_grids(path) == {"ease": {"l2": [1.0, 2.0]}}
    path.write_text("[tune.ease]\nl2 = []\n")
    with pytest.raises(ConfigError, match="non-empty list"):
        load_grids(path)
    path.write_text("[tune.svd]\nk = [1]\n")
    with pytest.raises(ConfigError, match="unknown model type"):
        load_grids(path)


def test_the_shipped_config_has_grids_for_ease_and_als() -> None:
    grids = load_grids(DEFAULT_CONFIG)
    assert {"ease", "als"} <= set(grids)
    assert {"l2"} <= set(grids["ease"]) and {"factors", "regularization", "alpha"} <= set(grids["als"])


def test_the_command_line_prints_the_table_and_the_best(
    settings: Settings, tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    argv = ["--model", "ease", "--grid", "l2=1,10", "--config", str(config_file), "--validation-users", "6"]
    assert tune_module.main(argv, settings=settings) == 0
    out = capsys.readouterr().out
    assert "ease: 2 trials" in out
    assert "[models.ease]" in out and "neighbours = 10" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--grid", "l2=1,2"], "--grid needs --model"),
        (["--model", "svd", "--grid", "l2=1"], "unknown model type"),
        (["--model", "popularity"], "nothing to tune"),
    ],
)
def test_the_command_line_reports_errors_in_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert tune_module.main(argv, settings=settings) == 2
    err = capsys.readouterr().err
    assert_one_error_line(err, message)


def test_the_blend_search_tries_every_weight_and_prints_a_models_table(
    settings: Settings, tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    argv = [
        "--blend",
        "ease,itemknn",
        "--weights",
        "0,1",
        "--config",
        str(config_file),
        "--validation-users",
        "6",
    ]
    assert tune_module.main(argv, settings=settings) == 0
    out = capsys.readouterr().out
    assert "blend of ease, itemknn: 2 trials" in out
    table = out[out.index("[models.blend]") :]
    parsed = tomllib.loads(table)["models"]["blend"]["parts"]
    assert [part["model_type"] for part in parsed] == ["ease", "itemknn"]
    assert parsed[0]["weight"] == 1.0 and parsed[1]["weight"] in (0.0, 1.0)
    assert parsed[0]["params"] == {"l2": 5.0, "neighbours": 10, "tag_weight": 0.0}


def test_a_blend_search_within_reach_says_so_in_its_models_table(
    settings: Settings, tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    argv = ["--blend", "ease,als", "--weights", "1", "--within-reach", "--config", str(config_file)]
    assert tune_module.main([*argv, "--validation-users", "6"], settings=settings) == 0
    out = capsys.readouterr().out
    parsed = tomllib.loads(out[out.index("[models.blend]") :])["models"]["blend"]
    assert parsed["within_reach"] is True
    assert [part["model_type"] for part in parsed["parts"]] == ["ease", "als"]


def test_a_blend_search_needs_two_parts(settings: Settings, dataset: Dataset) -> None:
    with pytest.raises(ConfigError, match="at least two parts"):
        tune_module.tune_blend(settings, dataset, [("ease", {})], [1.0])


def test_blend_parts_take_the_configured_blends_parameters_first() -> None:
    from experiments.config import ModelConfig

    parts = [{"model_type": "als", "weight": 1.5, "params": {"factors": 4}}]
    config = ModelConfig(models=["blend"], params={"blend": {"parts": parts}, "ease": {"l2": 3.0}})
    assert tune_module.blend_part_params(config, "als") == {"factors": 4}
    assert tune_module.blend_part_params(config, "ease") == {"l2": 3.0}
