"""Read one source's files for one collection period, checking every row against its schema.

Nothing is lost: each row is either loaded (possibly with flagged findings) or quarantined
with the file, row number, field, value and reason. A file that cannot be read at all raises
``UnreadableFileError`` naming the file and the problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from linkage_ops.identifiers import is_valid_nhs_number, is_valid_upn
from linkage_ops.ingest.errors import UnreadableFileError
from linkage_ops.ingest.schema import FieldRule, SourceSchema, TableSchema
from linkage_ops.ingest.xml_reader import xml_records

_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")
_INTEGER = re.compile(r"^-?\d+$")
_BOOLEANS = frozenset({"True", "False", "true", "false", "TRUE", "FALSE", "1", "0"})


@dataclass(frozen=True)
class Finding:
    """One problem with one value: why a row was quarantined, or a flag on a loaded row."""

    table: str
    source_file: str
    row_number: int
    field: str
    value: str | None
    reason: str
    action: str  # "rejected" (row quarantined) or "flagged" (row loaded)


@dataclass
class TableBatch:
    """The rows of one table file, split into loaded and quarantined."""

    table: TableSchema
    path: Path
    file_sha256: str
    columns: list[str]
    loaded: list[tuple[int, list[str | None]]] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0


@dataclass
class SourceBatch:
    """Everything read for one source and period."""

    source: str
    period: str
    tables: dict[str, TableBatch] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (lineage: which exact file a row came from)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode_text(path: Path, raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), falling back to Windows-1252 exports."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise UnreadableFileError(path, f"not UTF-8 or Windows-1252 text ({error})") from error


def check_value(rule: FieldRule, value: str | None) -> str | None:
    """The reason ``value`` breaks ``rule``, or ``None`` if it is acceptable."""
    if value is None or value.strip() == "":
        return "mandatory field is blank" if rule.required else None
    value = value.strip()
    reason: str | None = None
    if rule.type == "integer" and not _INTEGER.match(value):
        reason = "expected a whole number"
    elif rule.type == "date":
        try:
            datetime.strptime(value, rule.date_format or "")
        except ValueError:
            reason = (
                f"expected a date like {datetime(2024, 10, 3).strftime(rule.date_format or '')}"
            )
    elif rule.type == "boolean" and value not in _BOOLEANS:
        reason = "expected True or False"
    elif rule.type == "code" and value not in rule.codes:
        reason = f"not in the code list ({', '.join(sorted(rule.codes))})"
    elif rule.type == "pattern" and rule.pattern and not rule.pattern.match(value):
        reason = f"does not match {rule.pattern.pattern}"
    elif rule.type == "upn" and not is_valid_upn(value):
        reason = "UPN fails its pattern or check letter"
    elif rule.type == "nhs_number" and not is_valid_nhs_number(value):
        reason = "NHS number fails Modulus 11"
    elif rule.type == "postcode" and not _POSTCODE.match(value.upper()):
        reason = "not a UK postcode"
    return reason


def read_file_bytes(path: Path) -> bytes:
    """The file's bytes; an unopenable or empty file is unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableFileError(path, f"cannot open ({error.strerror})") from error
    if not raw.strip():
        raise UnreadableFileError(path, "file is empty")
    return raw


def check_records(
    table: TableSchema,
    result: TableBatch,
    batch: SourceBatch,
    records: list[tuple[int, list[str | None]]],
) -> None:
    """Check records (row number, values aligned with ``result.columns``) against the table's
    rules; load each one, or quarantine it if any rejecting rule fails.

    Each distinct value of a column is checked once: most columns repeat a few codes or dates,
    so this is what keeps a county-sized load fast.
    """
    rules = {rule.name: rule for rule in table.columns}
    findings_by_row: dict[int, list[Finding]] = {}
    for position, name in enumerate(result.columns):
        rule = rules.get(name)
        if rule is None:
            continue
        reasons = {value: check_value(rule, value) for value in {r[1][position] for r in records}}
        action = "flagged" if rule.on_invalid == "flag" else "rejected"
        for index, (row_number, values) in enumerate(records):
            reason = reasons[values[position]]
            if reason is not None:
                findings_by_row.setdefault(index, []).append(
                    Finding(
                        table.name,
                        result.path.name,
                        row_number,
                        name,
                        values[position],
                        reason,
                        action,
                    )
                )
    for index, (row_number, values) in enumerate(records):
        row_findings = findings_by_row.get(index, [])
        batch.findings.extend(row_findings)
        result.rows_read += 1
        if any(finding.action == "rejected" for finding in row_findings):
            result.rows_rejected += 1
        else:
            result.loaded.append((row_number, values))


