"""The leaderboard: every variant on validation and held-out readers, cached, written between markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import leaderboard
from experiments.config import load_config
from experiments.fit_cache import FitCache
from experiments.leaderboard import (
    END,
    START,
    describe_params,
    format_table,
    load_variants,
    main,
    measure,
    stored_results,
)
from readcrumbs.errors import ConfigError
from readcrumbs.settings import Settings
from tests.experiments import tiny
from tests.experiments.conftest import assert_one_error_line

CONFIG = """
[pipeline]
models = ["ease"]

[models.ease]
l2 = 5.0
neighbours = 10

[leaderboard.ease-5]
model_type = "ease"
l2 = 5.0
neighbours = 10
note = "the pipeline's"

[leaderboard.knn]
model_type = "itemknn"
neighbours = 10
shrink = 0.0

[leaderboard.blend]
model_type = "blend"
parts = [
  { model_type = "ease", weight = 1.0, params = { l2 = 5.0, neighbours = 10 } },
  { model_type = "itemknn", weight = 0.5, params = { neighbours = 10, shrink = 0.0 } },
]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def readme(tmp_path: Path) -> Path:
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\nbefore\n\n{START}\nold table\n{END}\n\nafter\n")
    return path


@pytest.fixture
def source_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})


def test_variants_get_full_parameters_and_stable_keys(config: Path) -> None:
    variants = load_variants(config)
    assert [v.name for v in variants] == ["ease-5", "knn", "blend"]
    assert variants[0].params == {"l2": 5.0, "neighbours": 10, "tag_weight": 0.0}
    assert variants[0].note == "the pipeline's"
    assert variants[2].params["parts"][1]["weight"] == 0.5
    assert load_variants(config)[2].key == variants[2].key != variants[0].key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[leaderboard.x]\nl2 = 1.0\n", "needs a model_type"),
        ('[leaderboard.x]\nmodel_type = "svd"\n', "unknown"),
    ],
)
def test_bad_variants_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_variants(path)


def test_the_command_writes_the_table_between_the_markers_and_reuses_results(
    source_settings: Settings,
    config: Path,
    readme: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--config", str(config), "--readme", str(readme)]
    assert main(argv, settings=source_settings) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith(f"{END}\n\nafter\n")
    assert "old table" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ")][2:]
    assert len(rows) == 3
    assert any(row.startswith("| **ease-5** (promoted) |") for row in rows)
    assert any("1·ease(l2=5.0, neighbours=10, tag_weight=0.0) + 0.5·itemknn" in row for row in rows)
    capsys.readouterr()

    def must_not_fit(*args: object) -> None:
        raise AssertionError("a stored result must not be measured again")

    monkeypatch.setattr(FitCache, "fit", must_not_fit)
    readme.write_text(f"{START}\n{END}\n")
    assert main(argv, settings=source_settings) == 0
    assert [line for line in readme.read_text().splitlines() if line.startswith("| ")][2:] == rows


def test_results_hold_both_splits_time_and_size(source_settings: Settings, config: Path) -> None:
    from experiments.data import prepare_dataset

    dataset = prepare_dataset(source_settings)
    variants = load_variants(config)
    results = measure(source_settings, dataset, variants[:1])
    (result,) = results
    assert result.validation_split != result.heldout_split
    assert set(result.validation) == set(result.heldout) == {"fav3", "fold80"}
    assert result.artifact_bytes > 0 and result.fit_seconds >= 0
    assert [r.name for r in stored_results(source_settings, dataset, variants)] == ["ease-5"]
    chosen = leaderboard.chosen_variant(results, load_config(config))
    assert chosen == "ease-5"
    assert "**ease-5** (promoted)" in format_table(results, chosen)


def test_a_readme_without_markers_and_unknown_names_are_one_line_errors(
    source_settings: Settings, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.md"
    plain.write_text("# nothing to replace\n")
    assert (
        main(["--config", str(config), "--readme", str(plain), "--only", "knn"], settings=source_settings)
        == 2
    )
    assert_one_error_line(capsys.readouterr().err, "no leaderboard markers")
    assert plain.read_text() == "# nothing to replace\n"
    assert main(["--config", str(config), "--only", "nope"], settings=source_settings) == 2
    assert_one_error_line(capsys.readouterr().err, "no [leaderboard.<name>] for ['nope']")


def test_a_blend_is_described_by_its_weighted_parts_and_regimes() -> None:
    ease = {"model_type": "ease", "weight": 1.0, "params": {"l2": 800.0}}
    als = {"model_type": "als", "weight": 0.5, "params": {"factors": 8, "seed": 1}}
    assert describe_params("blend", {"parts": [ease, als]}) == "1·ease(l2=800.0) + 0.5·als(factors=8)"
    regimes = {
        "long_from": 7,
        "parts": [{**ease, "long_weight": 0.0}, {**als, "long_weight": 2.0}],
    }
    assert describe_params("blend", regimes) == (
        "below 7 favourites 1·ease(l2=800.0) + 0.5·als(factors=8); from 7 2·als(factors=8)"
    )
    assert describe_params("blend", {**regimes, "within_reach": True}).endswith(
        "2·als(factors=8); within reach"
    )
