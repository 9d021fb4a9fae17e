"""Find and read the four goodbooks-10k files: from a folder, a local zip, or a downloaded zip.

``READCRUMBS_DATA_SOURCE`` is either a folder in the official layout (``ratings.csv``,
``books.csv``, ``book_tags.csv``, ``tags.csv``, each plain or ``.gz``), a ``.zip`` file, or an
``http(s)://`` URL of the release zip. A URL is downloaded once into ``$READCRUMBS_HOME/downloads``
(through a temporary file and an atomic rename, so an interrupted download is never reused) and
read from there on later runs. Inside a zip the files may sit at the top or in one folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import pandas as pd
from tqdm import tqdm

from experiments.data.schema import BOOK_TAGS, BOOKS, RATINGS, TABLES, TAGS, TableSpec
from readcrumbs.errors import DataError, DataSourceUnavailable

log = logging.getLogger(__name__)

SOURCE_SETTING = "READCRUMBS_DATA_SOURCE"
DOWNLOAD_TIMEOUT_S = 30.0
_CHUNK_BYTES = 1 << 20
_LAYOUT = "ratings.csv, books.csv, book_tags.csv and tags.csv (plain or .gz)"

Opener = Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass(frozen=True)
class SourceFile:
    """One located file: ``name`` as shown to people, ``open`` gives its raw bytes."""

    name: str
    open: Opener
    gzipped: bool


@dataclass(frozen=True)
class RawTables:
    """The four files as read, before validation (columns limited to those the stage uses).

    A file whose values did not parse with the expected dtypes holds text columns instead;
    :mod:`experiments.data.validate` turns those into precise errors.
    """

    source: str
    ratings: pd.DataFrame
    books: pd.DataFrame
    book_tags: pd.DataFrame
    tags: pd.DataFrame


def read_source(source: str, downloads: Path) -> RawTables:
    """Locate ``source`` (folder, zip file or URL) and read its four files.

    ``downloads`` is the cache folder for URLs. Raises
    :class:`~readcrumbs.errors.DataSourceUnavailable` when there is nothing to read and
    :class:`~readcrumbs.errors.DataError` when a file is missing or unreadable.
    """
    files = locate_files(source, downloads)
    frames = {spec.file: read_table(files[spec.file], spec) for spec in TABLES}
    return RawTables(
        source=source,
        ratings=frames[RATINGS.file],
        books=frames[BOOKS.file],
        book_tags=frames[BOOK_TAGS.file],
        tags=frames[TAGS.file],
    )


def locate_files(source: str, downloads: Path) -> dict[str, SourceFile]:
    """The four files of ``source``, keyed by their plain names (``ratings.csv`` …)."""
    if source.startswith(("http://", "https://")):
        return _zip_files(download(source, downloads))
    path = Path(source.removeprefix("file://")).expanduser()
    if path.is_dir():
        return _folder_files(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return _zip_files(path)
    raise DataSourceUnavailable(
        f"{SOURCE_SETTING}={source!r} is neither a folder, a zip file nor an http(s) URL; "
        f"set {SOURCE_SETTING} to a folder holding {_LAYOUT} or to the goodbooks-10k release zip URL."
    )


def download(url: str, downloads: Path, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """The zip at ``url``, downloaded with a progress bar into ``downloads`` unless already there.

    The cached name carries a hash of the URL so two sources never share a file.
    """
    name = PurePosixPath(urllib.parse.urlparse(url).path).name or "source.zip"
    target = downloads / f"{hashlib.sha256(url.encode()).hexdigest()[:8]}-{name}"
    if target.is_file():
        log.info("using cached download %s", target)
        return target

    def unavailable(reason: object) -> DataSourceUnavailable:
        return DataSourceUnavailable(
            f"Cannot download the data from {url} ({reason}); set {SOURCE_SETTING} to a local folder "
            f"holding {_LAYOUT}."
        )

    try:
        downloads.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=downloads, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise unavailable(exc) from None
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out, timeout_s)
        if not zipfile.is_zipfile(partial):
            raise unavailable("the answer is not a zip file")
        # The rename is atomic: a later run sees either no file or the whole zip.
        os.replace(partial, target)
    except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise unavailable(_reason(exc)) from None
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _fetch(url: str, out: IO[bytes], timeout_s: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=f"downloading {url.rsplit('/', 1)[-1]}"
        ) as bar:
            while chunk := response.read(_CHUNK_BYTES):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise http.client.IncompleteRead(b"", total - received)


def _folder_files(folder: Path) -> dict[str, SourceFile]:
    files: dict[str, SourceFile] = {}
    for spec in TABLES:
        # A plain file wins over its .gz twin: it is what someone unpacked on purpose.
        candidates = [folder / spec.file, folder / f"{spec.file}.gz"]
        found = next((path for path in candidates if path.is_file()), None)
        if found is None:
            raise DataError(
                f"{folder} has no {spec.file} (or {spec.file}.gz); {SOURCE_SETTING} must name a folder "
                f"holding {_LAYOUT}."
            )
        files[spec.file] = SourceFile(str(found), _file_opener(found), found.suffix == ".gz")
    return files


def _file_opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def _zip_files(archive: Path) -> dict[str, SourceFile]:
    try:
        with zipfile.ZipFile(archive) as opened:
            members = [name for name in opened.namelist() if not name.endswith("/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot open the zip {archive}: {exc}; delete it to download it again.") from None
    files: dict[str, SourceFile] = {}
    for spec in TABLES:
        candidates = sorted(
            (len(PurePosixPath(name).parts), PurePosixPath(name).name != spec.file, name)
            for name in members
            if PurePosixPath(name).name in (spec.file, f"{spec.file}.gz")
            and len(PurePosixPath(name).parts) <= 2
            and not name.startswith("__MACOSX/")
        )
        if not candidates:
            raise DataError(f"the zip {archive} has no {spec.file} at its top or in one folder.")
        member = candidates[0][2]
        files[spec.file] = SourceFile(
            f"{archive}:{member}", _member_opener(archive, member), member.endswith(".gz")
        )
    return files


def _member_opener(archive: Path, member: str) -> Opener:
    @contextlib.contextmanager
    def open_member() -> Iterator[IO[bytes]]:
        with zipfile.ZipFile(archive) as opened, opened.open(member) as handle:
            yield handle

    return open_member


def read_table(file: SourceFile, spec: TableSpec) -> pd.DataFrame:
    """The columns of ``spec`` that ``file`` has, with ``spec.dtypes`` when every value fits them.

    Otherwise every column comes back as text, for validation to report the bad rows.
    """
    try:
        return _read_csv(file, spec, dict(spec.dtypes))
    except (ValueError, OverflowError):
        # A value that does not fit the dtype (e.g. "abc" or an empty id): read as text instead.
        return _read_csv(file, spec, dict.fromkeys(spec.columns, "str"))


def _read_csv(file: SourceFile, spec: TableSpec, dtypes: dict[str, str]) -> pd.DataFrame:
    try:
        with file.open() as handle:
            frame = pd.read_csv(
                handle,
                usecols=lambda column: column in spec.columns,
                dtype=dtypes,
                compression="gzip" if file.gzipped else None,
            )
    except pd.errors.EmptyDataError:
        raise DataError(f"{spec.file} ({file.name}) is empty.") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{spec.file} ({file.name}) is not a well-formed CSV: {exc}") from None
    except (OSError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {spec.file} ({file.name}): {exc}") from None
    return frame
