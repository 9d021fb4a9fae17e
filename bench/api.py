"""API benchmark: /predict beside two bare FastAPI endpoints, under the same server and the same load.

In one run it:

1. picks the model: the production version in ``$READCRUMBS_HOME``'s registry when there is one,
   else a synthetic 10,000-book ALS model (random factors; serving cost does not depend on fit)
   registered in a temporary folder registry, so every server below loads the same version;
2. times model scoring in-process (:meth:`ModelBundle.recommend`, 3 favourites, k = 10) and the
   whole ``/predict`` work without HTTP (resolution + scoring + answer + record);
3. starts ``python -m backend`` on 127.0.0.1 with a temporary SQLite event store, timing the cold
   start to the first 200 from ``/ready``;
4. starts two bare FastAPI ``POST /predict`` servers beside it, each with the same request schema
   and the same :func:`backend.__main__.serve` options:

   * **bare + scoring** loads the same model version and answers each request with
     :meth:`ModelBundle.recommend` on its items (titles looked up in a plain dict built once,
     book_ids taken as they are) in an answer of the real shape, with no title resolution beyond
     the dict, no event logging, no Prometheus metrics, no middleware and no rate limit; the
     first requests' recommendations are checked to be /predict's;
   * **canned** answers a fixed response of the real shape without any model work: the
     framework's floor;

   then drives the three servers with the same load: ``--concurrency`` keep-alive connections
   (a small asyncio HTTP/1.1 client, so the generator costs little CPU next to the server)
   posting the same bodies, ``--duration`` seconds per server in ``--rounds`` slices taken in
   turn, so other work on a shared machine weighs on all three alike. It then reads the
   backend's RSS, sends SIGTERM and counts the logged predictions in SQLite;
5. with a real production model whose dataset is in the artifact store, sends every held-out
   reader's 3 fav3 input books to the running API and compares Recall@10 with the manifest's.

It prints a table of the three endpoints and two throughput ratios (``--json PATH`` writes the
figures, to compare runs). ``/predict : bare + scoring`` is the cost of ReadCrumbs' own layers
(title resolution, logging every request, metrics, middleware, limits) over the same model work;
issue 3's target, ≥ 0.7, is judged on this ratio. ``/predict : canned`` adds the model's scoring
to that cost and is printed for information only. Other targets: scoring p99 ≤ 2 ms, cold start
≤ 5 s, RSS ≤ 1 GiB. This is a measurement, not a test: nothing here asserts.

    .venv/bin/python -m bench.api                    # 10 s per server, 8 connections
    .venv/bin/python -m bench.api --duration 20 --concurrency 16 --json var/bench-api.json
"""

from __future__ import annotations

import os

# Like the server (backend/__main__.py): one BLAS thread, so in-process timings match serving.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Coroutine, Iterator, Mapping, Sequence  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from fastapi import FastAPI, Response  # noqa: E402

from backend.__main__ import serve  # noqa: E402
from backend.predictions import predict  # noqa: E402
from backend.schemas import PredictRequest, PredictResponse, RecommendedBook, ResolvedItem  # noqa: E402
from backend.serving import ModelHolder  # noqa: E402
from backend.settings import get_settings  # noqa: E402
from experiments.dataset import dataset_exists, load_dataset  # noqa: E402
from experiments.evaluate import FAV3, heldout_evaluation_set  # noqa: E402
from readcrumbs.blobs import BlobStore, open_blob_store  # noqa: E402
from readcrumbs.blobs.local import FolderBlobStore  # noqa: E402
from readcrumbs.events import open_event_store  # noqa: E402
from readcrumbs.model_bundle import CATALOGUE_FILE, ModelBundle, bundle_files, load_bundle  # noqa: E402
from readcrumbs.recommenders.als import ALS  # noqa: E402
from readcrumbs.registry import PRODUCTION, Registry  # noqa: E402
from readcrumbs.text import normalize_title  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
N_SYNTHETIC_BOOKS = 10_000
SYNTHETIC_FACTORS = 128
FAVOURITES_PER_REQUEST = 3
HOST = "127.0.0.1"
# Requests whose answers /predict and bare + scoring must agree on (same model, same favourites).
CHECKED_BODIES = 20


# -- the model --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSource:
    registry_url: str
    model_name: str
    synthetic: bool


