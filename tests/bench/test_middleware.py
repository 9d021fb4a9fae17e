"""bench.middleware: every stack is measured and answers like the bare app."""

from __future__ import annotations

from bench.middleware import STACKS, measure


def test_every_stack_is_measured():
    results = measure(calls=20, repeats=1)
    assert set(results) == set(STACKS) and all(micros > 0 for micros in results.values())
