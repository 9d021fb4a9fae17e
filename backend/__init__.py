"""The ReadCrumbs HTTP API (FastAPI)."""
