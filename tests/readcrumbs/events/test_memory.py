"""What only the in-memory store promises: thread safety and a uniform random pick."""

from __future__ import annotations

import random
import threading

from readcrumbs.events.memory import MemoryEventStore
from tests.readcrumbs.events.conftest import make_feedback, make_prediction


def test_concurrent_writers_and_readers_lose_nothing() -> None:
    store = MemoryEventStore()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for batch in range(20):
                first = worker * 1000 + batch * 5
                store.write_predictions([make_prediction(n) for n in range(first, first + 5)])
                store.write_feedback([make_feedback(first)])
                store.random_prediction()
                store.get_prediction(f"req-{first:04d}")
        except BaseException as exc:  # collected: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    got = store.predictions()
    assert len(got) == 8 * 20 * 5
    assert [(r.ts, r.request_id) for r in got] == sorted((r.ts, r.request_id) for r in got)
    assert len(store.feedback()) == 8 * 20


def test_frames_do_not_share_lists_with_the_store() -> None:
    store = MemoryEventStore()
    store.write_predictions([make_prediction(1)])
    store.predictions_frame()["items"].iloc[0].append("changed through a frame")
    assert store.predictions()[0].items == make_prediction(1).items


def test_random_prediction_reaches_every_record() -> None:
    store = MemoryEventStore(rng=random.Random(11))
    predictions = [make_prediction(n) for n in range(5)]
    store.write_predictions(predictions)
    drawn = [store.random_prediction() for _ in range(200)]
    assert {r.request_id for r in drawn if r is not None} == {r.request_id for r in predictions}