def synthetic_catalogue(n_books: int, rng: np.random.Generator) -> pd.DataFrame:
    """A catalogue with every column of experiments/dataset.py and Zipf-like popularity."""
    popularity = np.maximum((20_000 / np.arange(1, n_books + 1) ** 0.8).astype(np.int64), 1)
    words = ["night", "river", "glass", "winter", "crown", "shadow", "garden", "storm", "letter", "bone"]
    titles = [
        f"The {words[i % 10].title()} of {words[(i // 10) % 10].title()} {i // 100}" for i in range(n_books)
    ]
    return pd.DataFrame(
        {
            "book_id": np.arange(1, n_books + 1, dtype=np.int64),
            "title": titles,
            "title_norm": [normalize_title(title) for title in titles],
            "authors": [f"Author {i % 2_000}" for i in range(n_books)],
            "year": pd.array(rng.integers(1800, 2020, n_books), dtype="Int64"),
            "average_rating": rng.uniform(3.0, 4.8, n_books),
            "ratings_count": popularity * 7,
            "image_url": [f"https://images.example/{i}m.jpg" for i in range(1, n_books + 1)],
            "small_image_url": [f"https://images.example/{i}s.jpg" for i in range(1, n_books + 1)],
            "genres": [["fiction", words[i % 10]] for i in range(n_books)],
            "popularity": popularity,
            "popularity_pct": pd.Series(popularity).rank(pct=True).to_numpy() * 100.0,
        }
    )


def register_synthetic_model(folder: Path, model_name: str) -> str:
    """A folder registry whose production version is a random-factor ALS over 10,000 books."""
    rng = np.random.default_rng(0)
    catalogue = synthetic_catalogue(N_SYNTHETIC_BOOKS, rng)
    item_factors = (rng.standard_normal((N_SYNTHETIC_BOOKS, SYNTHETIC_FACTORS)) * 0.1).astype(np.float32)
    model = ALS.from_arrays({"item_factors": item_factors}, {"factors": SYNTHETIC_FACTORS})
    registry = Registry(FolderBlobStore(folder))
    manifest = registry.register(
        model_name,
        "als",
        bundle_files(model, catalogue),
        params=model.params,
        metrics={},
        data_version="synthetic-10k",
    )
    registry.promote(model_name, manifest.version, force=True)
    return f"file://{folder}"


def pick_model(work: Path) -> ModelSource:
    """$READCRUMBS_HOME's production model if any, else a synthetic one under ``work``."""
    settings = get_settings()
    registry = Registry(open_blob_store(settings.resolved_registry_url))
    if registry.alias(settings.model_name, PRODUCTION) is not None:
        return ModelSource(settings.resolved_registry_url, settings.model_name, synthetic=False)
    return ModelSource(
        register_synthetic_model(work / "registry", settings.model_name), settings.model_name, True
    )


# -- in-process timings -----------------------------------------------------------------------
def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q)) if seconds else float("nan")


def time_in_process(source: ModelSource, calls: int) -> dict[str, float]:
    """Load time, then p50/p99 of ``recommend`` alone and of the whole /predict work, in ms."""
    holder = ModelHolder(Registry(open_blob_store(source.registry_url)), source.model_name)
    started = time.perf_counter()
    holder.reload()
    load_s = time.perf_counter() - started
    state = holder.current()
    rng = random.Random(1)
    book_ids = [int(book_id) for book_id in state.bundle.book_ids]
    titles = state.bundle.catalogue["title"].tolist()
    scoring: list[float] = []
    whole: list[float] = []
    for _ in range(calls):
        favourites = rng.sample(book_ids, FAVOURITES_PER_REQUEST)
        started = time.perf_counter()
        state.bundle.recommend(favourites, 10)
        scoring.append(time.perf_counter() - started)
    for _ in range(calls):
        request = PredictRequest(items=rng.sample(titles, FAVOURITES_PER_REQUEST), userid="bench", k=10)
        started = time.perf_counter()
        predict(state, request)
        whole.append(time.perf_counter() - started)
    return {
        "load_s": load_s,
        "n_books": float(len(book_ids)),
        "scoring_p50_ms": percentile_ms(scoring, 50),
        "scoring_p99_ms": percentile_ms(scoring, 99),
        "predict_p50_ms": percentile_ms(whole, 50),
        "predict_p99_ms": percentile_ms(whole, 99),
    }


# -- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> float:
    """Seconds until ``url`` answers 200 (the process was started just before)."""
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        if time.perf_counter() - started > timeout_s:
            raise RuntimeError(f"{url} did not answer 200 within {timeout_s:.0f} s")
        time.sleep(0.01)


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, stopped with SIGTERM (then killed if it lingers) on exit."""
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def memory_mib(pid: int) -> dict[str, float]:
    """Resident set size now and at its peak (VmRSS, VmHWM), in MiB; Linux only."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024.0
    return {"rss_mib": fields.get("VmRSS", float("nan")), "peak_rss_mib": fields.get("VmHWM", float("nan"))}


