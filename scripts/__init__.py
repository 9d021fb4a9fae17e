"""Operational entry points run from a checkout: `make run`, the compose trainer, `make aws-bootstrap`."""
