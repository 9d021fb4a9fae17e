"""Audit the installed dependencies for known vulnerabilities: ``python -m scripts.dependency_audit``.

Runs pip-audit over this virtualenv (the editable project itself skipped) against PyPI's
vulnerability data, and decides:

- a dependency with a known vulnerability: print them, exit 1 (``make lint`` fails);
- the vulnerability service cannot be reached (no network; or a package mirror that serves
  installs but not PyPI's JSON API, where every dependency comes back "not found on PyPI"):
  print a loud WARNING, exit 0, so CI on a machine without that service does not fail;
- pip-audit itself broken (not installed, bad arguments): exit 2.

Extra arguments go to pip-audit, e.g. ``--ignore-vuln GHSA-xxxx`` for an accepted finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT_S = 600
NETWORK_FAILURES = (
    "ConnectionError",
    "Max retries exceeded",
    "NameResolutionError",
    "Failed to resolve",
    "Connection refused",
    "timed out",
    "Temporary failure in name resolution",
    "Network is unreachable",
)
NOT_FOUND = "not found on PyPI"


@dataclass(frozen=True)
class Vulnerable:
    """One installed dependency with known vulnerabilities."""

    name: str
    version: str
    ids: tuple[str, ...]
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What to print and the exit status."""

    status: int
    message: str


def vulnerable_dependencies(report: dict[str, Any]) -> list[Vulnerable]:
    """The dependencies of a pip-audit JSON report that carry at least one vulnerability."""
    found = []
    for dependency in report.get("dependencies", []):
        vulns = dependency.get("vulns") or []
        if vulns:
            found.append(
                Vulnerable(
                    name=str(dependency["name"]),
                    version=str(dependency.get("version", "?")),
                    ids=tuple(str(vuln["id"]) for vuln in vulns),
                    fixed_in=tuple(sorted({str(v) for vuln in vulns for v in vuln.get("fix_versions", [])})),
                )
            )
    return found


def judge(returncode: int, report: dict[str, Any] | None, output: str) -> Verdict:
    """The verdict on one pip-audit run: its exit status, its JSON report (if written) and its output."""
    if report is None:
        if any(marker in output for marker in NETWORK_FAILURES):
            return Verdict(0, warning("pip-audit could not reach the vulnerability service", output))
        return Verdict(2, f"pip-audit failed (exit {returncode}):\n{tail(output)}")
    vulnerable = vulnerable_dependencies(report)
    if vulnerable:
        lines = [f"pip-audit: {len(vulnerable)} dependencies with known vulnerabilities:"]
        lines += [
            f"  {v.name} {v.version}: {', '.join(v.ids)}"
            + (f" (fixed in {', '.join(v.fixed_in)})" if v.fixed_in else " (no fix yet)")
            for v in vulnerable
        ]
        lines.append("Upgrade them (constraints.txt), or pass --ignore-vuln ID for an accepted risk.")
        return Verdict(1, "\n".join(lines))
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    unknown = [d for d in dependencies if NOT_FOUND in str(d.get("skip_reason", ""))]
    if dependencies and not audited:
        reason = f"all {len(dependencies)} dependencies were skipped ({len(unknown)} 'not found on PyPI')"
        return Verdict(0, warning("the vulnerability service answered for no dependency", reason))
    note = f"; {len(unknown)} not found on PyPI, not audited" if unknown else ""
    return Verdict(0, f"pip-audit: no known vulnerabilities in {len(audited)} dependencies{note}")


def warning(headline: str, detail: str) -> str:
    bar = "!" * 78
    return (
        f"{bar}\nWARNING: DEPENDENCY AUDIT NOT DONE: {headline}.\n{tail(detail, 5)}\n"
        f"Run `make lint` where PyPI's vulnerability data can be reached before a release.\n{bar}"
    )


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_pip_audit(extra: Sequence[str]) -> Verdict:
    """pip-audit over this interpreter's environment, judged."""
    with tempfile.TemporaryDirectory(prefix="readcrumbs-audit-") as folder:
        report_path = Path(folder) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report_path),
            *extra,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return Verdict(0, warning(f"pip-audit did not finish within {TIMEOUT_S} s", "timed out"))
        report = None
        if report_path.exists() and report_path.stat().st_size:
            report = json.loads(report_path.read_text())
        return judge(done.returncode, report, done.stdout + done.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    verdict = run_pip_audit(list(sys.argv[1:] if argv is None else argv))
    print(verdict.message, file=sys.stderr if verdict.status else sys.stdout)
    return verdict.status


if __name__ == "__main__":
    sys.exit(main())
