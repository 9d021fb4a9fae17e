"""Training side of ReadCrumbs: data, training, evaluation, tracking and the registry CLI."""
