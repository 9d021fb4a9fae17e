"""Simulated readers: readers the models never trained on use the real HTTP API.

    python -m experiments.simulate --readers 500 --rate 60

Readers are the held-out evaluation users of the production model's data version (read from
the artifact store, as the experiments read it), with their real ratings from the data source.
Each reader, over HTTP at ``READCRUMBS_API_URL``:

1. sends ``--favourites`` of their liked books (rating ≥ the like threshold, in a seeded random
   order) to ``/predict`` as book_ids and receives ``--k`` recommendations;
2. sends 👍 (``/feedback`` with ``request_id``, ``book_id``, ``position``) for every recommended
   book they really liked and 👎 for every one they rated ≤ ``--dislike-max`` (2);
3. with probability ``--return-share``, comes back after a short pause with ``--more`` more of
   their liked books added to the first ones, and rates that answer the same way — so
   Recall@K of later favourites has something to measure.

It is seeded (which readers, their books, who returns), bounded in readers and in requests per
second (``--rate``, every HTTP call counts), runs ``--concurrency`` readers at a time with a
progress bar, and prints the ground truth computed from what it sent and received alone
(:mod:`experiments.ground_truth`), per model version and arm (``arm`` from the response;
``production`` when the backend does not say). Exit 0, or 2 with one line when the backend,
registry or data cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator
from tqdm import tqdm

from experiments.data.source import read_source
from experiments.data.validate import keep_highest
from experiments.ground_truth import Visit, format_truth, ground_truth
from readcrumbs.dataset import load_dataset
from readcrumbs.errors import DataError, ReadCrumbsError, RequestRejected, ServiceError, ServiceUnavailable
from readcrumbs.registry import PRODUCTION, open_registry
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

DISLIKE_MAX = 2


class SimulationSettings(Settings):
    """The shared settings plus where the backend's HTTP API is."""

    api_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL of the backend's HTTP API the simulated readers use."
    )

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"READCRUMBS_API_URL must start with http:// or https://, got {url!r}")
        return url.rstrip("/")


@dataclass(frozen=True)
class Reader:
    """One simulated reader: the liked books they name, in order, and what they think of books.

    ``favourites`` (book_ids) are named first ``first`` at a time, then ``more`` on a return;
    ``liked`` and ``disliked`` are every book they rated ≥ the like threshold / ≤ 2.
    """

    userid: str
    favourites: tuple[int, ...]
    liked: frozenset[int]
    disliked: frozenset[int]
    returns: bool


@dataclass(frozen=True)
class Plan:
    """How readers behave (see the module docstring)."""

    readers: int = 500
    favourites: int = 3
    more: int = 3
    return_share: float = 0.5
    k: int = 10
    seed: int = 42


def plan_readers(
    ratings: pd.DataFrame, heldout_users: np.ndarray, plan: Plan, like_threshold: int, run: str
) -> list[Reader]:
    """Draw ``plan.readers`` held-out users (seeded) who liked enough books to name.

    ``ratings``: user_id, book_id, rating (int64). Readers are named ``sim-<run>-<user_id>``, so
    separate runs never pass for the same reader. Fewer readers come back when fewer are eligible.
    """
    rng = np.random.default_rng(plan.seed)
    mine, _ = keep_highest(ratings[ratings["user_id"].isin(heldout_users)], ("user_id", "book_id"), "rating")
    needed = plan.favourites + plan.more
    liked = mine[mine["rating"] >= like_threshold].groupby("user_id")["book_id"].apply(sorted)
    disliked = mine[mine["rating"] <= DISLIKE_MAX].groupby("user_id")["book_id"].apply(set)
    eligible = np.sort(liked.index[liked.map(len) >= needed].to_numpy(dtype=np.int64))
    chosen = rng.choice(eligible, size=min(plan.readers, len(eligible)), replace=False)
    readers = []
    for user_id in chosen:
        books = np.array(liked[user_id], dtype=np.int64)
        order = tuple(int(book) for book in rng.permutation(books))
        readers.append(
            Reader(
                userid=f"sim-{run}-{int(user_id)}",
                favourites=order,
                liked=frozenset(order),
                disliked=frozenset(int(book) for book in disliked.get(user_id, set())),
                returns=bool(rng.random() < plan.return_share),
            )
        )
    return readers


