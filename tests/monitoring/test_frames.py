import numpy as np
import pandas as pd

from monitoring.frames import explode_ranked, flatten_ids, list_lengths


def test_list_lengths_and_flatten():
    lists = pd.Series([[3, 1], [], [7]])
    assert list_lengths(lists).tolist() == [2, 0, 1]
    assert flatten_ids(lists).tolist() == [3, 1, 7]


def test_empty_series():
    assert list_lengths(pd.Series([], dtype=object)).size == 0
    assert flatten_ids(pd.Series([], dtype=object)).dtype == np.int64


def test_explode_ranked_numbers_each_list_from_one():
    frame = pd.DataFrame({"request_id": ["a", "b", "c"], "ids": [[5, 6], [], [7, 8, 9]]})
    exploded = explode_ranked(frame, "ids", keep=["request_id"])
    assert exploded["request_id"].tolist() == ["a", "a", "c", "c", "c"]
    assert exploded["book_id"].tolist() == [5, 6, 7, 8, 9]
    assert exploded["rank"].tolist() == [1, 2, 1, 2, 3]


def test_explode_ranked_empty():
    frame = pd.DataFrame({"request_id": pd.Series([], dtype="str"), "ids": pd.Series([], dtype=object)})
    exploded = explode_ranked(frame, "ids", keep=["request_id"])
    assert list(exploded.columns) == ["request_id", "book_id", "rank"]
    assert exploded.empty
