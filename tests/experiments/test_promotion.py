"""The one promotion path: offline gate, online gate from the event store, aliases afterwards."""

from __future__ import annotations

import pytest

from experiments.promotion import OnlineGate, experiment_predictions, promote, submit_challenger
from readcrumbs.errors import PromotionRefused
from readcrumbs.events.memory import MemoryEventStore
from readcrumbs.events.records import FeedbackRecord, PredictionRecord
from readcrumbs.registry import CHALLENGER, PRODUCTION, Registry, open_registry
from readcrumbs.settings import Settings
from tests.experiments.test_registry_cli import NAME, register


def _ts(second: int) -> str:
    # After the versions are registered (now): the experiment starts at registration.
    return f"2099-11-28T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


def _traffic(
    store: MemoryEventStore, arm: str, version: int, readers: int, likes: int, hit: bool, first: int
) -> None:
    """``readers`` readers of one arm: a first visit with ``likes`` of 10 shown books liked, and a
    return visit naming one new favourite (shown on the first visit when ``hit``)."""
    predictions, feedback = [], []
    for n in range(readers):
        userid, shown = f"{arm}-{n}", list(range(100, 110))
        for visit, items in enumerate(([1, 2, 3], [1, 2, 3, 100 if hit else 999])):
            request_id = f"{arm}-{first}-{n}-{visit}"
            predictions.append(
                PredictionRecord(
                    request_id=request_id,
                    ts=_ts(first + 2 * n + visit),
                    userid=userid,
                    items=[str(i) for i in items],
                    item_ids=items,
                    prediction=[f"b{b}" for b in shown],
                    prediction_ids=shown,
                    scores=[1.0] * 10,
                    latency_ms=2.0,
                    model_version=str(version),
                    arm=arm,  # type: ignore[arg-type]
                )
            )
        feedback += [
            FeedbackRecord(
                f"fb-{arm}-{first}-{n}-{b}",
                _ts(first + 2 * n),
                userid,
                f"{arm}-{first}-{n}-0",
                b,
                f"b{b}",
                b - 100,
                1,
            )
            for b in shown[: likes + n % 2]
        ]
    store.write_predictions(predictions)
    store.write_feedback(feedback)


@pytest.fixture
def registry_with_challenger(settings: Settings) -> Registry:
    registry = open_registry(settings)
    first, second = register(registry, 0.2, 1.0), register(registry, 0.3, 2.0)
    registry.promote(NAME, first)
    submit_challenger(settings, registry, second)
    return registry


def test_a_better_challenger_passes_the_online_gate_and_stops_being_challenger(
    settings, registry_with_challenger
):
    store = MemoryEventStore()
    _traffic(store, "production", 1, 60, likes=1, hit=False, first=0)
    _traffic(store, "challenger", 2, 60, likes=4, hit=True, first=1)
    message = promote(settings, registry_with_challenger, 2, online=OnlineGate(store, min_readers=50))
    assert "now production" in message and "online: not worse" in message and "challenger cleared" in message
    assert registry_with_challenger.alias(NAME, PRODUCTION) == 2
    assert registry_with_challenger.alias(NAME, CHALLENGER) is None


def test_a_worse_challenger_is_refused_and_nothing_moves(settings, registry_with_challenger):
    store = MemoryEventStore()
    _traffic(store, "production", 1, 60, likes=4, hit=True, first=0)
    _traffic(store, "challenger", 2, 60, likes=1, hit=False, first=1)
    with pytest.raises(PromotionRefused, match="may be worse"):
        promote(settings, registry_with_challenger, 2, online=OnlineGate(store, min_readers=50))
    assert registry_with_challenger.alias(NAME, PRODUCTION) == 1
    assert registry_with_challenger.alias(NAME, CHALLENGER) == 2


def test_too_few_readers_is_refused_even_when_forced_past_the_offline_gate(
    settings, registry_with_challenger
):
    store = MemoryEventStore()
    _traffic(store, "production", 1, 10, likes=1, hit=False, first=0)
    _traffic(store, "challenger", 2, 10, likes=4, hit=True, first=1)
    with pytest.raises(PromotionRefused, match="needs 50 on each arm"):
        promote(settings, registry_with_challenger, 2, force=True, online=OnlineGate(store, min_readers=50))
    assert registry_with_challenger.alias(NAME, PRODUCTION) == 1


def test_without_online_the_offline_gate_alone_decides(settings, registry_with_challenger):
    assert "now production" in promote(settings, registry_with_challenger, 2)
    with pytest.raises(PromotionRefused, match="does not beat"):
        promote(settings, registry_with_challenger, 1)


def test_the_experiment_starts_with_the_challengers_first_answer_and_keeps_each_arms_version():
    store = MemoryEventStore()
    _traffic(store, "production", 1, 3, likes=1, hit=False, first=0)  # before the challenger
    _traffic(store, "challenger", 3, 2, likes=1, hit=False, first=100)  # an earlier experiment
    _traffic(store, "production", 1, 2, likes=1, hit=False, first=200)
    _traffic(store, "challenger", 2, 2, likes=1, hit=False, first=201)
    kept = experiment_predictions(store.predictions(), production=1, challenger=2)
    assert {(p.arm, p.model_version) for p in kept} == {("production", "1"), ("challenger", "2")}
    # From 201 on: challenger v2's 4 answers, production's at 201 (reader 0's return), 202 and 203.
    assert min(p.ts for p in kept) == _ts(201) and len(kept) == 7
    assert experiment_predictions(store.predictions(), production=1, challenger=9) == []
    # From the challenger's registration on: production's answers at 200 count too.
    since = experiment_predictions(store.predictions(), production=1, challenger=2, since=_ts(150))
    assert min(p.ts for p in since) == _ts(200) and len(since) == 8
