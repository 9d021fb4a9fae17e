from __future__ import annotations

import functools
import gzip
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from experiments.data.source import SOURCE_SETTING, download, locate_files, read_source
from readcrumbs.errors import DataError, DataSourceUnavailable
from tests.experiments.data.conftest import GOODBOOKS, WriteGoodbooks


def make_zip(path: Path, folder: str = "", gz: bool = False) -> Path:
    """A release-like zip with the four files at its top or inside ``folder``."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in GOODBOOKS.items():
            data = gzip.compress(text.encode(), mtime=0) if gz else text.encode()
            archive.writestr(f"{folder}{name}{'.gz' if gz else ''}", data)
        archive.writestr(f"{folder}to_read.csv", "user_id,book_id\n1,1\n")
    return path


class _QuietHandler(SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path, list[str]]]:
    """A local HTTP server on 127.0.0.1 serving a folder: (base URL, folder, requested paths)."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    served = tmp_path / "served"
    served.mkdir()

    class Handler(_QuietHandler):
        requests: ClassVar[list[str]] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served, Handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("gz", [False, True])
def test_reads_a_folder_plain_or_gzipped(goodbooks: WriteGoodbooks, tmp_path: Path, gz: bool) -> None:
    raw = read_source(str(goodbooks(gz=gz)), tmp_path / "downloads")

    assert len(raw.ratings) == GOODBOOKS["ratings.csv"].count("\n") - 1
    assert raw.ratings["user_id"].dtype == np.int64
    assert set(raw.books["book_id"]) == {1, 2, 3, 4, 5, 6}
    assert "language_code" not in raw.books.columns  # columns the stage does not use are skipped
    assert raw.books.loc[raw.books["book_id"] == 3, "title"].item() == "Les Misérables"
    assert len(raw.book_tags) == GOODBOOKS["book_tags.csv"].count("\n") - 1
    assert list(raw.tags["tag_name"])[:2] == ["to-read", "fantasy"]


def test_a_plain_file_wins_over_its_gz_twin(goodbooks: WriteGoodbooks, tmp_path: Path) -> None:
    folder = goodbooks()
    (folder / "ratings.csv.gz").write_bytes(gzip.compress(b"user_id,book_id,rating\n1,1,1\n"))

    raw = read_source(str(folder), tmp_path / "downloads")

    assert len(raw.ratings) > 1


def test_a_file_missing_from_the_folder_is_named(goodbooks: WriteGoodbooks, tmp_path: Path) -> None:
    folder = goodbooks()
    (folder / "book_tags.csv").unlink()

    with pytest.raises(DataError, match=r"no book_tags\.csv \(or book_tags\.csv\.gz\)"):
        read_source(str(folder), tmp_path / "downloads")


def test_a_missing_folder_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DataSourceUnavailable, match=SOURCE_SETTING):
        read_source(str(tmp_path / "nowhere"), tmp_path / "downloads")


@pytest.mark.parametrize("folder", ["", "goodbooks-10k-1.0/"])
def test_reads_a_zip_with_files_at_the_top_or_in_one_folder(tmp_path: Path, folder: str) -> None:
    archive = make_zip(tmp_path / "release.zip", folder=folder)

    files = locate_files(str(archive), tmp_path / "downloads")
    raw = read_source(str(archive), tmp_path / "downloads")

    assert files["ratings.csv"].name.endswith(f"{folder}ratings.csv")
    assert len(raw.books) == 6


def test_reads_gzipped_files_inside_a_zip(tmp_path: Path) -> None:
    raw = read_source(str(make_zip(tmp_path / "release.zip", gz=True)), tmp_path / "downloads")

    assert len(raw.tags) == 7


def test_a_zip_without_the_files_is_an_error(tmp_path: Path) -> None:
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        opened.writestr("a/b/ratings.csv", GOODBOOKS["ratings.csv"])  # two folders deep

    with pytest.raises(DataError, match=r"has no ratings\.csv at its top or in one folder"):
        read_source(str(archive), tmp_path / "downloads")


def test_a_broken_gzip_is_a_data_error(goodbooks: WriteGoodbooks, tmp_path: Path) -> None:
    folder = goodbooks(gz=True)
    (folder / "tags.csv.gz").write_bytes(b"this is not gzip")

    with pytest.raises(DataError, match=r"cannot read tags\.csv"):
        read_source(str(folder), tmp_path / "downloads")


def test_downloads_once_then_reuses_the_cached_zip(
    http_folder: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    base, served, requests = http_folder
    make_zip(served / "goodbooks-10k.zip", folder="goodbooks-10k/")
    url = f"{base}/goodbooks-10k.zip"
    downloads = tmp_path / "home" / "downloads"

    first = read_source(url, downloads)
    second = read_source(url, downloads)

    assert requests == ["/goodbooks-10k.zip"]
    assert len(first.ratings) == len(second.ratings) > 0
    cached = list(downloads.iterdir())
    assert [path.name.endswith("-goodbooks-10k.zip") for path in cached] == [True]  # no partial files left


def test_an_unreachable_url_fails_with_one_sentence_naming_the_setting(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/goodbooks-10k.zip"

    with pytest.raises(DataSourceUnavailable) as raised:
        read_source(url, tmp_path / "downloads")

    message = str(raised.value)
    assert SOURCE_SETTING in message and url in message
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")
    assert not any((tmp_path / "downloads").iterdir())


def test_a_missing_file_on_the_server_is_unavailable(
    http_folder: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    base, _, _ = http_folder

    with pytest.raises(DataSourceUnavailable, match="HTTP 404"):
        download(f"{base}/missing.zip", tmp_path / "downloads")


def test_an_answer_that_is_not_a_zip_is_not_cached(
    http_folder: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    base, served, _ = http_folder
    (served / "goodbooks-10k.zip").write_text("<html>sign in</html>")

    with pytest.raises(DataSourceUnavailable, match="not a zip"):
        download(f"{base}/goodbooks-10k.zip", tmp_path / "downloads")

    assert not any((tmp_path / "downloads").iterdir())
