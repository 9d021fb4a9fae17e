"""Types of the C kernel readcrumbs/_item_weights.c."""

import numpy as np

def rank(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    books: np.ndarray,
    signal: np.ndarray,
    hidden: np.ndarray,
    k: int,
    names: np.ndarray | None,
    /,
) -> list[tuple[int, float, list[int]]] | None: ...
