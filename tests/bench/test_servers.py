"""bench/servers.py: what the benches read of a server process."""

from __future__ import annotations

import os
import threading
import time

from bench.servers import cpu_seconds, memory_mib


def test_cpu_seconds_counts_the_work_of_a_process_and_adds_processes():
    before = cpu_seconds([os.getpid()])
    started = time.process_time()
    while time.process_time() - started < 0.2:  # 0.2 s of this process's CPU
        sum(range(1000))
    used = cpu_seconds([os.getpid()]) - before
    assert 0.15 <= used <= 0.5  # clock ticks are 10 ms
    assert cpu_seconds([os.getpid(), os.getpid()]) >= 2 * (before + 0.15)
    # This test runs on the main thread, so its work is the main thread's too.
    assert cpu_seconds([os.getpid()], main_thread_only=True) >= 0.15


def test_main_thread_only_leaves_out_the_other_threads():
    def spin() -> None:
        started = time.thread_time()
        while time.thread_time() - started < 0.3:
            sum(range(1000))

    main_before = cpu_seconds([os.getpid()], main_thread_only=True)
    all_before = cpu_seconds([os.getpid()])
    worker = threading.Thread(target=spin)
    worker.start()
    worker.join()
    assert cpu_seconds([os.getpid()]) - all_before >= 0.25
    assert cpu_seconds([os.getpid()], main_thread_only=True) - main_before < 0.1


def test_memory_mib_reads_the_resident_set_and_its_peak():
    memory = memory_mib(os.getpid())
    assert 1 < memory["rss_mib"] <= memory["peak_rss_mib"]
