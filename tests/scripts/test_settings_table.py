"""scripts.settings_table: every setting is found, listed once, and documented in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from readcrumbs.settings import Settings
from scripts.settings_table import ROOT, markdown, rows, settings_class_locations, settings_classes


class _ToolSettings(Settings):
    """A subclass as the services write them: one new field on top of the shared ones."""

    widget_count: int = Field(3, description="How many | widgets.")


class _OtherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTHER_")
    flags: tuple[str, ...] = Field((), description="Flags.")
    enabled: bool = Field(True, description="On or off.")


def test_a_subclass_lists_only_its_own_fields():
    table = rows([Settings, _ToolSettings])
    variables = [row.variable for row in table]
    assert variables.count("READCRUMBS_HOME") == 1
    assert variables[-1] == "READCRUMBS_WIDGET_COUNT"
    assert table[-1].default == "3"
    assert table[-1].description == "How many \\| widgets."


def test_defaults_are_written_as_people_type_them():
    table = {row.variable: row.default for row in rows([_OtherSettings])}
    assert table == {"OTHER_FLAGS": "(empty)", "OTHER_ENABLED": "true"}


def test_markdown_has_a_header_and_one_line_per_row():
    text = markdown(rows([_OtherSettings]))
    lines = text.splitlines()
    assert lines[0].startswith("| variable |")
    assert len(lines) == 4
    assert "`OTHER_ENABLED` | `true`" in lines[3]


def test_discovery_finds_the_settings_classes_by_reading_source(tmp_path: Path):
    package = tmp_path / "backend"
    package.mkdir()
    (package / "config.py").write_text(
        "import pydantic_settings\nclass A(Settings): ...\nclass B(pydantic_settings.BaseSettings): ...\n"
        "class C: ...\n"
    )
    assert settings_class_locations(tmp_path) == [("backend.config", "A"), ("backend.config", "B")]


def test_the_project_settings_include_every_process():
    names = {cls.__name__ for cls in settings_classes()}
    assert {"Settings", "BackendSettings", "FrontendSettings", "MonitoringSettings", "RunSettings"} <= names


def test_env_example_documents_every_setting():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    missing = [row.variable for row in rows(settings_classes()) if row.variable not in documented]
    assert not missing, f".env.example does not document {missing}"
