"""How a server process runs Python: the GIL's switch interval and the garbage collector.

Set by ``python -m backend`` in its one process, or in each worker process with ``--workers N``
(:func:`backend.main.create_app_from_env`); tests and tools that build the app keep Python's
defaults.

- The event loop shares the GIL with the CPU pool's threads (:mod:`backend.offload`) and the event
  writer. Python hands the GIL over every 5 ms by default, so a request waiting on the loop could
  wait that long per turn; 1 ms keeps /health and exact-match requests prompt while fuzzy
  resolution runs beside them.
- A loaded model and its catalogue are about 100,000 long-lived Python objects. Each full pass of
  the cyclic garbage collector walks all of them: about 70 ms with the event loop stopped, which
  made most of /predict's p99 under load. Once a model is swapped in, :func:`settle_heap`
  collects once and freezes what is left (``gc.freeze``), so later passes skip it. The old
  model's garbage is collected at the next swap's settle, which costs that one 70 ms pass.
"""

from __future__ import annotations

import gc
import sys

GIL_SWITCH_INTERVAL_S = 0.001

_freeze_after_swaps = False


def tune_server_process() -> None:
    """Give this process the server's GIL interval and freeze its heap after each model swap."""
    global _freeze_after_swaps
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    _freeze_after_swaps = True


def settle_heap() -> None:
    """After a model swap: collect the previous model's garbage, then freeze every object left.

    Does nothing outside a tuned server process: a test suite that froze its heap at each of its
    hundreds of model loads would keep every later cycle of garbage it made before that load.
    """
    if _freeze_after_swaps:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
