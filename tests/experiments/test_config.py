"""The model config file and the name=value flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.config import (
    DEFAULT_CONFIG,
    load_config,
    parse_grid,
    parse_model_list,
    parse_params,
    parse_value,
)
from readcrumbs.errors import ConfigError
from readcrumbs.recommenders import MODEL_TYPES, create_model


def test_the_shipped_config_has_valid_params_for_every_model_type() -> None:
    # make train fits only the types that can win on validation; every type still has its table.
    config = load_config(DEFAULT_CONFIG)
    assert set(config.models) <= set(MODEL_TYPES) == set(config.params)
    for model_type in MODEL_TYPES:
        model = create_model(model_type, config.params_of(model_type))
        assert model.params.items() >= config.params_of(model_type).items()


def test_flags_override_the_file(config_file: Path) -> None:
    config = load_config(config_file)
    params = config.params_of("ease", {"l2": 300})
    assert params["l2"] == 300
    assert params["neighbours"] == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [("300", 300), ("2.5", 2.5), ("true", True), ('"abc"', "abc"), ("plain", "plain"), ("1e3", 1000.0)],
)
def test_parse_value(text: str, expected: object) -> None:
    assert parse_value(text) == expected
    assert type(parse_value(text)) is type(expected)


def test_parse_params_and_grid() -> None:
    assert parse_params(["l2=300", "neighbours = 128"]) == {"l2": 300, "neighbours": 128}
    assert parse_grid(["l2=100,300", "alpha=2.5"]) == {"l2": [100, 300], "alpha": [2.5]}


@pytest.mark.parametrize("bad", ["l2", "=3", "l2="])
def test_a_malformed_param_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="name=value"):
        parse_params([bad])


@pytest.mark.parametrize("bad", ["l2", "l2=", "l2=,"])
def test_a_malformed_grid_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="name=v1,v2"):
        parse_grid([bad])


def test_model_lists_are_checked() -> None:
    assert parse_model_list("als, ease") == ["als", "ease"]
    with pytest.raises(ConfigError, match="unknown model type 'svd'"):
        parse_model_list("als,svd")
    with pytest.raises(ConfigError, match="no model type"):
        parse_model_list(" , ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models.svd]\nk = 1\n", "unknown model type 'svd'"),
        ("[models]\nease = 3\n", "must be tables"),
        ("[pipeline]\nmodels = 'ease'\n", "must be a list"),
        ("[pipeline]\nmodels = ['ease', 'svd']\n", "unknown model type 'svd'"),
        ("[models.ease\n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the model config"):
        load_config(tmp_path / "absent.toml")


def test_without_a_pipeline_table_every_configured_type_is_trained(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text("[models.ease]\nl2 = 3.0\n[models.popularity]\n")
    assert load_config(path).models == ["ease", "popularity"]
