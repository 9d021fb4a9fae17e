"""The records' clock and ids: the text every store sorts by, and ids no two requests share."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from readcrumbs.events.records import iso_from_ns, new_id, to_iso, utc_now_iso

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_nanoseconds_read_as_to_iso_reads_the_same_instant() -> None:
    rng = random.Random(3)
    instants = [rng.randrange(0, 4_102_444_800 * 10**9) for _ in range(5_000)]
    # The edges of a second and of a millisecond, where truncation and the cached second meet.
    instants += [10**9 * 1_790_000_000 + extra for extra in (0, 999_999, 1_000_000, 999_999_999)]
    for ns in sorted(instants) + instants:  # in order (the cache reused) and shuffled (refilled)
        assert iso_from_ns(ns) == to_iso(EPOCH + timedelta(microseconds=ns // 1000))


def test_now_is_now_in_the_records_form() -> None:
    before = time.time_ns()
    text = utc_now_iso()
    after = time.time_ns()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text)
    assert iso_from_ns(before) <= text <= iso_from_ns(after)


def test_ids_are_128_random_bits_in_hex_and_never_repeat() -> None:
    ids = [new_id() for _ in range(20_000)]  # many pools of 256
    assert all(re.fullmatch(r"[0-9a-f]{32}", one) for one in ids)
    assert len(set(ids)) == len(ids)


def test_threads_drawing_ids_at_once_never_share_one() -> None:
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(into: list[str]) -> None:
        for _ in range(5_000):
            into.append(new_id())

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [one for into in drawn for one in into]
    assert len(set(every)) == len(every) == 40_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_draws_ids_of_its_own() -> None:
    new_id()  # the parent's pool now holds 255 more ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.close(read)
        os.write(write, "".join(new_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = "".join(new_id() for _ in range(3))
    assert len(child) == 96 and child != parent
    assert not {child[i : i + 32] for i in range(0, 96, 32)} & {parent[i : i + 32] for i in range(0, 96, 32)}
