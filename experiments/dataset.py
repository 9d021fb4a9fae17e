"""Moved to :mod:`readcrumbs.dataset` (the shared package: several parts read this format).

Kept so that code importing ``experiments.dataset`` keeps working; import from
``readcrumbs.dataset`` in new code.
"""

from readcrumbs.dataset import CATALOGUE_COLUMNS, Dataset, dataset_exists, load_dataset, save_dataset

__all__ = ["CATALOGUE_COLUMNS", "Dataset", "dataset_exists", "load_dataset", "save_dataset"]
