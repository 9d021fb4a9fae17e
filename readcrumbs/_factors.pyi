"""Types of the C kernel readcrumbs/_factors.c."""

import numpy as np

def dot_rows(
    factors: np.ndarray, reader: np.ndarray, rows: np.ndarray | None, out: np.ndarray, /
) -> None: ...
def score_bounds(
    codes: np.ndarray, bounds: np.ndarray, reader: np.ndarray, lower: np.ndarray, upper: np.ndarray, /
) -> bool: ...
def fold_in(
    solved: np.ndarray,
    factors: np.ndarray,
    books: np.ndarray,
    signal: np.ndarray,
    alpha: float,
    weights: np.ndarray,
    reader: np.ndarray,
    /,
) -> bool: ...
def explain(
    solved: np.ndarray,
    factors: np.ndarray,
    books: np.ndarray,
    weights: np.ndarray,
    shown: np.ndarray,
    out: np.ndarray,
    /,
) -> None: ...
def encode(factors: np.ndarray, codes: np.ndarray, bounds: np.ndarray, /) -> None: ...
def rank(
    codes: np.ndarray,
    bounds: np.ndarray,
    factors: np.ndarray,
    solved: np.ndarray,
    books: np.ndarray,
    signal: np.ndarray,
    hidden: np.ndarray,
    k: int,
    alpha: float,
    names: np.ndarray | None,
    /,
) -> list[tuple[int, float, list[int]]] | None: ...
