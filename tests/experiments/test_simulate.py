"""experiments.simulate: who the simulated readers are, how they behave, and how failures show.

The behaviour against a real backend is checked end to end in
``tests/test_simulation_ground_truth.py``; here an httpx mock transport plays a backend that
answers what a test needs, including the refusals a real one gives.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from experiments import pipeline
from experiments.simulate import (
    Pacer,
    Plan,
    Reader,
    SimulationSettings,
    load_readers,
    main,
    plan_readers,
    run_simulation,
    simulate,
)
from readcrumbs.errors import DataError, ServiceUnavailable
from readcrumbs.settings import Settings
from tests.experiments.conftest import assert_one_error_line
from tests.tiny_goodbooks import write_tiny_goodbooks


def ratings_of(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "book_id", "rating"]).astype("int64")


RATINGS = ratings_of(
    [(1, b, 5) for b in range(10, 18)]  # user 1: 8 likes
    + [(1, 90, 1), (1, 91, 2), (1, 92, 3)]  # two dislikes, one neutral
    + [(2, b, 4) for b in range(20, 25)]  # user 2: 5 likes, too few for 3 + 3
    + [(3, b, 5) for b in range(30, 40)]  # user 3: not held out
    + [(1, 10, 1)]  # a duplicate rating: the highest (5) wins
)


def test_readers_are_held_out_users_with_enough_likes_and_seeded():
    plan = Plan(readers=5, favourites=3, more=3, seed=1)
    readers = plan_readers(RATINGS, np.array([1, 2]), plan, like_threshold=4, run="r")
    assert [reader.userid for reader in readers] == ["sim-r-1"]
    reader = readers[0]
    assert sorted(reader.favourites) == list(range(10, 18))  # every like once, in a seeded order
    assert reader.liked == frozenset(range(10, 18)) and reader.disliked == frozenset({90, 91})
    again = plan_readers(RATINGS, np.array([1, 2]), plan, like_threshold=4, run="r")
    assert again == readers
    other = plan_readers(RATINGS, np.array([1, 2]), Plan(readers=5, seed=2), like_threshold=4, run="r")
    assert other[0].favourites != reader.favourites or other[0].returns != reader.returns


def shelf(userid: str = "ann", returns: bool = True) -> Reader:
    """Likes 1-6 (sent) and 11, dislikes 12; returns unless told otherwise."""
    return Reader(userid, (1, 2, 3, 4, 5, 6), frozenset({1, 2, 3, 4, 5, 6, 11}), frozenset({12}), returns)


class Backend:
    """A mock transport that answers /predict with fixed books and records every call."""

    def __init__(self, predict_status: int = 200, feedback_status: int = 200) -> None:
        self.predict_status = predict_status
        self.feedback_status = feedback_status
        self.calls: list[tuple[str, dict[str, object]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.calls.append((request.url.path, body))
        if request.url.path == "/ready":
            return httpx.Response(200, json={"status": "ready", "model": {"version": "7"}})
        if request.url.path == "/predict":
            if self.predict_status != 200:
                return httpx.Response(self.predict_status, json={"detail": "no"})
            books = [{"book_id": book} for book in (10, 11, 12, 13)]
            return httpx.Response(
                200, json={"books": books, "request_id": f"req-{len(self.calls)}", "model_version": "7"}
            )
        return httpx.Response(self.feedback_status, json={"status": "ok"})


PLAN = Plan()


def run(backend: Backend, readers: list[Reader], plan: Plan = PLAN):
    async def go():
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(backend), base_url="http://backend"
        ) as client:
            return await simulate(
                client, readers, plan, rate=10_000, concurrency=2, return_after_s=0.0, progress=False
            )

    return asyncio.run(go())


def test_a_reader_votes_on_what_they_rated_and_returns_with_more_favourites():
    backend = Backend()
    visits, counters = run(backend, [shelf()])
    assert counters.failed_predictions == 0 and counters.refused_votes == 0
    first, later = sorted(visits, key=lambda visit: visit.number)
    assert first.sent == (1, 2, 3) and later.sent == (1, 2, 3, 4, 5, 6)
    assert first.votes == ((11, 1), (12, -1))  # 10 and 13 were never rated: no vote
    assert first.arm == "production" and first.model_version == "7" and first.shown == (10, 11, 12, 13)
    votes = [body for path, body in backend.calls if path == "/feedback"]
    assert votes[0] == {
        "userid": "ann",
        "request_id": first.request_id,
        "book_id": 11,
        "position": 1,
        "feedback": 1,
    }
    assert votes[1]["position"] == 2 and votes[1]["feedback"] == -1


def test_the_arm_comes_from_the_answer():
    class Challenger(Backend):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            answer = super().__call__(request)
            if request.url.path == "/predict":
                return httpx.Response(200, json={**json.loads(answer.content), "arm": "challenger"})
            return answer

    visits, _ = run(Challenger(), [shelf(returns=False)])
    assert [visit.arm for visit in visits] == ["challenger"]


def test_a_refused_prediction_stops_that_reader_only_and_is_counted():
    visits, counters = run(Backend(predict_status=422), [shelf("ann"), shelf("bob")])
    assert visits == [] and counters.failed_predictions == 2


def test_a_server_error_stops_the_reader():
    visits, counters = run(Backend(predict_status=503), [shelf()])
    assert visits == [] and counters.failed_predictions == 1


def test_refused_votes_are_counted_and_left_out_of_the_ground_truth():
    visits, counters = run(Backend(feedback_status=409), [shelf(returns=False)])
    assert counters.refused_votes == 2 and visits[0].votes == ()


def test_the_pacer_spaces_calls_by_the_rate():
    async def go() -> float:
        pacer = Pacer(rate=50.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(6):
            await pacer.wait()
        return loop.time() - started

    # Six calls at 50/s: the sixth waits for its slot 5 x 20 ms after the first.
    assert asyncio.run(go()) >= 0.09


def test_an_unreachable_backend_is_one_clear_error():
    with pytest.raises(ServiceUnavailable, match="does not answer"):
        asyncio.run(
            run_simulation("http://127.0.0.1:9", [shelf()], Plan(), rate=10, concurrency=1, return_after_s=0)
        )


@pytest.fixture
def trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The real pipeline trained on tiny goodbooks: a production model and its stored dataset."""
    write_tiny_goodbooks(tmp_path / "goodbooks")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        home=tmp_path / "home",
        data_source=str(tmp_path / "goodbooks"),
    )
    assert pipeline.main(["--models", "popularity"], settings=settings) == 0
    return settings


