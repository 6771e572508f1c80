"""Source schemas as data: one YAML file per source under ``linkage_ops/schemas/``.

A schema names the tables a source delivers, how each table's file is recognised, and a rule
per column. Adding a source or a new collection year is a data change, not new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

FIELD_TYPES = frozenset(
    {"text", "integer", "date", "boolean", "code", "pattern", "upn", "nhs_number", "postcode"}
)


@dataclass(frozen=True)
class FieldRule:
    """How one column is checked.

    ``on_invalid`` says what a failing value does to its row: ``reject`` sends the row to
    quarantine; ``flag`` loads the row and records the finding (used for identifiers, which
    linkage then refuses to trust).
    """

    name: str
    type: str = "text"
    required: bool = False
    on_invalid: str = "reject"
    date_format: str | None = None
    codes: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class TableSchema:
    """One table of a source: its file-name pattern, record id column and column rules."""

    name: str
    file_pattern: re.Pattern[str]
    record_id: str
    columns: tuple[FieldRule, ...]

    @property
    def column_names(self) -> list[str]:
        return [rule.name for rule in self.columns]


@dataclass(frozen=True)
class SourceSchema:
    """Everything the loader needs to know about one source's files."""

    source: str
    period_pattern: re.Pattern[str]
    tables: dict[str, TableSchema] = field(default_factory=dict)

    def table_for_file(self, file_name: str) -> TableSchema | None:
        """The table whose file pattern matches ``file_name``, if any."""
        for table in self.tables.values():
            if table.file_pattern.match(file_name):
                return table
        return None


def _field_rule(name: str, spec: dict, formats: dict[str, str]) -> FieldRule:
    field_type = spec.get("type", "text")
    if field_type not in FIELD_TYPES:
        raise ValueError(f"column {name}: unknown type {field_type!r}")
    on_invalid = spec.get("on_invalid", "reject")
    if on_invalid not in {"reject", "flag"}:
        raise ValueError(f"column {name}: on_invalid must be reject or flag")
    date_format = spec.get("format")
    if field_type == "date":
        if date_format is None:
            raise ValueError(f"column {name}: a date needs a format")
        date_format = formats.get(date_format, date_format)
    return FieldRule(
        name=name,
        type=field_type,
        required=bool(spec.get("required", False)),
        on_invalid=on_invalid,
        date_format=date_format,
        codes=frozenset(str(code) for code in spec.get("codes", [])),
        pattern=re.compile(spec["pattern"]) if "pattern" in spec else None,
    )


@cache
def load_schema(source: str, schema_dir: Path = SCHEMA_DIR) -> SourceSchema:
    """Load ``<schema_dir>/<source>.yaml``."""
    path = schema_dir / f"{source}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    formats = document.get("formats", {})
    tables = {
        table_name: TableSchema(
            name=table_name,
            file_pattern=re.compile(spec["file_pattern"]),
            record_id=spec["record_id"],
            columns=tuple(
                _field_rule(column, rule or {}, formats) for column, rule in spec["columns"].items()
            ),
        )
        for table_name, spec in document["tables"].items()
    }
    return SourceSchema(
        source=document["source"],
        period_pattern=re.compile(document["period_pattern"]),
        tables=tables,
    )


def available_sources(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Names of the sources that have a schema file."""
    return sorted(path.stem for path in schema_dir.glob("*.yaml"))
