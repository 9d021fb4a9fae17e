"""The registry command line: list, show, promote (gate, --force), rollback, delete, verify."""

from __future__ import annotations

import json

import pytest

from experiments import registry_cli
from readcrumbs.registry import PRODUCTION, Registry, open_registry
from readcrumbs.settings import Settings

NAME = "readcrumbs"


def register(registry: Registry, recall: float, l2: float, split: str = "split-1") -> int:
    manifest = registry.register(
        NAME,
        "ease",
        {"model.npz": f"weights {l2}".encode(), "catalogue.parquet": b"books"},
        params={"l2": l2},
        metrics={"fav3": {"recall@10": recall}, "fold80": {"recall@20": recall + 0.1}},
        data_version="d1",
        split_id=split,
    )
    return manifest.version


def cli(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = registry_cli.main(list(argv), settings=settings)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, text: str) -> None:
    assert err.startswith("error: ") and text in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture
def registry(settings: Settings) -> Registry:
    return open_registry(settings)


def test_list_an_empty_registry(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(settings, capsys, "list")
    assert code == 0 and "no versions of 'readcrumbs'" in out


def test_list_shows_metrics_and_aliases(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    first = register(registry, 0.2, 1.0)
    second = register(registry, 0.3, 2.0)
    registry.promote(NAME, first)
    registry.set_alias(NAME, "staging", second)
    code, out, _ = cli(settings, capsys, "list")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["version", "type", "created", "fav3", "r@10", "fold80", "r@20", "aliases"]
    assert lines[1].split()[0] == "1" and "0.2000" in lines[1] and "0.3000" in lines[1]
    assert lines[1].endswith("production") and lines[2].endswith("staging")


def test_show_prints_the_manifest(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    version = register(registry, 0.2, 1.0)
    code, out, _ = cli(settings, capsys, "show", str(version))
    manifest = json.loads(out)
    assert code == 0 and manifest["version"] == version and manifest["params"] == {"l2": 1.0}


def test_show_an_unknown_version(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(settings, capsys, "show", "9")
    assert code == 2
    assert_one_line_error(err, "has no version 9")


def test_promote_applies_the_gate_unless_forced(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    good, worse = register(registry, 0.3, 1.0), register(registry, 0.2, 2.0)
    assert cli(settings, capsys, "promote", str(good))[0] == 0
    code, _, err = cli(settings, capsys, "promote", str(worse))
    assert code == 2
    assert_one_line_error(err, "does not beat production")
    assert registry.alias(NAME, PRODUCTION) == good
    code, out, _ = cli(settings, capsys, "promote", str(worse), "--force")
    assert code == 0 and "(forced)" in out
    assert registry.alias(NAME, PRODUCTION) == worse


def test_promote_refuses_a_different_split(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.promote(NAME, register(registry, 0.2, 1.0))
    candidate = register(registry, 0.9, 2.0, split="split-2")
    code, _, err = cli(settings, capsys, "promote", str(candidate))
    assert code == 2
    assert_one_line_error(err, "different held-out splits")


def test_rollback(settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = register(registry, 0.2, 1.0), register(registry, 0.3, 2.0)
    registry.promote(NAME, first)
    registry.promote(NAME, second)
    code, out, _ = cli(settings, capsys, "rollback")
    assert code == 0 and f"rolled back to v{first}" in out
    assert registry.alias(NAME, PRODUCTION) == first
    code, _, err = cli(settings, capsys, "rollback")
    assert code == 2
    assert_one_line_error(err, "no earlier version")


def test_delete_refuses_versions_an_alias_needs(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, spare = (register(registry, 0.1 * i, float(i)) for i in (1, 2, 3))
    registry.promote(NAME, first)
    registry.promote(NAME, second)
    code, _, err = cli(settings, capsys, "delete", str(second))
    assert code == 2
    assert_one_line_error(err, "is 'production'")
    code, _, err = cli(settings, capsys, "delete", str(first))
    assert code == 2
    assert_one_line_error(err, "can roll back to version")
    code, out, _ = cli(settings, capsys, "delete", str(spare))
    assert code == 0 and f"deleted readcrumbs v{spare}" in out
    assert registry.versions(NAME) == [first, second]


def test_verify_passes_then_catches_a_corrupt_file(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    version = register(registry, 0.2, 1.0)
    code, out, _ = cli(settings, capsys, "verify", str(version))
    assert code == 0 and "2 files match" in out
    registry.store.write(f"models/{NAME}/versions/{version}/model.npz", b"tampered")
    code, _, err = cli(settings, capsys, "verify", str(version))
    assert code == 2
    assert_one_line_error(err, "does not match its manifest checksum")


def test_another_model_name(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    register(registry, 0.2, 1.0)
    code, out, _ = cli(settings, capsys, "--name", "other", "list")
    assert code == 0 and "no versions of 'other'" in out


def test_bad_settings_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from readcrumbs.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("READCRUMBS_REGISTRY_URL", "ftp://nowhere")
    try:
        code = registry_cli.main(["list"])
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert code == 2
    assert_one_line_error(err, "READCRUMBS_REGISTRY_URL must start with")


def test_challenge_sets_and_clears_the_challenger_alias(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = register(registry, 0.2, 1.0), register(registry, 0.3, 2.0)
    registry.promote(NAME, first)
    code, out, _ = cli(settings, capsys, "challenge", str(second))
    assert code == 0 and f"v{second} is now challenger" in out
    assert registry.alias(NAME, "challenger") == second
    assert "challenger" in cli(settings, capsys, "list")[1].splitlines()[2]
    code, out, _ = cli(settings, capsys, "challenge", "--clear")
    assert code == 0 and f"(was v{second})" in out and registry.alias(NAME, "challenger") is None
    assert "challenger" not in cli(settings, capsys, "list")[1]
    code, out, _ = cli(settings, capsys, "rollback", "--alias", "challenger")
    assert code == 0 and registry.alias(NAME, "challenger") == second
    assert registry.alias(NAME, PRODUCTION) == first


def test_challenge_refuses_an_unknown_version(
    settings: Settings, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(settings, capsys, "challenge", "7")
    assert code == registry_cli.EXIT_REFUSED
    assert_one_line_error(err, "7")