def test_readers_come_from_the_production_data_version(trained: Settings):
    readers, data_version = load_readers(trained, Plan(readers=100), run="x")
    assert len(readers) == 10  # every eighth of the 80 tiny users is held out
    assert all(reader.userid.startswith("sim-x-") for reader in readers)
    assert all(reader.disliked for reader in readers)  # tiny readers rate 3 books 1-2
    assert len(data_version) == 12


def test_ratings_that_do_not_hold_the_held_out_readers_are_refused(trained: Settings, tmp_path: Path):
    other = tmp_path / "other"
    write_tiny_goodbooks(other)
    ratings = (other / "ratings.csv").read_text().splitlines()
    shifted = [ratings[0]] + [
        f"{int(line.split(',')[0]) + 1000},{line.split(',', 1)[1]}" for line in ratings[1:]
    ]
    (other / "ratings.csv").write_text("\n".join(shifted) + "\n")
    settings = trained.model_copy(update={"data_source": str(other)})
    with pytest.raises(DataError, match="hold none of data version"):
        load_readers(settings, Plan(), run="x")


def test_the_command_line_reports_an_unreachable_backend_in_one_line(trained: Settings, capsys):
    settings = SimulationSettings(**trained.model_dump(), api_url="http://127.0.0.1:9")
    assert main(["--readers", "2", "--quiet"], settings=settings) == 2
    assert_one_error_line(capsys.readouterr().err, "does not answer")


def test_bad_settings_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setenv("READCRUMBS_API_URL", "ftp://nowhere")
    assert main(["--readers", "1"]) == 2
    assert_one_error_line(capsys.readouterr().err, "READCRUMBS_API_URL must start with http")


@pytest.mark.parametrize("argument", [["--readers", "0"], ["--rate", "0"], ["--return-share", "1.5"]])
def test_bad_arguments_are_refused(argument: list[str]):
    with pytest.raises(SystemExit):
        main(argument)
