"""The readers' app talks to the backend over HTTP only: it imports no other part of ReadCrumbs."""

from __future__ import annotations

import ast
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
# The shared package and the other services; the app may only reach them through the HTTP API.
FORBIDDEN = {"readcrumbs", "backend", "monitoring", "experiments"}


def imported_packages(source: str) -> set[str]:
    """Top-level names of every absolute import in ``source``, wherever it sits (functions too)."""
    packages = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            packages.add(node.module.split(".")[0])
    return packages


def test_the_checker_sees_every_form_of_import() -> None:
    source = (
        "import readcrumbs.errors\n"
        "from backend.main import create_app\n"
        "def later():\n    import monitoring as m\n"
        "from . import books\n"
        "import experiments.data, json\n"
    )

    assert imported_packages(source) == {"readcrumbs", "backend", "monitoring", "experiments", "json"}


def test_the_app_imports_no_other_part_of_readcrumbs() -> None:
    modules = sorted(FRONTEND.rglob("*.py"))
    assert len(modules) > 5  # the scan found the app

    offending = {
        str(path.relative_to(FRONTEND)): sorted(imported_packages(path.read_text()) & FORBIDDEN)
        for path in modules
    }
    assert {name: found for name, found in offending.items() if found} == {}