def read_csv_file(
    path: Path, schema: SourceSchema, batch: SourceBatch, table: TableSchema | None = None
) -> TableBatch:
    """Read and check one CSV file, adding findings to ``batch``.

    ``table`` is the table the file name says it is; without it the header decides (sources
    such as SSDA903 whose tables are recognised by their columns).
    """
    reader = csv.reader(
        io.StringIO(decode_text(path, read_file_bytes(path)), newline=""), strict=True
    )
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error) as error:
        raise UnreadableFileError(path, f"no header row ({error})") from error
    if table is None:
        table = schema.table_for_header(header)
        if table is None:
            raise UnreadableFileError(
                path,
                f"its columns match no {schema.source} table "
                f"(expected the columns of one of: {', '.join(schema.tables)})",
            )
    missing = [name for name in table.column_names if name not in header]
    if missing:
        raise UnreadableFileError(
            path, f"missing required columns for table {table.name}: {', '.join(missing)}"
        )
    # Unexpected extra columns are kept, not dropped: nothing a return contained is lost.
    result = TableBatch(table=table, path=path, file_sha256=file_sha256(path), columns=header)
    records: list[tuple[int, list[str | None]]] = []
    try:
        for row_number, row in enumerate(reader, start=2):  # row 1 is the header
            if not row:
                continue
            if len(row) != len(header):
                result.rows_read += 1
                result.rows_rejected += 1
                batch.findings.append(
                    Finding(
                        table.name,
                        path.name,
                        row_number,
                        "(row)",
                        ",".join(row)[:500],
                        f"expected {len(header)} fields, found {len(row)}",
                        "rejected",
                    )
                )
                continue
            records.append((row_number, [value if value != "" else None for value in row]))
    except csv.Error as error:
        raise UnreadableFileError(
            path, f"malformed CSV near row {reader.line_num}: {error}"
        ) from error
    check_records(table, result, batch, records)
    return result


def read_xml_file(path: Path, schema: SourceSchema, batch: SourceBatch) -> list[TableBatch]:
    """Read and check one XML file holding every table of ``schema``."""
    records = xml_records(path, read_file_bytes(path), schema)
    sha256 = file_sha256(path)
    results = []
    for table in schema.tables.values():
        result = TableBatch(table=table, path=path, file_sha256=sha256, columns=table.column_names)
        check_records(
            table,
            result,
            batch,
            [
                (line, [values[name] for name in result.columns])
                for line, values in records[table.name]
            ],
        )
        results.append(result)
    return results


def _add_table(batch: SourceBatch, result: TableBatch) -> None:
    earlier = batch.tables.get(result.table.name)
    if earlier is not None:
        raise UnreadableFileError(
            result.path,
            f"table {result.table.name} delivered twice (also {earlier.path.name})",
        )
    batch.tables[result.table.name] = result


def read_source_period(schema: SourceSchema, period_dir: Path, period: str) -> SourceBatch:
    """Read every file in a source's period folder.

    Raises ``UnreadableFileError`` when the folder is missing or empty, holds a file that is not
    one of the source's tables, a file is unreadable, or a table arrives twice.
    """
    if not schema.period_pattern.match(period):
        raise UnreadableFileError(
            period_dir, f"period {period!r} does not match {schema.period_pattern.pattern}"
        )
    if not period_dir.is_dir():
        raise UnreadableFileError(period_dir, "period folder does not exist")
    files = sorted(path for path in period_dir.iterdir() if path.is_file())
    if not files:
        raise UnreadableFileError(period_dir, "period folder holds no files")
    batch = SourceBatch(source=schema.source, period=period)
    for path in files:
        if schema.format == "xml":
            if schema.file_pattern is None or not schema.file_pattern.match(path.name):
                raise UnreadableFileError(path, f"not a recognised {schema.source} file")
            for result in read_xml_file(path, schema, batch):
                _add_table(batch, result)
            continue
        table = schema.table_for_file(path.name)
        if table is None and schema.recognise_tables_by != "columns":
            raise UnreadableFileError(
                path,
                f"not a recognised {schema.source} table "
                f"(expected one of: {', '.join(schema.tables)})",
            )
        _add_table(batch, read_csv_file(path, schema, batch, table))
    return batch
