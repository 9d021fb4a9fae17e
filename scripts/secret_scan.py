"""Look for secrets in the files git knows about: ``python -m scripts.secret_scan [PATH ...]``.

With no PATH it scans every tracked file plus untracked ones that ``.gitignore`` does not hide
(``git ls-files --cached --others --exclude-standard``), so a key is caught before its first
commit. It exits 0 when clean and 1 with ``path:line: rule`` per finding; the secret itself is
never printed, so the lint log does not leak it either.

Rules:

- ``aws-access-key-id``: ``AKIA…``/``ASIA…`` followed by 16 capitals or digits;
- ``private-key``: a PEM ``-----BEGIN … PRIVATE KEY-----`` block;
- ``aws-secret-access-key``: 40 base64 characters assigned to an ``aws_secret_access_key`` name;
- ``wandb-api-key``: 40 hex characters assigned to ``WANDB_API_KEY`` or given to ``wandb login``;
- ``assigned-token``: a value of 16+ characters, letters and digits mixed, assigned to a name
  ending in KEY, TOKEN, SECRET or PASSWORD (quoted, or ``NAME=value`` on a line of its own), whose
  Shannon entropy is at least :data:`MIN_ENTROPY_BITS` bits per character and that does not look
  like a placeholder (``example``, ``changeme``, ``test``, ``<...>``, ``${...}``).

A line that contains ``secret-scan: ignore`` is skipped: mark a deliberate fake value (a test's)
that way, with a comment saying why.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE_MARK = "secret-scan: ignore"
MAX_FILE_BYTES = 2 * 1024 * 1024
MIN_TOKEN_CHARS = 16
MIN_ENTROPY_BITS = 3.5
PLACEHOLDER_WORDS = (
    "example",
    "changeme",
    "change-me",
    "placeholder",
    "dummy",
    "fake",
    "test",
    "your",
    "xxxx",
)

_NAME = r"[A-Za-z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD)"
_ASSIGNED = (
    # NAME = "value", NAME: 'value', "NAME": "value" (code, JSON, YAML)
    re.compile(
        rf"(?i)\b(?P<name>{_NAME})\b['\"]?\s*[:=]\s*['\"](?P<value>[^'\"\s]{{{MIN_TOKEN_CHARS},}})['\"]"
    ),
    # NAME=value at the start of a line (shell, .env files, Dockerfiles): variable names in capitals
    re.compile(
        rf"^\s*(?:export\s+|ENV\s+)?(?P<name>[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD))\s*=\s*"
        rf"(?P<value>[^\s'\"#(),]{{{MIN_TOKEN_CHARS},}})\s*(?:#.*)?$"
    ),
)
_FIXED_RULES = (
    ("aws-access-key-id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    (
        "aws-secret-access-key",
        re.compile(r"(?i)aws_?secret_?access_?key['\"]?\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    ),
    (
        "wandb-api-key",
        re.compile(r"(?i)(?:wandb_api_key['\"]?\s*[:=]\s*['\"]?|wandb\s+login\s+)[0-9a-f]{40}(?![0-9a-f])"),
    ),
)


@dataclass(frozen=True)
class Finding:
    """A probable secret: where it is and which rule matched (never the value)."""

    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s character distribution (0 for an empty string)."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_like_a_token(value: str) -> bool:
    """Long, random-looking, and not a placeholder or a reference to another variable."""
    lowered = value.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or value.startswith(("<", "${", "$(", "%(", "{")):
        return False
    # Generated keys mix letters and digits; names, words and widget keys (cache_key="top_books") do not.
    has_letters_and_digits = any(c.isalpha() for c in value) and any(c.isdigit() for c in value)
    return has_letters_and_digits and shannon_entropy(value) >= MIN_ENTROPY_BITS


def scan_text(text: str, path: str) -> Iterator[Finding]:
    """Every finding in one file's text."""
    for number, line in enumerate(text.splitlines(), start=1):
        if IGNORE_MARK in line:
            continue
        fixed = [Finding(path, number, rule) for rule, pattern in _FIXED_RULES if pattern.search(line)]
        yield from fixed
        if fixed:
            continue  # one kind of secret found on the line is enough to name it
        for pattern in _ASSIGNED:
            match = pattern.search(line)
            if match and looks_like_a_token(match.group("value")):
                yield Finding(path, number, "assigned-token")
                break


def read_text(path: Path) -> str | None:
    """The file as text, or None when it is binary, huge, or gone."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def git_files(root: Path) -> list[Path]:
    """Tracked files plus untracked ones .gitignore does not hide."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    return [root / name for name in sorted(set(listed.decode().split("\0"))) if name]


def scan(paths: Iterable[Path], root: Path) -> list[Finding]:
    findings: list[Finding] = []
    for path in paths:
        text = read_text(path)
        if text is not None:
            shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
            findings.extend(scan_text(text, shown))
    return findings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.secret_scan", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files to scan (default: what git knows about)")
    args = parser.parse_args(argv)
    paths = [path.resolve() for path in args.paths] if args.paths else git_files(ROOT)
    findings = scan(paths, ROOT)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"secret scan: {len(findings)} probable secret(s) in {len(paths)} files; remove them (and rotate "
            f"them), or mark a deliberate fake value with '{IGNORE_MARK}'",
            file=sys.stderr,
        )
        return 1
    print(f"secret scan: {len(paths)} files, no secrets found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
