"""scripts.dependency_audit: a found vulnerability fails lint; an unreachable service only warns.

pip-audit's answers are canned here (its JSON report format, its network errors): the real
service is outside the test network.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from scripts import dependency_audit
from scripts.dependency_audit import judge, vulnerable_dependencies

CLEAN = {
    "dependencies": [
        {"name": "fastapi", "version": "0.165.0", "vulns": []},
        {"name": "numpy", "version": "2.4.6", "vulns": []},
        {"name": "readcrumbs", "skip_reason": "distribution marked as editable"},
    ],
    "fixes": [],
}
VULNERABLE = {
    "dependencies": [
        {"name": "fastapi", "version": "0.165.0", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]},
                {"id": "PYSEC-2024-1", "fix_versions": ["3.1.4", "3.1.3"]},
            ],
        },
        {"name": "left-pad", "version": "1.0", "vulns": [{"id": "OSV-1", "fix_versions": []}]},
    ],
    "fixes": [],
}
MIRROR_WITHOUT_JSON_API = {
    "dependencies": [
        {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}
        for name in ("fastapi", "numpy", "pandas")
    ],
    "fixes": [],
}


def test_a_vulnerable_dependency_fails_and_names_the_fix():
    verdict = judge(1, VULNERABLE, "Found 3 known vulnerabilities in 2 packages")
    assert verdict.status == 1
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95, PYSEC-2024-1 (fixed in 3.1.3, 3.1.4)" in verdict.message
    assert "left-pad 1.0: OSV-1 (no fix yet)" in verdict.message
    assert [v.name for v in vulnerable_dependencies(VULNERABLE)] == ["jinja2", "left-pad"]


def test_a_clean_audit_passes_quietly():
    verdict = judge(0, CLEAN, "No known vulnerabilities found")
    assert verdict.status == 0
    assert verdict.message == "pip-audit: no known vulnerabilities in 2 dependencies"


def test_an_unreachable_service_only_warns_loudly():
    output = (
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): "
        "Max retries exceeded with url: /pypi/fastapi/0.165.0/json"
    )
    verdict = judge(1, None, output)
    assert verdict.status == 0
    assert "WARNING: DEPENDENCY AUDIT NOT DONE" in verdict.message and "Max retries" in verdict.message


def test_a_mirror_that_knows_no_vulnerability_data_only_warns():
    verdict = judge(0, MIRROR_WITHOUT_JSON_API, "No known vulnerabilities found")
    assert verdict.status == 0
    assert "WARNING: DEPENDENCY AUDIT NOT DONE" in verdict.message
    assert "all 3 dependencies were skipped (3 'not found on PyPI')" in verdict.message


def test_a_partly_answered_audit_passes_and_says_what_was_not_audited():
    report = {"dependencies": CLEAN["dependencies"] + MIRROR_WITHOUT_JSON_API["dependencies"][:1]}
    verdict = judge(0, report, "")
    assert verdict.status == 0
    assert verdict.message.endswith("2 dependencies; 1 not found on PyPI, not audited")


def test_pip_audit_itself_failing_is_an_error():
    verdict = judge(2, None, "pip-audit: error: unrecognized arguments: --bogus")
    assert verdict.status == 2 and "unrecognized arguments" in verdict.message


def test_main_runs_pip_audit_on_this_environment_and_passes_extra_arguments(monkeypatch, capsys):
    seen: list[list[str]] = []

    def fake_run(command, **kwargs):
        seen.append(command)
        report = Path(command[command.index("--output") + 1])
        report.write_text(json.dumps(VULNERABLE))
        return subprocess.CompletedProcess(command, 1, stdout="", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert dependency_audit.main(["--ignore-vuln", "GHSA-xxxx"]) == 1
    [command] = seen
    assert command[1:3] == ["-m", "pip_audit"] and "--skip-editable" in command
    assert command[-2:] == ["--ignore-vuln", "GHSA-xxxx"]
    assert "jinja2" in capsys.readouterr().err
