"""Where a two-regime blend switches: regimes, the readers' draws, the suggestion and the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from experiments import regimes
from experiments.regimes import RegimeRow, given_and_to_find, regime_blends, suggested_long_from
from readcrumbs.errors import ConfigError
from readcrumbs.recommenders.blend import Blend
from readcrumbs.settings import Settings
from tests.experiments import tiny
from tests.experiments.conftest import TINY_PARAMS, assert_one_error_line

TWO_REGIMES = {
    "long_from": 4,
    "parts": [
        {"model_type": "ease", "weight": 1.0, "long_weight": 0.0, "params": TINY_PARAMS["ease"]},
        {"model_type": "itemknn", "weight": 0.5, "long_weight": 1.0, "params": TINY_PARAMS["itemknn"]},
    ],
}


def likes(n_readers: int = 30, n_books: int = 40, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((n_readers, n_books)) < 0.3).astype(np.float32))


def test_each_regime_keeps_the_parts_it_weighs() -> None:
    blend = Blend(**TWO_REGIMES)  # type: ignore[arg-type]
    blend.fit(likes())
    short, long = regime_blends(blend)
    assert short.parts == blend.parts and short.weights.tolist() == [1.0, 0.5]
    assert long.parts == [blend.parts[1]] and long.weights.tolist() == [1.0]
    assert short.long_from is None and long.long_from is None


def test_a_one_regime_blend_has_no_regimes_to_compare() -> None:
    with pytest.raises(ConfigError, match="one regime"):
        regime_blends(Blend([{"model_type": "ease"}]))


def test_readers_give_n_likes_and_keep_the_rest_to_find() -> None:
    matrix = likes()
    given, to_find = given_and_to_find(matrix, 5, seed=3)
    kept = np.flatnonzero(np.diff(matrix.indptr) >= 5 + regimes.MIN_TO_FIND)
    assert given.shape == (len(kept), matrix.shape[1])
    assert (np.diff(given.indptr) == 5).all()
    np.testing.assert_array_equal((given + to_find).toarray(), matrix[kept].toarray())
    assert given.multiply(to_find).nnz == 0
    again, _ = given_and_to_find(matrix, 5, seed=3)
    np.testing.assert_array_equal(again.toarray(), given.toarray())
    assert (given_and_to_find(matrix, 5, seed=4)[0] != given).nnz > 0


@pytest.mark.parametrize(
    ("long_minus_short", "expected"),
    [
        ([-1, -1, 1, 1, 1], 6),
        ([-1, 1, -1, 1, 1], 7),  # one win at 5 is not enough: it loses again at 6
        ([1, 1, 1, 1, 1], 4),
        ([0, 0, 0, 0, 0], 4),  # a tie counts as at least as good
        ([1, 1, 1, 1, -1], None),
    ],
)
def test_the_suggestion_is_where_the_long_regime_stays_at_least_as_good(
    long_minus_short: list[int], expected: int | None
) -> None:
    rows = [
        RegimeRow(n, 100, 0.3, 0.3 + 0.01 * d) for n, d in zip((4, 5, 6, 7, 8), long_minus_short, strict=True)
    ]
    assert suggested_long_from(rows) == expected


def test_the_command_prints_both_regimes_per_number_of_favourites(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    config = tmp_path / "models.toml"
    parts = ",\n".join(
        f'  {{ model_type = "{p["model_type"]}", weight = {p["weight"]}, long_weight = {p["long_weight"]}, '
        f"params = {{ {', '.join(f'{k} = {v!r}' for k, v in p['params'].items())} }} }}"
        for p in TWO_REGIMES["parts"]  # type: ignore[attr-defined]
    )
    config.write_text(
        f'[pipeline]\nmodels = ["blend"]\n[models.blend]\nlong_from = 4\nparts = [\n{parts}\n]\n'
    )
    argv = ["--config", str(config), "--favourites", "2,3", "--validation-users", "6"]
    assert regimes.main(argv, settings=settings) == 0
    out = capsys.readouterr().out
    assert "short recall@10" in out and "long recall@10" in out
    assert [line.split()[0] for line in out.splitlines()[1:3]] == ["2", "3"]
    assert "configured long_from = 4; suggested (validation) =" in out


@pytest.mark.parametrize("favourites", ["0,3", "three", ","])
def test_bad_numbers_of_favourites_are_one_error_line(
    settings: Settings, favourites: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert regimes.main(["--favourites", favourites], settings=settings) == 2
    assert_one_error_line(capsys.readouterr().err, "--favourites takes whole numbers")


def test_a_blend_without_regimes_is_one_error_line(
    settings: Settings, tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"data_source": str(tiny.write_goodbooks(tmp_path / "source"))})
    with config_file.open("a") as config:
        config.write('[models.blend]\nparts = [{ model_type = "ease", params = { l2 = 5.0 } }]\n')
    assert regimes.main(["--config", str(config_file), "--validation-users", "6"], settings=settings) == 2
    assert_one_error_line(capsys.readouterr().err, "one regime")
