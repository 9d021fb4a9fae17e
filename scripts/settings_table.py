"""Print every ``READCRUMBS_`` setting as a Markdown table, read from the settings classes.

``python -m scripts.settings_table`` finds each pydantic-settings class in the project's packages
(by reading their source, so nothing else is imported), and lists each field once, under the
class that declares it: variable, default, the process that reads it, and its description.
The README's settings table is this output; ``tests/scripts/test_settings_table.py`` checks that
``.env.example`` documents every variable it lists.
"""

from __future__ import annotations

import ast
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("readcrumbs", "backend", "frontend", "monitoring", "experiments", "scripts")
# Which process reads each class's own fields, in words for the table.
READERS = {
    "Settings": "every process",
    "BackendSettings": "backend",
    "FrontendSettings": "readers' app",
    "MonitoringSettings": "dashboard",
    "SparkSettings": "Spark training",
    "RunSettings": "`make run`",
    "SimulationSettings": "simulated readers",
    "RetrainSettings": "`make retrain`",
}


@dataclass(frozen=True)
class SettingRow:
    """One variable: its name, default as text, who reads it and what it means."""

    variable: str
    default: str
    reader: str
    description: str


def settings_class_locations(root: Path = ROOT) -> list[tuple[str, str]]:
    """``(module, class name)`` of every class whose base's name ends in ``Settings``."""
    found: list[tuple[str, str]] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and any(
                    (isinstance(base, ast.Name) and base.id.endswith("Settings"))
                    or (isinstance(base, ast.Attribute) and base.attr.endswith("Settings"))
                    for base in node.bases
                ):
                    found.append((module, node.name))
    return found


def settings_classes(root: Path = ROOT) -> list[type[BaseSettings]]:
    """The settings classes themselves, shared ones first."""
    classes: list[type[BaseSettings]] = []
    for module, name in settings_class_locations(root):
        cls = getattr(importlib.import_module(module), name)
        if isinstance(cls, type) and issubclass(cls, BaseSettings):
            classes.append(cls)
    # The shared class first, then by name, so the table reads from general to specific.
    return sorted(classes, key=lambda cls: (cls.__name__ != "Settings", cls.__name__))


def _default_text(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, tuple | list):
        return ",".join(map(str, value)) or "(empty)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def rows(classes: list[type[BaseSettings]]) -> list[SettingRow]:
    """One row per field, under the class that declares it (inherited fields are skipped)."""
    table: list[SettingRow] = []
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", ""))
        inherited: set[str] = set()
        for base in cls.__mro__[1:]:
            if isinstance(base, type) and issubclass(base, BaseSettings):
                inherited |= set(base.model_fields)
        for name, info in cls.model_fields.items():
            if name in inherited:
                continue
            table.append(
                SettingRow(
                    variable=f"{prefix}{name}".upper(),
                    default=_default_text(info.default),
                    reader=READERS.get(cls.__name__, cls.__name__),
                    description=(info.description or "").replace("|", "\\|"),
                )
            )
    return table


def markdown(table: list[SettingRow]) -> str:
    """The rows as a Markdown table."""
    lines = ["| variable | default | read by | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| `{r.variable}` | `{r.default}` | {r.reader} | {r.description} |" for r in table]
    return "\n".join(lines)


def main() -> int:
    """Print the table."""
    print(markdown(rows(settings_classes())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
