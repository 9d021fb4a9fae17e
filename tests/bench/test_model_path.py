"""bench/model_path.py: one row per registered version, timed through ModelBundle.recommend."""

from __future__ import annotations

from bench.model_path import report, run
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.model_bundle import bundle_files
from readcrumbs.recommenders import create_model
from readcrumbs.registry import Registry
from tests.backend.tiny import MODEL_NAME, tiny_catalogue, tiny_likes


def test_every_version_gets_a_row_with_its_median_and_p99(tmp_path):
    registry = Registry(FolderBlobStore(tmp_path / "registry"))
    for model_type, params in (("itemknn", {"neighbours": 5}), ("popularity", {})):
        model = create_model(model_type, params)
        model.fit(tiny_likes())
        registry.register(
            MODEL_NAME,
            model_type,
            bundle_files(model, tiny_catalogue()),
            params=model.params,
            metrics={},
            data_version="t",
        )
    rows = run(f"file://{tmp_path / 'registry'}", MODEL_NAME, calls=20)
    assert [(row["version"], row["model_type"], row["n_books"]) for row in rows] == [
        (1, "itemknn", 14),
        (2, "popularity", 14),
    ]
    assert all(0 < row["median_ms"] <= row["p99_ms"] for row in rows)
    assert all(row["cold_median_ms"] > 0 for row in rows)
    assert all(row["factor_product_ms"] is None for row in rows)  # no item factors
    text = report(rows, 20)
    assert "v1       itemknn" in text and "targets:" in text and "cold ms" in text
    assert f"{rows[0]['cold_median_ms']:.3f}" in text.splitlines()[2]


def test_a_model_with_item_factors_also_gets_the_time_of_its_factor_product(tmp_path):
    registry = Registry(FolderBlobStore(tmp_path / "registry"))
    model = create_model("als", {"factors": 4, "iterations": 2, "seed": 0})
    model.fit(tiny_likes())
    files = bundle_files(model, tiny_catalogue())
    registry.register(MODEL_NAME, "als", files, params=model.params, metrics={}, data_version="t")
    (row,) = run(f"file://{tmp_path / 'registry'}", MODEL_NAME, calls=20)
    assert row["factor_product_ms"] > 0
    line = report([row], 20).splitlines()[2]
    assert line.startswith("v1       als") and f"{row['factor_product_ms']:.3f}" in line
