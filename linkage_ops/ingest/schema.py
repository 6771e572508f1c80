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
    # XML only: where the value sits, relative to the record element ("." = its own text).
    path: str | None = None
    on_invalid: str = "reject"
    date_format: str | None = None
    codes: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class TableSchema:
    """One table of a source: how its file or records are found, its record id column and
    its column rules."""

    name: str
    file_pattern: re.Pattern[str] | None
    record_id: str
    columns: tuple[FieldRule, ...]
    # XML only: slash path of the record elements below the root, e.g. Children/Child.
    record_path: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [rule.name for rule in self.columns]


@dataclass(frozen=True)
class SourceSchema:
    """Everything the loader needs to know about one source's files."""

    source: str
    period_pattern: re.Pattern[str]
    tables: dict[str, TableSchema] = field(default_factory=dict)
    # "csv" (one file per table) or "xml" (one file holding every table).
    format: str = "csv"
    # CSV tables are recognised by file name, or (SSDA903) by the set of columns they carry.
    recognise_tables_by: str = "file_name"
    # XML only: the file-name pattern and the root element.
    file_pattern: re.Pattern[str] | None = None
    root: str | None = None
    # Freshness: days the latest period may be past due before the source counts as overdue
    # (None: the default for its cadence, linkage_ops.census_calendar.MAX_DAYS_LATE).
    max_days_late: int | None = None

    @property
    def columns_by_table(self) -> dict[str, list[str]]:
        """Each table's columns: what a writer of this source's files must put in its header."""
        return {name: table.column_names for name, table in self.tables.items()}

    def table_for_file(self, file_name: str) -> TableSchema | None:
        """The table whose file pattern matches ``file_name``, if any."""
        for table in self.tables.values():
            if table.file_pattern is not None and table.file_pattern.match(file_name):
                return table
        return None

    def table_for_header(self, header: list[str]) -> TableSchema | None:
        """The table all of whose columns the header carries; the table with the most columns
        wins, so Header (7 columns) is not mistaken for UASC (4). ``None`` if none fits or two
        fit equally well."""
        present = set(header)
        fitting = [table for table in self.tables.values() if set(table.column_names) <= present]
        if not fitting:
            return None
        fitting.sort(key=lambda table: len(table.columns), reverse=True)
        if len(fitting) > 1 and len(fitting[0].columns) == len(fitting[1].columns):
            return None
        return fitting[0]


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
        path=spec.get("path"),
    )


# XML records carry their place in the document, so child tables can join to their parents.
XML_KEY_COLUMNS = (FieldRule(name="_xml_key"), FieldRule(name="_parent_xml_key"))


@cache
def load_schema(source: str, schema_dir: Path = SCHEMA_DIR) -> SourceSchema:
    """Load ``<schema_dir>/<source>.yaml``."""
    path = schema_dir / f"{source}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    formats = document.get("formats", {})
    source_format = document.get("format", "csv")
    if source_format not in {"csv", "xml"}:
        raise ValueError(f"{path}: format must be csv or xml")
    tables = {}
    for table_name, spec in document["tables"].items():
        columns = tuple(
            _field_rule(column, rule or {}, formats) for column, rule in spec["columns"].items()
        )
        if source_format == "xml":
            columns += XML_KEY_COLUMNS
        tables[table_name] = TableSchema(
            name=table_name,
            file_pattern=re.compile(spec["file_pattern"]) if "file_pattern" in spec else None,
            record_id=spec["record_id"],
            columns=columns,
            record_path=spec.get("record_path"),
        )
    return SourceSchema(
        source=document["source"],
        period_pattern=re.compile(document["period_pattern"]),
        tables=tables,
        format=source_format,
        recognise_tables_by=document.get("recognise_tables_by", "file_name"),
        file_pattern=re.compile(document["file_pattern"]) if "file_pattern" in document else None,
        root=document.get("root"),
        max_days_late=document.get("max_days_late"),
    )


def available_sources(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Names of the sources that have a schema file."""
    return sorted(path.stem for path in schema_dir.glob("*.yaml"))