def canned_app() -> FastAPI:
    """``POST /predict`` with the real request schema and a canned answer of the real shape: the
    framework's floor (parsing, validation, serialisation, uvicorn), no model work."""
    app = FastAPI()
    canned = PredictResponse(
        recs=[f"Book {i}" for i in range(10)],
        books=[
            RecommendedBook(
                book_id=i,
                title=f"Book {i}",
                authors="Some Author",
                year=2000,
                image_url=f"https://images.example/{i}m.jpg",
                score=1.0 - i / 10,
                because=["Favourite A", "Favourite B"],
            )
            for i in range(10)
        ],
        request_id="0" * 32,
        model_version="1",
        resolved=[],
        unknown=[],
    )

    @app.post("/predict")
    async def predict_canned(body: PredictRequest) -> Response:  # async, like the real route
        return Response(canned.model_dump_json(), media_type="application/json")

    add_ready(app)
    return app


@dataclass(frozen=True)
class BookFacts:
    """What an answer shows of one book."""

    title: str
    authors: str
    year: int | None
    image_url: str


def title_index(catalogue: pd.DataFrame) -> dict[str, int]:
    """Exact title → book_id; a title several books share names the most popular one (likes, then
    ratings count, then the lower book_id), as :class:`readcrumbs.catalogue.Catalogue` resolves it,
    so both endpoints score the same favourites."""
    ranked = catalogue.sort_values(
        ["popularity", "ratings_count", "book_id"], ascending=[False, False, True], kind="stable"
    )
    index: dict[str, int] = {}
    for title, book_id in zip(ranked["title"], ranked["book_id"], strict=True):
        index.setdefault(str(title), int(book_id))
    return index


def book_facts(catalogue: pd.DataFrame) -> dict[int, BookFacts]:
    """book_id → what an answer shows of it, read from the catalogue once."""
    return {
        int(book_id): BookFacts(str(title), str(authors), None if pd.isna(year) else int(year), str(image))
        for book_id, title, authors, year, image in zip(
            catalogue["book_id"],
            catalogue["title"],
            catalogue["authors"],
            catalogue["year"],
            catalogue["image_url"],
            strict=True,
        )
    }


def bare_scoring_app(bundle: ModelBundle) -> FastAPI:
    """``POST /predict`` that scores with ``bundle`` like the real route, without ReadCrumbs' layers.

    Items are looked up in a plain title → book_id dict (an integer is taken as a book_id); the
    answer has the real shape. No normalised or fuzzy resolution, no event record, no metrics,
    no middleware, no rate limit: what /predict does beyond this is what the benchmark prices.
    Answers 400 when no item is a known title or book_id.
    """
    app = FastAPI()
    by_title = title_index(bundle.catalogue)
    facts = book_facts(bundle.catalogue)

    @app.post("/predict")
    async def predict_scoring(body: PredictRequest) -> Response:  # async, like the real route
        resolved: list[ResolvedItem] = []
        unknown: list[int | str] = []
        for item in body.items:
            book_id = item if isinstance(item, int) else by_title.get(item)
            if book_id is None or book_id not in facts:
                unknown.append(item)
                continue
            resolved.append(
                ResolvedItem(
                    item=item,
                    book_id=book_id,
                    title=facts[book_id].title,
                    match="book_id" if isinstance(item, int) else "exact",
                    confidence=100.0,
                )
            )
        if not resolved:
            return Response('{"detail":"no item matched a book"}', 400, media_type="application/json")
        books = []
        for recommendation in bundle.recommend([match.book_id for match in resolved], body.k):
            book = facts[recommendation.book_id]
            books.append(
                RecommendedBook(
                    book_id=recommendation.book_id,
                    title=book.title,
                    authors=book.authors,
                    year=book.year,
                    image_url=book.image_url,
                    score=recommendation.score,
                    because=[facts[reason].title for reason in recommendation.because],
                )
            )
        answer = PredictResponse(
            recs=[book.title for book in books],
            books=books,
            request_id=uuid.uuid4().hex,
            model_version=bundle.version,
            resolved=resolved,
            unknown=unknown,
        )
        return Response(answer.model_dump_json(), media_type="application/json")

    add_ready(app)
    return app


