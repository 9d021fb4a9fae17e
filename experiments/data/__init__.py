"""The data stage: goodbooks-10k files → validated, versioned likes, catalogue and held-out users.

``python -m experiments.data`` runs it from the command line; :func:`prepare_dataset` is what the
training pipeline calls. The result is an :class:`readcrumbs.dataset.Dataset`.
"""

from experiments.data.prepare import prepare_dataset

__all__ = ["prepare_dataset"]
