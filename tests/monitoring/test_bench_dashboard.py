"""The dashboard benchmark (bench/dashboard.py) on a few hundred predictions."""

from pathlib import Path

from bench.dashboard import MODEL, generate, time_dashboard
from monitoring.models import load_registry_view
from monitoring.windows import Window
from readcrumbs.events.sqlite import SqliteEventStore


def test_generated_store_and_registry_feed_every_metric(tmp_path: Path):
    generate(tmp_path, n=400, feedback_share=0.5, seed=1)
    store = SqliteEventStore(tmp_path / "events.db")
    assert len(store.predictions_frame(columns=["ts"])) == 400
    assert len(store.feedback_frame()) > 100
    store.close()
    view = load_registry_view(f"file://{tmp_path / 'registry'}", MODEL)
    assert view.production == 3 and view.catalogue is not None
    timings = time_dashboard(tmp_path, Window(None, None), sample_size=100)
    assert timings["predictions"] == 400 and timings["recent"] == 100
    assert timings["total_s"] > 0