def load_readers(settings: Settings, plan: Plan, run: str) -> tuple[list[Reader], str]:
    """The readers of the production model's data version, and that data version."""
    registry = open_registry(settings)
    manifest = registry.resolve(settings.model_name, PRODUCTION)
    dataset = load_dataset(registry.store, manifest.data_version)
    # The stored dataset keeps likes only; the dislikes come from the source's ratings.
    ratings = read_source(settings.data_source, settings.home / "downloads").ratings
    heldout = dataset.heldout_users
    known = set(dataset.interactions.loc[dataset.interactions["user_id"].isin(heldout), "user_id"])
    if not known & set(ratings["user_id"].unique()):
        raise DataError(
            f"the ratings at {settings.data_source} hold none of data version {manifest.data_version}'s "
            "held-out readers: point READCRUMBS_DATA_SOURCE at the data that version was built from"
        )
    return plan_readers(ratings, heldout, plan, settings.like_threshold, run), manifest.data_version


class Pacer:
    """At most ``rate`` calls per second over all readers: call *i* waits for ``start + i / rate``."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_slot = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            slot = max(self.next_slot, now)
            self.next_slot = slot + self.interval
        await asyncio.sleep(max(0.0, slot - time.monotonic()))


@dataclass
class Counters:
    """HTTP calls that did not go as a reader expects."""

    failed_predictions: int = 0
    refused_votes: int = 0


async def visit(
    client: httpx.AsyncClient,
    pacer: Pacer,
    counters: Counters,
    reader: Reader,
    number: int,
    sent: tuple[int, ...],
    k: int,
) -> Visit:
    """One ``/predict`` and the reader's votes on its answer."""
    await pacer.wait()
    started = time.perf_counter()
    answer = await client.post("/predict", json={"items": list(sent), "userid": reader.userid, "k": k})
    latency_ms = (time.perf_counter() - started) * 1000
    if answer.status_code >= 500:
        raise ServiceUnavailable(f"/predict answered {answer.status_code}: {answer.text[:200]}")
    if answer.status_code != 200:
        raise RequestRejected(
            f"/predict answered {answer.status_code}: {answer.text[:200]}", status=answer.status_code
        )
    body = answer.json()
    shown = tuple(int(book["book_id"]) for book in body["books"])
    votes = []
    for position, book in enumerate(shown):
        value = 1 if book in reader.liked else -1 if book in reader.disliked else 0
        if value == 0:
            continue
        await pacer.wait()
        response = await client.post(
            "/feedback",
            json={
                "userid": reader.userid,
                "request_id": body["request_id"],
                "book_id": book,
                "position": position,
                "feedback": value,
            },
        )
        if response.status_code in (200, 201):
            votes.append((book, value))
        else:
            counters.refused_votes += 1
            log.warning("/feedback answered %s: %s", response.status_code, response.text[:200])
    return Visit(
        userid=reader.userid,
        number=number,
        sent=sent,
        request_id=str(body["request_id"]),
        model_version=str(body["model_version"]),
        arm=str(body.get("arm") or PRODUCTION),
        shown=shown,
        votes=tuple(votes),
        latency_ms=latency_ms,
    )


async def simulate(
    client: httpx.AsyncClient,
    readers: Sequence[Reader],
    plan: Plan,
    *,
    rate: float,
    concurrency: int,
    return_after_s: float = 1.0,
    progress: bool = True,
) -> tuple[list[Visit], Counters]:
    """Run every reader against ``client``'s backend; the answered visits, oldest first per reader."""
    pacer = Pacer(rate)
    slots = asyncio.Semaphore(concurrency)
    counters = Counters()
    visits: list[Visit] = []
    rng = np.random.default_rng(plan.seed + 1)
    pauses = rng.uniform(0.0, return_after_s, size=len(readers))
    bar = tqdm(total=len(readers), unit="reader", disable=not progress, desc="simulated readers")

    async def one(reader: Reader, pause_s: float) -> None:
        try:
            async with slots:
                first = reader.favourites[: plan.favourites]
                visits.append(await visit(client, pacer, counters, reader, 1, first, plan.k))
            if reader.returns:
                await asyncio.sleep(pause_s)  # a later session, not the same click
                async with slots:
                    later = reader.favourites[: plan.favourites + plan.more]
                    visits.append(await visit(client, pacer, counters, reader, 2, later, plan.k))
        except (ServiceError, httpx.HTTPError) as exc:
            counters.failed_predictions += 1
            log.warning("reader %s stopped: %s", reader.userid, exc)
        finally:
            bar.update(1)

    try:
        await asyncio.gather(*(one(reader, pause) for reader, pause in zip(readers, pauses, strict=True)))
    finally:
        bar.close()
    return visits, counters


