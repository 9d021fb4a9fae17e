"""POST /predict: the prototype's payloads, resolution, errors and the logged record."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from backend.errors import EMPTY_ITEMS_DETAIL
from backend.main import create_app
from backend.schemas import PredictRequest, PredictResponse
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.registry import Registry
from tests.backend.tiny import BOOKS, predict_payload, register_version

TITLES = {book_id: title for book_id, title, *_ in BOOKS}


def test_prototype_payload_gets_ten_titles(client):
    response = client.post("/predict", json={"items": ["The Hobbit", "1984", "Emma"], "userid": "1234567890"})
    assert response.status_code == 200
    body = response.json()
    assert len(body["recs"]) == 10
    assert all(isinstance(title, str) for title in body["recs"])


def test_answer_fields(client):
    body = client.post("/predict", json=predict_payload("The Hobbit", 2, "Gatsby", k=4)).json()
    assert set(body) == {"recs", "books", "request_id", "model_version", "resolved", "unknown", "arm"}
    assert body["arm"] == "production"
    assert body["model_version"] == "1"
    assert len(body["request_id"]) == 32
    assert body["recs"] == [book["title"] for book in body["books"]]
    assert len(body["books"]) == 4
    for book in body["books"]:
        assert set(book) == {
            "book_id",
            "title",
            "authors",
            "year",
            "image_url",
            "score",
            "because",
            "because_genres",
        }
        assert book["title"] == TITLES[book["book_id"]]
        assert set(book["because"]) <= {"The Hobbit", "1984"}
    scores = [book["score"] for book in body["books"]]
    assert scores == sorted(scores, reverse=True)
    assert [(r["item"], r["book_id"], r["match"]) for r in body["resolved"]] == [
        ("The Hobbit", 1, "exact"),
        (2, 2, "book_id"),
    ]
    assert body["unknown"] == ["Gatsby"]


@pytest.mark.parametrize(
    "payload",
    [
        predict_payload("The Hobbit", 2, "Gatsby", k=4),
        predict_payload("the hobit", "Emma", genres=["fantasy"], disliked=["1984"]),
        predict_payload(genres=["classics"]),
        predict_payload("Harry Potter and the Sorcerer's Stone", one_per_series=True),
    ],
)
def test_every_answer_validates_against_its_own_schema(client, payload):
    # The documented schema, strictly: what the OpenAPI document promises is what clients get.
    response = client.post("/predict", json=payload)
    assert response.status_code == 200, response.text
    answer = PredictResponse.model_validate_json(response.content, strict=True)
    assert answer.model_dump(mode="json") == response.json()
    # Byte for byte what the schema itself writes: the answer's dicts (backend/answers.py) miss
    # no field, reorder none and format no value otherwise.
    assert answer.model_dump_json().encode() == response.content


def test_input_books_are_never_recommended(client):
    favourites: list[str | int] = ["hobbit", "Harry Potter and the Sorcerer's Stone", 4, "Rebecca", "Dune"]
    body = client.post("/predict", json=predict_payload(*favourites, k=100)).json()
    favourite_ids = {r["book_id"] for r in body["resolved"]}
    assert favourite_ids == {1, 3, 4, 6, 8}
    returned = {book["book_id"] for book in body["books"]}
    assert returned and not returned & favourite_ids
    assert len(returned) == len(BOOKS) - len(favourite_ids)  # k beyond the catalogue: all the rest


def test_typos_and_case_resolve(client):
    body = client.post("/predict", json=predict_payload("PRIDE AND PREJUDISE", "les miserables")).json()
    assert [(r["book_id"], r["match"]) for r in body["resolved"]] == [(9, "fuzzy"), (5, "normalized")]
    assert body["unknown"] == []


def test_empty_items_is_the_prototypes_400(client):
    response = client.post("/predict", json={"items": [], "userid": "123"})
    assert response.status_code == 400
    assert response.json() == {"detail": EMPTY_ITEMS_DETAIL}


def test_nothing_resolvable_names_the_items_and_suggests_titles(client):
    response = client.post("/predict", json=predict_payload("Harry Potter", "The Great Gatsby"))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail["unknown"] == ["Harry Potter", "The Great Gatsby"]
    assert "'Harry Potter'" in detail["message"] and "'The Great Gatsby'" in detail["message"]
    assert detail["suggestions"]
    assert all(title.startswith("Harry Potter") for title in detail["suggestions"])


def test_unknown_book_ids_alone_are_a_400(client):
    response = client.post("/predict", json=predict_payload(9999))
    assert response.status_code == 400
    assert response.json()["detail"]["unknown"] == [9999]


@pytest.mark.parametrize(
    "body",
    [
        {"userid": "u"},  # no items
        {"items": ["Emma"]},  # no userid
        {"items": "Emma", "userid": "u"},  # not a list
        {"items": ["Emma"], "userid": ""},
        {"items": ["Emma"], "userid": "u" * 257},
        {"items": ["Emma"] * 501, "userid": "u"},
        {"items": ["x" * 501], "userid": "u"},
        {"items": [1.5], "userid": "u"},
        {"items": [True], "userid": "u"},
        {"items": [None], "userid": "u"},
        {"items": ["Emma"], "userid": "u", "k": 0},
        {"items": ["Emma"], "userid": "u", "k": 101},
        {"items": ["Emma"], "userid": "u", "k": "5"},
    ],
)
def test_schema_errors_are_422(client, body):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert "Traceback" not in response.text
    # FastAPI's own answer (the direct route hands a body that fails validation back to it).
    assert all(error["loc"][0] == "body" for error in response.json()["detail"])


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_types_take_the_direct_route(client, content_type):
    body = b'{"items": ["The Hobbit"], "userid": "u", "k": 3}'
    response = client.post("/predict", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert len(response.json()["books"]) == 3


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_other_content_types_get_fastapis_answer(client, content_type):
    # A JSON body under another media type is FastAPI's to judge (it refuses it: strict content type).
    body = b'{"items": ["The Hobbit"], "userid": "u", "k": 3}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/predict", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_not_json_is_422(client):
    response = client.post("/predict", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_limits_are_inclusive(client):
    items = [TITLES[book_id] for book_id in TITLES] * 35  # 490 items
    body = predict_payload(*items[:500], userid="u" * 256, k=100)
    response = client.post("/predict", json=body)
    assert response.status_code == 200
    # Every title is a favourite; "Rebecca" names only the more popular of the two Rebeccas.
    assert [book["book_id"] for book in response.json()["books"]] == [7]
    assert client.post("/predict", json=predict_payload("Emma", k=1)).status_code == 200


def test_every_prediction_is_logged(settings, registry, store):
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        answers = [
            client.post("/predict", json=predict_payload("Emma", "Gatsby", 13, userid=f"u{i}", k=3)).json()
            for i in range(5)
        ]
    # Leaving the client ran the shutdown, which flushed the writer.
    records = {record.request_id: record for record in store.predictions()}
    assert set(records) == {answer["request_id"] for answer in answers}
    for i, answer in enumerate(answers):
        record = records[answer["request_id"]]
        assert record.userid == f"u{i}"
        assert record.items == ["Emma", "Gatsby", "13"]
        assert record.item_ids == [10, 13]
        assert record.unknown == ["Gatsby"]
        assert record.prediction == answer["recs"]
        assert record.prediction_ids == [book["book_id"] for book in answer["books"]]
        assert record.scores == pytest.approx([book["score"] for book in answer["books"]])
        assert record.model_version == "1"
        assert record.k == 3
        assert record.latency_ms > 0
        assert record.ts.endswith("Z")


def test_predict_is_503_until_a_model_is_promoted(tmp_path, settings, store):
    registry = Registry(FolderBlobStore(tmp_path / "unpromoted"))
    register_version(registry, neighbours=5)
    with TestClient(create_app(settings, registry=registry, event_store=store)) as client:
        response = client.post("/predict", json=predict_payload("Emma"))
        assert response.status_code == 503
        assert "make train" in response.json()["detail"]


def test_a_shared_title_lists_the_other_books_it_could_name(client):
    resolved = client.post("/predict", json=predict_payload("Rebecca")).json()["resolved"]
    assert [(item["book_id"], item["alternatives"]) for item in resolved] == [(6, [7])]


FANTASY = {1, 3, 4, 8, 11}  # tiny.py's fantasy books; the others are classics


def test_genres_alone_give_a_starter_list_of_those_genres(client):
    response = client.post("/predict", json={"items": [], "genres": ["Fantasy"], "userid": "u", "k": 5})
    assert response.status_code == 200
    books = response.json()["books"]
    assert {book["book_id"] for book in books} == FANTASY
    assert all(book["because"] == [] and book["because_genres"] == ["fantasy"] for book in books)


def test_genres_steer_a_list_and_are_named_as_reasons(client):
    plain = client.post("/predict", json=predict_payload("Emma", k=5)).json()["books"]
    steered = client.post("/predict", json=predict_payload("Emma", k=5, genres=["fantasy"])).json()["books"]
    fantasy_share = [sum(book["book_id"] in FANTASY for book in books) for books in (plain, steered)]
    assert fantasy_share[1] >= fantasy_share[0]
    for book in steered:
        assert book["because_genres"] == (["fantasy"] if book["book_id"] in FANTASY else [])


def test_unknown_genres_are_a_400_naming_close_known_ones(client):
    response = client.post("/predict", json=predict_payload("Emma", genres=["fantasyy", "classics"]))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail["unknown"] == ["fantasyy"] and detail["suggestions"] == ["fantasy"]


def test_unknown_items_beside_genres_still_give_a_starter_list(client):
    response = client.post("/predict", json=predict_payload("No Such Book", genres=["classics"], k=3))
    assert response.status_code == 200
    assert response.json()["unknown"] == ["No Such Book"]


def test_disliked_books_are_never_shown(client):
    body = client.post(
        "/predict", json=predict_payload("The Hobbit", disliked=["1984", 13, "Nope Nope Nope"], k=100)
    ).json()
    shown = {book["book_id"] for book in body["books"]}
    assert not shown & {1, 2, 13}
    assert len(shown) == len(BOOKS) - 3
    assert body["unknown"] == ["Nope Nope Nope"]


def test_one_per_series_shows_one_harry_potter_the_first_volume(client):
    body = client.post("/predict", json=predict_payload("Emma", k=100, one_per_series=True)).json()
    shown = [book["book_id"] for book in body["books"]]
    assert 3 in shown and 4 not in shown  # the reader gave no Harry Potter: volume 1 first
    given = client.post("/predict", json=predict_payload(3, k=100, one_per_series=True)).json()
    assert 4 in [book["book_id"] for book in given["books"]]  # the next volume after #1


@pytest.mark.parametrize(
    "extra",
    [
        {"genres": "fantasy"},
        {"genres": [""]},
        {"genres": ["fantasy"] * 21},
        {"disliked": [1.5]},
        {"one_per_series": "yes"},
        {"one_per_series": 1},
    ],
)
def test_new_fields_break_the_schema_as_422(client, extra):
    assert client.post("/predict", json=predict_payload("Emma", **extra)).status_code == 422


def test_the_openapi_schema_describes_the_new_fields(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    request, book = schemas["PredictRequest"]["properties"], schemas["RecommendedBook"]["properties"]
    for field in ("genres", "disliked", "one_per_series"):
        assert request[field]["description"]
    assert "30 %" in book["because"]["description"] and book["because_genres"]["description"]
    assert "items" in schemas["PredictRequest"]["required"]
    assert "genres" not in schemas["PredictRequest"].get("required", [])


# Bodies where JSON parsers and validation modes could part ways.
TRICKY_BODIES = [
    b'{"items": ["Emma"], "userid": "u"}',
    b'{"items": ["Emma"], "userid": "u", "userid": "v"}',  # a repeated key: the last one counts
    b'{"items": ["\\ud800"], "userid": "u"}',  # a lone surrogate
    b'{"items": ["caf\\u00e9", "\\u00e9"], "userid": "\\u00fc"}',
    b'{"items": [123456789012345678901234567890], "userid": "u"}',
    b'{"items": [7, "7", -1, 0], "userid": "u"}',
    b'{"items": [7.0], "userid": "u"}',
    b'{"items": [1e3], "userid": "u"}',
    b'{"items": ["Emma"], "userid": "u", "k": 5.0}',
    b'{"items": ["Emma"], "userid": "u", "k": true}',
    b'{"items": ["Emma"], "userid": "u", "k": NaN}',
    b'{"items": ["Emma"], "userid": "u", "k": Infinity}',
    b'{"items": ["Emma"], "userid": "u", "one_per_series": 1}',
    b'{"items": ["Emma"], "userid": "u", "one_per_series": "true"}',
    b'{"items": ["Emma"], "userid": "u", "genres": null}',
    b'{"items": ["Emma"], "userid": "u", "disliked": [null]}',
    b'{"items": ["Emma"], "userid": 5}',
    b'{"items": ["Emma"], "userid": "u", "extra": {"deep": [1, 2, {"x": null}]}}',
    b'{"items": ["Emma"], "userid": "u"} trailing',
    b'[{"items": ["Emma"], "userid": "u"}]',
    b'"just a string"',
    b"",
    b"\xff\xfe{}",
    b'{"items": ["Emma"], "userid": "u"}\n',
    b' \t{"items": ["Emma"], "userid": "u"}',
]


@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_the_direct_route_accepts_only_what_fastapi_accepts_and_reads_it_alike(body):
    # The direct route answers a body model_validate_json accepts; FastAPI would have parsed it
    # with json.loads and validated the result. Where the first accepts, both must agree.
    try:
        direct = PredictRequest.model_validate_json(body)
    except ValidationError:
        return  # FastAPI's own handler answers it
    assert PredictRequest.model_validate(json.loads(body)) == direct
