"""Champion and challenger: the reader's stable draw, the route of a request, the labelled record."""

from __future__ import annotations

import pytest

from backend.arms import label_record, reader_draw, reload_challenger, route, shadow_prediction
from backend.schemas import PredictRequest
from backend.serving import ModelHolder
from readcrumbs.errors import ModelNotReady
from readcrumbs.registry import CHALLENGER
from tests.backend.test_serving import corrupt
from tests.backend.tiny import MODEL_NAME
from tests.readcrumbs.events.conftest import make_prediction


@pytest.fixture
def holders(registry):
    """Production v1 and challenger v2, both loaded."""
    registry.set_alias(MODEL_NAME, CHALLENGER, 2)
    production = ModelHolder(registry, MODEL_NAME)
    challenger = ModelHolder(registry, MODEL_NAME, alias=CHALLENGER)
    production.reload()
    challenger.reload()
    return production, challenger


def test_a_readers_draw_is_fixed_and_spread_evenly():
    assert reader_draw("reader-42") == reader_draw("reader-42")
    draws = [reader_draw(f"reader-{n}") for n in range(4000)]
    assert all(0.0 <= draw < 1.0 for draw in draws)
    below = sum(draw < 0.25 for draw in draws) / len(draws)
    assert 0.22 < below < 0.28  # binomial sd 0.007: a biased hash lands far outside


def test_split_sends_the_share_to_the_challenger_and_a_reader_always_to_the_same_arm(holders):
    production, challenger = holders
    arms = {f"u{n}": route(production, challenger, f"u{n}", 0.3, "split").arm for n in range(300)}
    assert set(arms.values()) == {"production", "challenger"}
    for userid, arm in arms.items():
        again = route(production, challenger, userid, 0.3, "split")
        assert again.arm == arm and again.shadow is None
        assert again.shown.version == ("2" if arm == "challenger" else "1")
        assert (arm == "challenger") == (reader_draw(userid) < 0.3)


@pytest.mark.parametrize(("share", "arm"), [(0.0, "production"), (1.0, "challenger")])
def test_share_zero_and_one(holders, share, arm):
    production, challenger = holders
    assert {route(production, challenger, f"u{n}", share, "split").arm for n in range(50)} == {arm}


def test_shadow_shows_production_and_scores_with_the_challenger(holders):
    production, challenger = holders
    chosen = route(production, challenger, "u1", 0.0, "shadow")
    assert chosen.arm == "shadow" and chosen.response_arm == "production"
    assert chosen.shown.version == "1" and chosen.shadow is not None and chosen.shadow.version == "2"


def test_without_a_challenger_production_answers_everyone(registry):
    production, challenger = (
        ModelHolder(registry, MODEL_NAME),
        ModelHolder(registry, MODEL_NAME, alias=CHALLENGER),
    )
    production.reload()
    for mode in ("split", "shadow"):
        chosen = route(production, challenger, "u1", 1.0, mode)
        assert (chosen.arm, chosen.shown.version, chosen.shadow) == ("production", "1", None)


def test_a_challenger_that_is_production_is_not_a_second_arm(registry):
    registry.set_alias(MODEL_NAME, CHALLENGER, 1)
    production, challenger = (
        ModelHolder(registry, MODEL_NAME),
        ModelHolder(registry, MODEL_NAME, alias=CHALLENGER),
    )
    production.reload()
    challenger.reload()
    assert route(production, challenger, "u1", 1.0, "split").arm == "production"


def test_no_route_before_production_is_loaded(holders, registry):
    _, challenger = holders
    with pytest.raises(ModelNotReady):
        route(ModelHolder(registry, MODEL_NAME), challenger, "u1", 1.0, "split")


def test_label_record_keeps_the_challengers_list_in_the_shadow_fields():
    record, shadow = make_prediction(0), make_prediction(1, model_version="2", arm="production")
    labelled = label_record(record, "shadow", shadow)
    assert labelled.arm == "shadow" and labelled.shadow_version == "2"
    assert labelled.shadow_prediction_ids == shadow.prediction_ids and labelled.shadow_scores == shadow.scores
    assert labelled.prediction_ids == record.prediction_ids
    assert label_record(record, "challenger", None).arm == "challenger"
    assert label_record(record, "production", None) is record


def test_a_challenger_that_cannot_answer_leaves_no_shadow(holders):
    _, challenger = holders
    request = PredictRequest(items=["Emma"], userid="u1")
    shadow = shadow_prediction(challenger.current(), request)
    assert shadow is not None and shadow.model_version == "2" and shadow.prediction_ids
    assert shadow_prediction(None, request) is None
    assert (
        shadow_prediction(challenger.current(), PredictRequest(items=["No such book at all"], userid="u"))
        is None
    )


def test_clearing_the_challenger_alias_stops_serving_it_and_a_rollback_brings_it_back(holders, registry):
    production, challenger = holders
    assert registry.clear_alias(MODEL_NAME, CHALLENGER) == 2
    assert reload_challenger(challenger) == ("cleared", None)
    assert route(production, challenger, "u1", 1.0, "split").arm == "production"
    assert reload_challenger(challenger) == ("none", None)
    assert registry.rollback(MODEL_NAME, CHALLENGER) == 2
    assert reload_challenger(challenger) == ("loaded", "2")


def test_a_corrupt_challenger_is_refused_and_production_serves_on(registry):
    corrupt(registry, 2)
    registry.set_alias(MODEL_NAME, CHALLENGER, 2)
    production, challenger = (
        ModelHolder(registry, MODEL_NAME),
        ModelHolder(registry, MODEL_NAME, alias=CHALLENGER),
    )
    production.reload()
    assert reload_challenger(challenger) == ("refused", None)
    assert route(production, challenger, "u1", 1.0, "split").arm == "production"