async def check_backend(client: httpx.AsyncClient) -> str:
    """The served model version; :class:`ServiceUnavailable` when the backend is not ready."""
    try:
        answer = await client.get("/ready")
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"the backend at {client.base_url} does not answer: {exc}") from None
    if answer.status_code != 200:
        raise ServiceUnavailable(f"the backend at {client.base_url} is not ready ({answer.status_code})")
    model = answer.json().get("model", {})
    return str(model.get("version", "?")) if isinstance(model, dict) else "?"


async def run_simulation(
    api_url: str,
    readers: Sequence[Reader],
    plan: Plan,
    *,
    rate: float,
    concurrency: int,
    return_after_s: float,
    progress: bool = True,
) -> tuple[list[Visit], Counters]:
    """Check the backend, then run every reader; the visits and what went wrong."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=api_url, timeout=30.0, limits=limits) as client:
        await check_backend(client)
        return await simulate(
            client,
            readers,
            plan,
            rate=rate,
            concurrency=concurrency,
            return_after_s=return_after_s,
            progress=progress,
        )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--readers", type=_positive_int, default=500, help="readers to simulate (%(default)s)"
    )
    parser.add_argument(
        "--rate", type=_positive_float, default=60.0, help="HTTP calls per second at most (%(default)s)"
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, default=8, help="readers at a time (%(default)s)"
    )
    parser.add_argument(
        "--favourites", type=_positive_int, default=3, help="liked books sent first (%(default)s)"
    )
    parser.add_argument(
        "--more", type=_positive_int, default=3, help="liked books added on a return (%(default)s)"
    )
    parser.add_argument(
        "--return-share", type=_share, default=0.5, help="share of readers who return (%(default)s)"
    )
    parser.add_argument(
        "--return-after-s",
        type=float,
        default=2.0,
        help="longest pause before a return visit (%(default)s s)",
    )
    parser.add_argument(
        "-k", type=_positive_int, default=10, help="recommendations asked for, the K of Recall@K"
    )
    parser.add_argument("--seed", type=int, help="seed of readers and behaviour (default READCRUMBS_SEED)")
    parser.add_argument("--run", help="tag in every userid (default: the UTC start time)")
    parser.add_argument("--api-url", help="backend base URL (default READCRUMBS_API_URL)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None, settings: SimulationSettings | None = None) -> int:
    """Simulate readers and print the ground truth; exit 0, or 2 with one line on stderr."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        settings = settings or SimulationSettings()
    except ValidationError as exc:  # one line, as every experiments command reports bad settings
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid settings: {problems}", file=sys.stderr)
        return 2
    api_url = (args.api_url or settings.api_url).rstrip("/")
    plan = Plan(
        readers=args.readers,
        favourites=args.favourites,
        more=args.more,
        return_share=args.return_share,
        k=args.k,
        seed=settings.seed if args.seed is None else args.seed,
    )
    run = args.run or datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    try:
        readers, data_version = load_readers(settings, plan, run)
        if not readers:
            raise DataError("no held-out reader liked enough books to be simulated")
        started = time.monotonic()
        visits, counters = asyncio.run(
            run_simulation(
                api_url,
                readers,
                plan,
                rate=args.rate,
                concurrency=args.concurrency,
                return_after_s=args.return_after_s,
                progress=not args.quiet,
            )
        )
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - started
    votes = sum(len(v.votes) for v in visits)
    print(
        f"\n{len(readers)} readers of data version {data_version} (run {run}) against {api_url}: "
        f"{len(visits)} predictions and {votes} votes in {seconds:.1f} s; "
        f"{counters.failed_predictions} readers stopped by an error, {counters.refused_votes} votes refused."
    )
    print(f"Ground truth from what was sent and received (K = {plan.k}):")
    print(format_truth(ground_truth(visits, plan.k), plan.k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