def add_ready(app: FastAPI) -> None:
    """``GET /ready``: 200 once the app serves (the bench waits for it)."""

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}


def serve_bare_scoring(port: int, version: int) -> None:
    """Serve :func:`bare_scoring_app` with ``version`` of the registry and model named by the
    READCRUMBS_ settings (those the backend process gets)."""
    settings = get_settings()
    registry = Registry(open_blob_store(settings.resolved_registry_url))
    serve(bare_scoring_app(load_bundle(registry, settings.model_name, version)), HOST, port)


# -- load -------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float


async def _connection(
    port: int, bodies: list[bytes], stop_at: float, latencies: list[float], statuses: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    index = random.randrange(len(bodies))
    try:
        while time.perf_counter() < stop_at:
            body = bodies[index % len(bodies)]
            index += 1
            head = (
                f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            response_head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in response_head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses.append(int(response_head[9:12]))
    finally:
        writer.close()


@dataclass
class Tally:
    """What one server answered so far, over one or more slices of load; latencies in seconds."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def result(self) -> LoadResult:
        return LoadResult(
            requests=len(self.statuses),
            errors=sum(status != 200 for status in self.statuses),
            seconds=self.seconds,
            throughput_rps=len(self.statuses) / self.seconds if self.seconds else float("nan"),
            p50_ms=percentile_ms(self.latencies, 50),
            p99_ms=percentile_ms(self.latencies, 99),
        )


async def _drive(port: int, bodies: list[bytes], seconds: float, concurrency: int, tally: Tally) -> None:
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_connection(port, bodies, stop_at, tally.latencies, tally.statuses) for _ in range(concurrency))
    )
    tally.seconds += time.perf_counter() - started


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop when installed (a cheaper client), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def drive(port: int, bodies: list[bytes], seconds: float, concurrency: int) -> LoadResult:
    """``concurrency`` keep-alive connections posting ``bodies`` in turn for ``seconds``."""
    tally = Tally()
    run_loop(_drive(port, bodies, seconds, concurrency, tally))
    return tally.result()


def drive_interleaved(
    ports: Mapping[str, int], bodies: list[bytes], seconds: float, concurrency: int, rounds: int
) -> dict[str, LoadResult]:
    """Drive each server for ``seconds`` in all, as ``rounds`` slices taken in turn (each round
    starting one server later), so a neighbour's load on a shared machine falls on every server
    alike rather than on whichever ran while it did."""
    names = list(ports)
    tallies = {name: Tally() for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            run_loop(_drive(ports[name], bodies, seconds / rounds, concurrency, tallies[name]))
    return {name: tally.result() for name, tally in tallies.items()}


def request_bodies(source: ModelSource, count: int = 2_000) -> list[bytes]:
    """``count`` /predict bodies, each with 3 random catalogue titles."""
    registry = Registry(open_blob_store(source.registry_url))
    version = registry.alias(source.model_name, PRODUCTION)
    assert version is not None
    _, files = registry.load_files(source.model_name, version)
    titles = pd.read_parquet(io.BytesIO(files[CATALOGUE_FILE]), columns=["title"])["title"].tolist()
    rng = random.Random(2)
    return [
        json.dumps(
            {"items": rng.sample(titles, FAVOURITES_PER_REQUEST), "userid": f"bench-{i % 97}"}
        ).encode()
        for i in range(count)
    ]


# -- what /predict returns is what was evaluated ------------------------------------------------
def fav3_recall_through_api(
    client: httpx.Client, store: BlobStore, model_name: str, seed: int
) -> dict[str, float] | None:
    """fav3 Recall@10 of the production model through ``client``'s ``/predict``, beside the
    manifest's offline figure; None when the version has no offline figure or stored dataset.

    Each held-out reader's 3 input books (the same seeded split as offline evaluation) are sent as
    book_ids with k = 10; hits are counted against the rest of their likes.
    """
    manifest = Registry(store).resolve(model_name)
    offline = manifest.metric(FAV3, "recall@10")
    if offline is None or not dataset_exists(store, manifest.data_version):
        return None
    dataset = load_dataset(store, manifest.data_version)
    split = heldout_evaluation_set(dataset, seed, protocols=(FAV3,)).splits[FAV3]
    book_ids = dataset.book_ids
    recalls = []
    for row in range(split.inputs.shape[0]):
        given = split.inputs.indices[split.inputs.indptr[row] : split.inputs.indptr[row + 1]]
        wanted = {
            int(book_ids[i])
            for i in split.targets.indices[split.targets.indptr[row] : split.targets.indptr[row + 1]]
        }
        body = {"items": [int(book_ids[i]) for i in given], "userid": "bench-recall", "k": 10}
        answer = client.post("/predict", json=body)
        answer.raise_for_status()
        hits = len({book["book_id"] for book in answer.json()["books"]} & wanted)
        recalls.append(hits / min(10, len(wanted)))
    return {
        "api_recall@10": float(np.mean(recalls)),
        "offline_recall@10": offline,
        "readers": float(len(recalls)),
    }


# -- the run ----------------------------------------------------------------------------------
def server_env(work: Path, source: ModelSource) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("READCRUMBS_")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
            "WANDB_MODE": "disabled",
            "READCRUMBS_HOME": str(work / "home"),
            "READCRUMBS_REGISTRY_URL": source.registry_url,
            "READCRUMBS_EVENTS_URL": f"sqlite:///{work / 'events.db'}",
            "READCRUMBS_MODEL_NAME": source.model_name,
            "READCRUMBS_LOG_LEVEL": "WARNING",
        }
    )
    if "READCRUMBS_SEED" in os.environ:
        env["READCRUMBS_SEED"] = os.environ["READCRUMBS_SEED"]
    return env


def production_version(source: ModelSource) -> int:
    """The version behind ``source``'s production alias: the one every server must serve."""
    version = Registry(open_blob_store(source.registry_url)).alias(source.model_name, PRODUCTION)
    if version is None:
        raise RuntimeError(f"no production version of {source.model_name!r} in {source.registry_url}")
    return version


def answered_book_ids(port: int, bodies: Sequence[bytes]) -> list[list[int]]:
    """The recommended book_ids ``/predict`` on ``port`` answers to each body, in order."""
    answers = []
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        for body in bodies:
            answer = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
            answer.raise_for_status()
            answers.append([int(book["book_id"]) for book in answer.json()["books"]])
    return answers


def start_server(
    servers: ExitStack, command: list[str], env: dict[str, str]
) -> tuple[int, subprocess.Popen[bytes], float]:
    """Start ``command --port P`` (stopped when ``servers`` closes): its port, process and the
    seconds until ``/ready`` answered 200."""
    port = free_port()
    process = servers.enter_context(running([*command, "--port", str(port)], env))
    return port, process, wait_for(f"http://{HOST}:{port}/ready", process)


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="readcrumbs-bench-api-") as tmp:
        work = Path(tmp)
        source = pick_model(work)
        version = production_version(source)
        results: dict[str, Any] = {"model": {**asdict(source), "version": version}}
        results["concurrency"] = args.concurrency
        results["rounds"] = args.rounds
        results["in_process"] = time_in_process(source, args.calls)
        bodies = request_bodies(source)
        env = server_env(work, source)
        bench = [sys.executable, "-m", "bench.api"]

        with ExitStack() as servers:
            # The backend first and alone, so no other server's start-up shares its cold start.
            port, process, results["cold_start_s"] = start_server(
                servers, [sys.executable, "-m", "backend", "--host", HOST], env
            )
            served = httpx.get(f"http://{HOST}:{port}/ready", timeout=10).json()["model"]["version"]
            if str(served) != str(version):  # promoted in between: the comparison would be unfair
                raise RuntimeError(f"the backend serves v{served}, the bare endpoint would load v{version}")
            scoring_port, _, _ = start_server(
                servers, [*bench, "--serve-bare-scoring", "--model-version", str(version)], env
            )
            canned_port, _, _ = start_server(servers, [*bench, "--serve-canned"], env)
            ports = {"predict": port, "bare_scoring": scoring_port, "canned": canned_port}

            checked = bodies[:CHECKED_BODIES]
            pairs = zip(
                answered_book_ids(port, checked), answered_book_ids(scoring_port, checked), strict=True
            )
            results["same_answers"] = {"checked": len(checked), "equal": sum(a == b for a, b in pairs)}

            drive_interleaved(ports, bodies, args.warmup, args.concurrency, rounds=1)
            loads = drive_interleaved(ports, bodies, args.duration, args.concurrency, args.rounds)
            results.update({name: asdict(load) for name, load in loads.items()})
            results["memory"] = memory_mib(process.pid)
            if source.synthetic:
                results["recall_skipped"] = "synthetic model"
            elif args.no_recall:
                results["recall_skipped"] = "--no-recall"
            else:
                with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
                    store = open_blob_store(source.registry_url)
                    results["fav3"] = fav3_recall_through_api(
                        client, store, source.model_name, get_settings().seed
                    )
                if results["fav3"] is None:
                    results["recall_skipped"] = "no offline figure or dataset for this version"
            answered = int(httpx_metric(f"http://{HOST}:{port}/metrics", "readcrumbs_predictions_total"))
        # Read after SIGTERM: the backend flushes its queued records before it exits.
        results["logged"] = {"answered": answered, "in_sqlite": count_logged(work / "events.db")}
    throughput = results["predict"]["throughput_rps"]
    results["ratios"] = {
        "predict_to_bare_scoring": throughput / results["bare_scoring"]["throughput_rps"],
        "predict_to_canned": throughput / results["canned"]["throughput_rps"],
    }
    return results


def httpx_metric(url: str, name: str) -> float:
    """The sum of every sample of one Prometheus metric at ``url``."""
    total = 0.0
    for line in httpx.get(url, timeout=10).text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def count_logged(database: Path) -> int:
    store = open_event_store(f"sqlite:///{database}")
    try:
        return len(store.predictions_frame(columns=["request_id"]))
    finally:
        store.close()


ENDPOINTS = (
    ("/predict", "predict"),
    ("bare + scoring", "bare_scoring"),
    ("canned", "canned"),
)


def report(results: dict[str, Any]) -> str:
    model = results["model"]
    in_process = results["in_process"]
    what = (
        "synthetic 10k-book ALS"
        if model["synthetic"]
        else f"{model['model_name']} production ({model['registry_url']})"
    )
    lines = [
        f"model: {what} v{model['version']}, {in_process['n_books']:.0f} books; "
        f"load {in_process['load_s']:.2f} s in-process",
        f"load: {results['concurrency']} keep-alive connections, one uvicorn worker each, 127.0.0.1; "
        f"the three servers driven in turn, {results['rounds']} slices each",
        "",
        f"{'endpoint':<16}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}",
    ]
    for label, key in ENDPOINTS:
        row = results[key]
        lines.append(
            f"{label:<16}{row['requests']:>10}{row['errors']:>8}{row['throughput_rps']:>10.0f}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
        )
    ratios = results["ratios"]
    same = results["same_answers"]
    logged = results["logged"]
    lines += [
        "",
        f"throughput ratio /predict : bare + scoring = {ratios['predict_to_bare_scoring']:.2f}   "
        "(target >= 0.70: the cost of resolution, logging, metrics, middleware, limits)",
        f"throughput ratio /predict : canned         = {ratios['predict_to_canned']:.2f}   "
        "(framework floor, for information)",
        f"same recommendations from /predict and bare + scoring: {same['equal']} of {same['checked']} "
        "requests",
        f"model scoring in-process: p50 {in_process['scoring_p50_ms']:.3f} ms, "
        f"p99 {in_process['scoring_p99_ms']:.3f} ms   (target p99 <= 2 ms)",
        f"whole /predict work in-process: p50 {in_process['predict_p50_ms']:.3f} ms, "
        f"p99 {in_process['predict_p99_ms']:.3f} ms",
        f"cold start to /ready: {results['cold_start_s']:.2f} s   (target <= 5 s)",
        f"server RSS after load: {results['memory']['rss_mib']:.0f} MiB, peak "
        f"{results['memory']['peak_rss_mib']:.0f} MiB   (target <= 1024 MiB)",
        f"predictions logged: {logged['in_sqlite']} in SQLite of {logged['answered']} answered",
    ]
    fav3 = results.get("fav3")
    if fav3:
        lines.append(
            f"fav3 Recall@10: API {fav3['api_recall@10']:.4f} over {fav3['readers']:.0f} held-out readers, "
            f"offline (manifest) {fav3['offline_recall@10']:.4f}"
        )
    elif results.get("recall_skipped"):
        lines.append(f"fav3 Recall@10 via the API: skipped ({results['recall_skipped']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load per server, in all (10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load per server before measuring (2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="slices each server's load is split into, taken in turn (5)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument("--calls", type=int, default=2_000, help="in-process scoring calls (2000)")
    parser.add_argument("--no-recall", action="store_true", help="skip the fav3 Recall@10 check")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve-canned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare-scoring", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model-version", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=8001, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_canned:
        serve(canned_app(), HOST, args.port)
        return 0
    if args.serve_bare_scoring:
        if args.model_version is None:
            parser.error("--serve-bare-scoring needs --model-version")
        serve_bare_scoring(args.port, args.model_version)
        return 0
    results = run(args)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
