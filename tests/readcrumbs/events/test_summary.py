"""The traffic summary's own pieces: bucket arithmetic, argument checks, frames and properties."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from readcrumbs.events import summary

MIDNIGHT = int(datetime(2026, 11, 29, tzinfo=UTC).timestamp())


def test_epoch_seconds_floor_the_milliseconds() -> None:
    seconds = summary.epoch_seconds(["2026-11-29T00:00:00.000Z", "2026-11-29T00:00:00.999Z"])
    assert seconds.tolist() == [MIDNIGHT, MIDNIGHT] and seconds.dtype == np.int64
    assert summary.epoch_seconds([]).size == 0


def test_bucket_start_and_its_ts_text() -> None:
    assert summary.bucket_start("2026-11-28T23:59:59.999Z", 120) == MIDNIGHT - 120
    assert summary.bucket_start("2026-11-29T05:59:59.999Z", 6 * 3600) == MIDNIGHT
    assert summary.bucket_start("2026-11-29T06:00:00.000Z", 6 * 3600) == MIDNIGHT + 6 * 3600
    assert summary.iso_at(MIDNIGHT) == "2026-11-29T00:00:00.000Z"


def test_check_request_normalizes_its_arguments() -> None:
    # A numpy integer (from a caller's arithmetic) is a whole number of seconds too.
    checked = summary.check_request(np.int64(60), [1, 2.5], ["2", "1", "2"])  # type: ignore[arg-type]
    assert checked == (60, (1.0, 2.5), ("2", "1"))
    assert summary.check_request(60, (1.0,), None) == (60, (1.0,), None)


def test_from_cells_orders_rows_and_fixes_dtypes() -> None:
    built = summary.from_cells(
        60,
        (1.0,),
        [(120, "2", 0, 1, 0.5), (60, "b", 1, 2, 3.0), (60, "a", 1, 1, 2.0), (60, "a", 0, 4, 1.0)],
        [(120, 1), (60, 3)],
        3,
    )
    assert list(built.cells.itertuples(index=False, name=None)) == [
        (60, "a", 0, 4, 1.0),
        (60, "a", 1, 1, 2.0),
        (60, "b", 1, 2, 3.0),
        (120, "2", 0, 1, 0.5),
    ]
    assert built.cells.dtypes.astype(str).to_dict() == summary.CELL_DTYPES
    assert built.bucket_users["bucket_start_s"].tolist() == [60, 120]
    assert (built.requests, built.users, built.n_bins, built.model_versions) == (8, 3, 2, ["2", "a", "b"])


def test_summarize_counts_a_latency_on_an_edge_in_the_bin_above() -> None:
    counted = summary.summarize(
        ["2026-11-29T00:00:00.000Z"] * 3, ["a", "b", "a"], [0.99, 1.0, 2.0], ["1"] * 3, 60, (1.0, 2.0)
    )
    assert counted.cells["latency_bin"].tolist() == [0, 1, 2]
    assert counted.bucket_users["users"].tolist() == [2] and counted.users == 2


def test_an_empty_summary_has_every_column() -> None:
    empty = summary.summarize([], [], [], [], 60, (1.0,))
    assert list(empty.cells.columns) == list(summary.CELL_DTYPES)
    assert list(empty.bucket_users.columns) == list(summary.BUCKET_USER_DTYPES)
    assert (empty.requests, empty.users, empty.model_versions) == (0, 0, [])


@pytest.mark.parametrize("bucket_s", [0, -60, 1.5, True, "60"])
def test_check_request_refuses_a_bad_bucket(bucket_s: object) -> None:
    with pytest.raises(ValueError, match="bucket_s"):
        summary.check_request(bucket_s, [1.0], None)  # type: ignore[arg-type]
