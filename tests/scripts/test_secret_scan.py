"""scripts.secret_scan: the repository is clean, and planted fake secrets are caught (and not printed).

Every fake secret below is assembled at run time, so this file itself holds none to find.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts import secret_scan
from scripts.secret_scan import git_files, looks_like_a_token, scan_text, shannon_entropy

FAKE_AWS_ID = "AKIA" + "Z7Q2M4X9K3B8N1W5"
FAKE_AWS_SECRET = "wJalr" + "XUtnFEMI/K7MDENG/bPxRfiCY" + "9f3Kq2Lm8Z"
FAKE_WANDB = "3f9a" + "c1d2e4b5a6978f0e1d2c3b4a5968778695a4b3c2"[:36]
FAKE_TOKEN = "rk_" + "9fQ2xL7vB3nM8kP1tZ6wY4hJ"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----"

PLANTED = {
    "aws-access-key-id": f"aws_access_key_id = {FAKE_AWS_ID}",
    "aws-secret-access-key": f"aws_secret_access_key = {FAKE_AWS_SECRET}",
    "private-key": PEM,
    "wandb-api-key": f"WANDB_API_KEY={FAKE_WANDB}",
    "assigned-token": f'STRIPE_API_KEY = "{FAKE_TOKEN}"',
}


@pytest.mark.parametrize(("rule", "line"), sorted(PLANTED.items()))
def test_each_rule_catches_its_planted_secret(rule, line):
    findings = list(scan_text(f"first line\n{line}\n", "planted.txt"))
    assert [(f.line, f.rule) for f in findings if f.rule == rule] == [(2, rule)]


@pytest.mark.parametrize(
    "line",
    [
        f"export DEPLOY_TOKEN={FAKE_TOKEN}",
        f"DEPLOY_TOKEN={FAKE_TOKEN}  # from the vault",
        f'{{"github_token": "{FAKE_TOKEN}"}}',
        f"db_password: '{FAKE_TOKEN}'",
    ],
)
def test_assignments_in_shell_json_and_yaml_are_caught(line):
    assert [f.rule for f in scan_text(line, "x")] == ["assigned-token"]


@pytest.mark.parametrize(
    "line",
    [
        'ADMIN_TOKEN = "test-admin-token-0123456789"',  # a test's placeholder
        "READCRUMBS_ADMIN_TOKEN=<generate one>",
        'API_KEY = "${API_KEY_FROM_VAULT}"',
        'cache_key="popularity_chart"',  # a widget key, not a secret
        "split_key=split_id(dataset.version, readers, seed)",
        'token = "aaaaaaaaaaaaaaaaaaaa1"',  # long but not random
        "AWS_SECRET_ACCESS_KEY=",
        f'STRIPE_API_KEY = "{FAKE_TOKEN}"  # secret-scan: ignore (a documented fake)',
    ],
)
def test_placeholders_code_and_marked_lines_are_not_findings(line):
    assert list(scan_text(line, "x")) == []


def test_entropy_and_token_shape():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert looks_like_a_token(FAKE_TOKEN)
    assert not looks_like_a_token("correcthorsebatterystaple")  # letters only


def test_a_planted_file_fails_the_scan_without_printing_the_secret(tmp_path, capsys):
    planted = tmp_path / "settings.env"
    planted.write_text("\n".join(PLANTED.values()) + "\n")
    assert secret_scan.main([str(planted)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == len(PLANTED)
    assert "probable secret" in err
    for secret in (FAKE_AWS_ID, FAKE_AWS_SECRET, FAKE_WANDB, FAKE_TOKEN):
        assert secret not in out + err


def test_binary_files_are_skipped(tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\0\1\2" + FAKE_AWS_ID.encode())
    assert secret_scan.scan([binary], tmp_path) == []


def test_untracked_files_not_ignored_by_git_are_scanned(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("ignored.txt\n")
    (tmp_path / "new.txt").write_text(f"aws_access_key_id = {FAKE_AWS_ID}\n")
    (tmp_path / "ignored.txt").write_text(f"aws_access_key_id = {FAKE_AWS_ID}\n")
    files = git_files(tmp_path)
    assert [path.name for path in files] == [".gitignore", "new.txt"]
    assert [str(finding) for finding in secret_scan.scan(files, tmp_path)] == ["new.txt:1: aws-access-key-id"]


def test_the_repository_itself_is_clean(capsys):
    assert secret_scan.main([]) == 0, capsys.readouterr().out
    assert Path(secret_scan.ROOT / ".git").exists()
