"""Read one source's files for one collection period, checking every row against the schema of
the period's collection year.

Each file is recognised by its content: a CSV by its columns (the file name only breaks ties),
an XML file by its root element, and each worksheet of an Excel workbook (.xlsx, .xlsm) as a
CSV of its own, named ``<workbook>[<sheet>]``. Nothing is lost:

- each row of a modelled table is loaded (possibly with flagged findings) or quarantined with
  the file, row number, field, value and reason;
- a file that matches no modelled table is kept verbatim as unmodelled rows, and an XML
  element no table models is kept with its path; both are reported, never refuse the period;
- a file that cannot be read (empty, malformed, lacking a table's required columns) fails on
  its own, named with its problem, and the rest of the period still loads.

Only a period folder that is missing or empty is unreadable as a whole.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from linkage_ops.identifiers import (
    is_icd10_code,
    is_uk_postcode,
    is_valid_nhs_number,
    is_valid_upn,
)
from linkage_ops.ingest.aliases import authority_aliases, map_header
from linkage_ops.ingest.collection_year import parse_year_label
from linkage_ops.ingest.errors import UnreadableFileError
from linkage_ops.ingest.schema import FieldRule, SourceSchema, TableSchema, spelling_key
from linkage_ops.ingest.workbook import Sheet, header_index, is_workbook, read_workbook, sheet_path
from linkage_ops.ingest.xml_reader import (
    Element,
    UnmodelledElement,
    XmlContent,
    parse_xml,
    xml_content,
)

_INTEGER = re.compile(r"^-?\d+$")
# The range of the INTEGER type staging casts whole numbers to (32 bits).
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1
# True or false as returns write them, and as some exports do (Y/N, Yes/No); staging's
# parse_boolean macro reads the same values.
_BOOLEANS = frozenset({"true", "false", "1", "0", "y", "n", "yes", "no"})  # any case
# A UTF-16 text's byte-order mark (Windows tools save CSV and XML so).
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# What separates a text table's fields: commas, or as other exports write them, tabs (a .tsv
# or .txt export), bars, or semicolons (Excel's CSV where a comma is the decimal mark).
DELIMITERS = (",", "\t", "|", ";")


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
    # Delivered header name -> schema column, where an alias mapped one.
    aliases_applied: dict[str, str] = field(default_factory=dict)
    # Optional schema columns the file did not have, and columns it had beyond the schema.
    columns_absent: list[str] = field(default_factory=list)
    columns_extra: list[str] = field(default_factory=list)
    # Date column -> values loaded that were written in another form than the layout's.
    dates_in_other_form: dict[str, int] = field(default_factory=dict)
    # Per column, codes written another way and the code each was loaded as (``f`` -> ``F``,
    # ``Male`` -> ``M``: ``FieldRule.spellings``), and values of an upper-case pattern written
    # in lower case (``m81297`` -> ``M81297``).
    codes_respelt: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class UnmodelledFile:
    """A CSV file that matches no modelled table: every row kept as delivered."""

    path: Path
    file_sha256: str
    columns: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class UnmodelledXml:
    """The elements of one XML file that no table models."""

    path: Path
    file_sha256: str
    root: str
    elements: list[UnmodelledElement]


@dataclass(frozen=True)
class FailedFile:
    """A file that could not be loaded, and why; the rest of its period still loads."""

    path: Path
    file_sha256: str | None
    table: str | None
    problem: str


@dataclass
class SourceBatch:
    """Everything read for one source and period."""

    source: str
    period: str
    collection_year: str = ""
    tables: dict[str, TableBatch] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unmodelled_files: list[UnmodelledFile] = field(default_factory=list)
    unmodelled_xml: list[UnmodelledXml] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (lineage: which exact file a row came from)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode_text(path: Path, raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252 exports."""
    if raw[:2] in _UTF16_BOMS:
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise UnreadableFileError(path, "not a CSV, XML or Excel file (binary content)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # A Windows-1252 export, or one value pasted into an otherwise UTF-8 file: decoded line by
    # line, so one stray byte does not turn every accented name in the file into mojibake.
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    lines = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(line.decode("cp1252"))
            except UnicodeDecodeError as error:
                raise UnreadableFileError(
                    path, f"line {number} is neither UTF-8 nor Windows-1252 text ({error})"
                ) from error
    return "\n".join(lines)


# A time of day after a date where the layout gives a date alone: "13/10/2011 00:00" from a
# spreadsheet that held a date-time cell, "2011-10-13T00:00:00" or "2011-10-13 00:00:00.000"
# from a database export. The date is read; the time stays in the raw table. (Staging's
# parse_date macro removes the same pattern.) XML's xs:date and xs:dateTime may end in a time
# zone (2024-06-03Z, 2025-01-14T00:00:00.000+01:00): set aside with the time.
TIME_AFTER_DATE = r"([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"

# The forms UK systems write a date in. A date in another form than its layout's is read too:
# a spreadsheet re-saves 01/09/2022 as 2022-09-01 (and back), a database export writes ISO
# dates into a return laid out day first, an Oracle or Blade export writes the month in letters
# (16-Apr-2020, 2020-Apr-16). None can be mistaken for another, and a month-first date is never
# guessed. The load log counts such values per column (``TableBatch.dates_in_other_form``).
# (Staging's parse_date macro reads the same forms.)
DATE_FORMS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%Y-%b-%d")


def date_form(value: str, date_format: str) -> tuple[datetime, str]:
    """``value`` read in ``date_format`` (strptime's notation), or failing that in one of
    ``DATE_FORMS``, a time after it set aside when the format has none; and the format that
    read it. ``ValueError`` when no format reads it."""
    value = value.strip()
    try:
        return datetime.strptime(value, date_format), date_format
    except ValueError:
        pass
    date_only = re.sub(TIME_AFTER_DATE, "", value)
    if "%H" not in date_format and date_only != value:
        try:
            return datetime.strptime(date_only, date_format), date_format
        except ValueError:
            pass
    for form in DATE_FORMS:
        if form != date_format:
            try:
                return datetime.strptime(date_only, form), form
            except ValueError:
                continue
    raise ValueError(f"{value!r} is not a date in {date_format} or {' or '.join(DATE_FORMS)}")


def read_date(value: str, date_format: str) -> datetime:
    """``value`` read as a date (see ``date_form``); ``ValueError`` when it is not one."""
    return date_form(value, date_format)[0]


def check_value(rule: FieldRule, value: str | None) -> str | None:
    """The reason ``value`` breaks ``rule``, or ``None`` if it is acceptable."""
    if value is None or value.strip() == "":
        return "mandatory field is blank" if rule.mandatory else None
    value = value.strip()
    reason: str | None = None
    if rule.type == "integer" and not _INTEGER.match(value):
        reason = "expected a whole number"
    elif rule.type == "integer" and not INTEGER_MIN <= int(value) <= INTEGER_MAX:
        # Staging casts whole numbers to INTEGER: a larger one would stop every refresh.
        reason = f"whole number out of range ({INTEGER_MIN:,} to {INTEGER_MAX:,})"
    elif rule.type == "date":
        try:
            read_date(value, rule.date_format or "")
        except ValueError:
            reason = (
                f"expected a date like {datetime(2024, 10, 3).strftime(rule.date_format or '')}"
            )
    elif rule.type == "boolean" and value.lower() not in _BOOLEANS:
        reason = "expected True or False"
    elif rule.type == "code" and value not in rule.codes:
        listed = f"the {rule.codelist} list" if rule.codelist else "the code list"
        reason = f"not in {listed} ({', '.join(sorted(rule.codes))})"
    elif rule.type == "pattern" and rule.pattern and not rule.pattern.match(value):
        reason = f"does not match {rule.pattern.pattern}"
    elif rule.type == "upn" and not is_valid_upn(value):
        reason = "UPN fails its pattern or check letter"
    elif rule.type == "nhs_number" and not is_valid_nhs_number(value):
        reason = "NHS number fails Modulus 11"
    elif rule.type == "postcode" and not is_uk_postcode(value):
        reason = "not a UK postcode"
    elif rule.type == "icd10" and not is_icd10_code(value):
        reason = "not an ICD-10 code"
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


def _count_other_forms(
    rule: FieldRule,
    position: int,
    readable: set[str | None],
    records: list[tuple[int, list[str | None]]],
    result: TableBatch,
) -> None:
    """Count the values of a date column read in another form than the layout's."""
    layout = rule.date_format or ""
    other = {
        value
        for value in readable
        if value is not None and value.strip() and date_form(value, layout)[1] != layout
    }
    if other:
        count = sum(1 for _, values in records if values[position] in other)
        result.dates_in_other_form[rule.name] = result.dates_in_other_form.get(rule.name, 0) + count


def _respell(
    rule: FieldRule,
    position: int,
    distinct: set[str | None],
    records: list[tuple[int, list[str | None]]],
    result: TableBatch,
) -> set[str | None]:
    """Load a code written another way (``FieldRule.spellings``) as the code itself, and a
    value its pattern's letters are upper case in (a GP practice code m81297) in upper case;
    note each in the load log; returns the column's distinct values after."""
    spellings = dict(rule.spellings)

    def spelt(value: str) -> str | None:
        if rule.type == "pattern" and rule.pattern is not None:
            upper = value.strip().upper()
            matches = rule.pattern.match
            return upper if not matches(value.strip()) and matches(upper) else None
        return spellings.get(spelling_key(value)) if value.strip() not in rule.codes else None

    respelt = {value: code for value in distinct if value is not None and (code := spelt(value))}
    if not respelt:
        return distinct
    for _, values in records:
        if values[position] in respelt:
            values[position] = respelt[values[position]]
    noted = result.codes_respelt.setdefault(rule.name, {})
    noted.update({value.strip(): code for value, code in respelt.items()})
    return (distinct - set(respelt)) | set(respelt.values())


def check_records(
    table: TableSchema,
    result: TableBatch,
    batch: SourceBatch,
    records: list[tuple[int, list[str | None]]],
) -> None:
    """Check records (row number, values aligned with ``result.columns``) against the table's
    rules; load each one, or quarantine it if any rejecting rule fails. Row rules (a value
    required when others hold) flag the row and load it.

    Each distinct value of a column is checked once: most columns repeat a few codes or dates,
    so this is what keeps a county-sized load fast.
    """
    rules = {rule.name: rule for rule in table.columns}
    findings_by_row: dict[int, list[Finding]] = {}
    for position, name in enumerate(result.columns):
        rule = rules.get(name)
        if rule is None:
            continue
        distinct = {r[1][position] for r in records}
        if rule.spellings or rule.type == "pattern":
            distinct = _respell(rule, position, distinct, records, result)
        reasons = {value: check_value(rule, value) for value in distinct}
        reasons = {value: reason for value, reason in reasons.items() if reason is not None}
        if rule.type == "date":
            _count_other_forms(rule, position, distinct - set(reasons), records, result)
        if not reasons:
            continue
        action = "flagged" if rule.on_invalid == "flag" else "rejected"
        for index, (row_number, values) in enumerate(records):
            reason = reasons.get(values[position])
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
    for rule in table.rules:
        for index, (row_number, values) in enumerate(records):
            row = dict(zip(result.columns, values, strict=True))
            if rule.applies(row) and not (row.get(rule.require) or "").strip():
                findings_by_row.setdefault(index, []).append(
                    Finding(
                        table.name,
                        result.path.name,
                        row_number,
                        rule.require,
                        None,
                        rule.reason,
                        "flagged",
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


# --- one file ---------------------------------------------------------------------------------


@dataclass
class _Csv:
    """A CSV file (or a worksheet) as read: its header (aliases applied) and rows."""

    path: Path
    sha256: str
    delivered_header: list[str]
    header: list[str]
    aliases: dict[str, str]
    # (line the record starts on, its fields); row 1 is the header.
    rows: list[tuple[int, list[str]]]
    # The name that may say which table this is (``SourceSchema.recognise``): the file's. For
    # a worksheet, its workbook's and its own; only its own where the workbook has several,
    # whose name says nothing of one sheet (sen2_2025.xlsx names the source, and a notes sheet
    # beside a table is not that table).
    name_hint: str
    # Records that run over several lines (a quoted field holding line breaks, most often an
    # unbalanced quote swallowing the rows after it): first line -> (last line, each line's
    # text).
    spans: dict[int, tuple[int, list[str]]] = field(default_factory=dict)


# Lines above a table's header that hold one value at most (a report's title, its date, a
# blank line) are passed over, up to this many.
TITLE_LINES = 5


def delimiter_of(text: str) -> str:
    """The delimiter (``DELIMITERS``) that splits the table's header, its first line (or one
    below a title line or two), into the most fields (quotes respected); commas when none
    splits it."""
    lines = [line for line in text.splitlines()[: TITLE_LINES + 1] if line.strip()]

    def fields(delimiter: str) -> int:
        return max((len(row) for row in csv.reader(lines, delimiter=delimiter)), default=0)

    best = max(DELIMITERS, key=fields)  # the first of equals: commas
    return best if fields(best) > 1 else ","


def _parse_csv(path: Path, raw: bytes, sha256: str, schema: SourceSchema, source: str) -> _Csv:
    text = decode_text(path, raw)
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter_of(text),
        strict=True,
    )
    top: list[list[str]] = []
    try:
        top.append(next(reader))
        # A title above the header (EYFSP results 2025 - all schools), a date, blank lines:
        # passed over where a line below them names two columns or more.
        while len(top) <= TITLE_LINES and _values(top[-1]) <= 1:
            top.append(next(reader))
    except StopIteration:
        pass
    except csv.Error as error:
        raise UnreadableFileError(path, f"no header row ({error})") from error
    if not top:
        raise UnreadableFileError(path, "no header row")
    header_line = next((i for i, row in enumerate(top) if _values(row) > 1), 0)
    delivered = [name.strip() for name in top[header_line]]
    rows = []
    spanning: dict[int, int] = {}
    try:
        # Rows are numbered by the line they start on, so a finding points at the line to fix.
        # (Lines read past the header while looking for it are read again.)
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=reader.dialect.delimiter, strict=True
        )
        for _ in range(header_line + 1):
            next(reader)
        first = reader.line_num + 1
        for row in reader:
            if any(value.strip() for value in row):  # a line of delimiters alone is blank
                rows.append((first, row))
                if reader.line_num > first:
                    spanning[first] = reader.line_num
            first = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFileError(
            path, f"malformed CSV near row {reader.line_num}: {error}"
        ) from error
    spans = {}
    if spanning:
        # The lines as the CSV reader counted them.
        lines = [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]
        spans = {start: (end, lines[start - 1 : end]) for start, end in spanning.items()}
    return _table(path, sha256, delivered, rows, schema, source, path.name, spans)


def _values(row: list[str]) -> int:
    return sum(1 for value in row if value.strip())


def _table(
    path: Path,
    sha256: str,
    delivered: list[str],
    rows: list[tuple[int, list[str]]],
    schema: SourceSchema,
    source: str,
    name_hint: str,
    spans: dict[int, tuple[int, list[str]]] | None = None,
) -> _Csv:
    """A table as delivered (header and numbered rows), its unnamed columns settled and its
    header mapped to the schema's names."""
    delivered, rows = _unnamed_columns(delivered, rows)
    header, applied = map_header(delivered, schema, authority_aliases(source))
    return _Csv(path, sha256, delivered, header, applied, rows, name_hint, spans or {})


def _parse_sheet(
    workbook: Path, sheet: Sheet, sha256: str, schema: SourceSchema, source: str, alone: bool
) -> _Csv:
    """A worksheet (``alone``: the workbook's only one holding values) read as a CSV export of
    it would be: the header is its first row of column names (below any title rows), every
    row is as wide as the widest (a CSV export writes each line to the sheet's last column),
    and rows keep their sheet row numbers so that a finding points at the row to fix in
    Excel."""
    # A sheet read holds a value, so it has a header.
    position = header_index(values for _, values in sheet.rows) or 0
    rows = sheet.rows[position:]
    width = max(len(values) for _, values in rows)
    rows = [(number, values + [""] * (width - len(values))) for number, values in rows]
    delivered = [name.strip() for name in rows[0][1]]
    path = sheet_path(workbook, sheet.name)
    hint = path.name if alone else sheet.name
    return _table(path, sha256, delivered, rows[1:], schema, source, hint)


def _unnamed_columns(
    header: list[str], rows: list[tuple[int, list[str]]]
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Columns the header leaves unnamed: dropped where no row holds a value in them (a
    spreadsheet saved as CSV ends every line with the commas of its empty columns), else named
    ``column_<n>`` by position and kept as extra columns."""
    unnamed = [i for i, name in enumerate(header) if not name]
    if not unnamed:
        return header, rows
    empty = {i for i in unnamed if not any(i < len(row) and row[i].strip() for _, row in rows)}
    named = [name or f"column_{i + 1}" for i, name in enumerate(header)]
    if not empty:
        return named, rows
    kept = [i for i in range(len(header)) if i not in empty]
    # A row's fields beyond the header stay, so that it is still one field too many.
    return [named[i] for i in kept], [
        (line, [row[i] for i in kept if i < len(row)] + row[len(header) :]) for line, row in rows
    ]


def _read_csv_table(parsed: _Csv, table: TableSchema, batch: SourceBatch) -> TableBatch:
    """Check and keep the rows of a CSV recognised as ``table``.

    Every line of the file after the header is a row read: a record running over several
    lines is quarantined line by line (an unbalanced quote merges the rows after it into one
    field; counted as one row, they would vanish from the reconciliation)."""
    header = parsed.header
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise UnreadableFileError(
            parsed.path,
            f"the header names {', '.join(repeated)} more than once (after aliases): which "
            "one holds the value is unknown, so the file is not loaded",
        )
    result = TableBatch(
        table=table,
        path=parsed.path,
        file_sha256=parsed.sha256,
        columns=header,
        aliases_applied=parsed.aliases,
        columns_absent=[c for c in table.column_names if c not in header],
        columns_extra=[c for c in header if c not in table.column_names],
    )
    records: list[tuple[int, list[str | None]]] = []

    def reject(row_number: int, text: str, reason: str) -> None:
        """Quarantine a whole row (not one field): its text as delivered, and why."""
        result.rows_read += 1
        result.rows_rejected += 1
        batch.findings.append(
            Finding(
                table.name, parsed.path.name, row_number, "(row)", text[:500], reason, "rejected"
            )
        )

    for row_number, row in parsed.rows:
        if row_number in parsed.spans:
            last, lines = parsed.spans[row_number]
            for line_number, line in enumerate(lines, start=row_number):
                reject(
                    line_number,
                    line,
                    f"inside a quoted field running from row {row_number} to row {last} "
                    "(an unbalanced quote?)",
                )
            continue
        if len(row) > len(header) and not any(value.strip() for value in row[len(header) :]):
            # Empty fields after the last column (rows written with a delimiter after every
            # field, the header without): nothing is lost by leaving them out.
            row = row[: len(header)]
        if len(row) != len(header):
            reject(row_number, ",".join(row), f"expected {len(header)} fields, found {len(row)}")
            continue
        # Spaces around a value are the export's, not the value's (LQ000201 padded to the
        # column's width joins no episode): set aside, as the XML reader does.
        records.append((row_number, [value.strip() or None for value in row]))
    check_records(table, result, batch, records)
    return result


def _read_xml_tables(
    path: Path, sha256: str, content: XmlContent, schema: SourceSchema, batch: SourceBatch
) -> list[TableBatch]:
    results = []
    for table in schema.tables.values():
        if not table.record_path:
            continue
        result = TableBatch(table=table, path=path, file_sha256=sha256, columns=table.column_names)
        check_records(
            table,
            result,
            batch,
            [
                (line, [values[name] for name in result.columns])
                for line, values in content.records[table.name]
            ],
        )
        results.append(result)
    return results


def _is_xml(raw: bytes) -> bool:
    if raw[:2] in _UTF16_BOMS:  # Windows tools save XML as UTF-16 (which XML allows)
        return raw[:256].decode("utf-16", "ignore").lstrip().startswith("<")
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _xml_bytes(raw: bytes) -> bytes:
    """The XML document alone: without blank lines before its declaration (which XML forbids,
    but an export script's first print statement writes) or a DOS end-of-file mark (Ctrl-Z)
    after its root."""
    if raw[:2] in _UTF16_BOMS:
        return raw
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    return bom + raw[len(bom) :].lstrip(b" \t\r\n").rstrip(b"\x1a \t\r\n")


@dataclass
class _Delivered:
    """A file of the period (or a worksheet of one), parsed once: XML (its root) or CSV."""

    path: Path
    sha256: str
    xml: Element | None = None
    csv: _Csv | None = None


def _parse(path: Path, schema: SourceSchema) -> list[_Delivered]:
    """A file of the period as one delivered file, or a workbook as one per worksheet holding
    any value (each with the workbook's SHA-256: the file its rows came from)."""
    raw = read_file_bytes(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    if _is_xml(raw):
        return [_Delivered(path, sha256, xml=parse_xml(path, _xml_bytes(raw)))]
    if is_workbook(path, raw):
        sheets = [sheet for sheet in read_workbook(path, raw) if sheet.rows]
        if not sheets:
            raise UnreadableFileError(path, "every sheet of the workbook is empty")
        alone = len(sheets) == 1
        tables = [
            _parse_sheet(path, sheet, sha256, schema, schema.source, alone) for sheet in sheets
        ]
        return [_Delivered(table.path, sha256, csv=table) for table in tables]
    return [_Delivered(path, sha256, csv=_parse_csv(path, raw, sha256, schema, schema.source))]


def _stated_year(files: list[_Delivered], schema: SourceSchema) -> tuple[int, Path, str] | None:
    """The collection year a delivery states in its own header record (``year_from``): the
    year, the file and the value, or ``None`` when it states none."""
    if schema.year_from is None:
        return None
    table_name, column = schema.year_from
    table = schema.tables.get(table_name)
    if table is None:
        return None
    rule = next((r for r in table.columns if r.name == column), None)
    for delivered in files:
        value = None
        if (
            delivered.xml is not None
            and delivered.xml.tag == schema.xml_root
            and table.record_path
            and rule is not None
        ):
            record = delivered.xml.find(table.record_path)
            found = record.find((rule.paths or (column,))[0]) if record is not None else None
            value = found.text if found is not None else None
        elif (
            delivered.csv is not None
            and column in delivered.csv.header
            and schema.recognise(delivered.csv.header, delivered.csv.name_hint).table is table
        ):
            rows = delivered.csv.rows
            position = delivered.csv.header.index(column)
            value = rows[0][1][position] if rows and len(rows[0][1]) > position else None
        if value:
            try:
                return parse_year_label(value.strip()), delivered.path, value.strip()
            except ValueError:
                return None
    return None


def _check_not_delivered(batch: SourceBatch, path: Path, tables: list[TableSchema]) -> None:
    """Fail a file whose table (or one of whose tables) another file of the period holds, and
    take that table back from the other file too: which of the two is the period's (last
    year's table kept beside this year's, a corrected file beside the first) is not known, and
    the one whose name sorts first is not more likely to be right."""
    twice = [table.name for table in tables if table.name in batch.tables]
    earlier_names: set[str] = set()
    for name in twice:
        earlier = batch.tables.pop(name)
        earlier_names.add(earlier.path.name)
        problem = f"table {name} delivered twice (also {path.name}): neither file is loaded"
        batch.failed.append(FailedFile(earlier.path, earlier.file_sha256, name, problem))
        batch.findings = [
            finding
            for finding in batch.findings
            if (finding.table, finding.source_file) != (name, earlier.path.name)
        ]
    if twice:
        raise UnreadableFileError(
            path,
            f"table {', '.join(twice)} delivered twice (also {', '.join(sorted(earlier_names))}): "
            "neither file is loaded",
        )


def _read_delivered(delivered: _Delivered, schema: SourceSchema, batch: SourceBatch) -> None:
    path, sha256 = delivered.path, delivered.sha256
    if delivered.xml is not None:
        root = delivered.xml
        if schema.xml_root and root.tag == schema.xml_root:
            _check_not_delivered(batch, path, [t for t in schema.tables.values() if t.record_path])
            content = xml_content(root, schema)
            for result in _read_xml_tables(path, sha256, content, schema, batch):
                batch.tables[result.table.name] = result
            if content.unmodelled:
                batch.unmodelled_xml.append(
                    UnmodelledXml(path, sha256, root.tag, content.unmodelled)
                )
        else:  # an XML file of a kind the source does not model: keep all of it (and log it)
            content = xml_content(root, SourceSchema(schema.source, schema.cadence, re.compile("")))
            batch.unmodelled_xml.append(UnmodelledXml(path, sha256, root.tag, content.unmodelled))
        return
    parsed = delivered.csv
    recognition = schema.recognise(parsed.header, parsed.name_hint)
    if recognition.problem is not None:
        raise UnreadableFileError(path, recognition.problem)
    if recognition.table is None:
        batch.unmodelled_files.append(
            UnmodelledFile(path, sha256, parsed.delivered_header, parsed.rows)
        )
        return
    _check_not_delivered(batch, path, [recognition.table])
    batch.tables[recognition.table.name] = _read_csv_table(parsed, recognition.table, batch)


def read_source_period(schema: SourceSchema, period_dir: Path, period: str) -> SourceBatch:
    """Read every file in a source's period folder with the schema of its collection year (the
    year the delivery states in its header record, if the source has one, else the period's).

    Raises ``UnreadableFileError`` only when the period is not one of the source's, or its
    folder is missing or holds no files; a file that cannot be read is in ``batch.failed``.
    """
    if not schema.is_period(period):
        raise UnreadableFileError(
            period_dir, f"period {period!r} does not match {schema.period_pattern.pattern}"
        )
    if not period_dir.is_dir():
        raise UnreadableFileError(period_dir, "period folder does not exist")
    paths = sorted(p for p in period_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if not paths:
        raise UnreadableFileError(period_dir, "period folder holds no files")
    year_schema = schema.for_period(period)
    batch = SourceBatch(source=schema.source, period=period)
    files: list[_Delivered] = []
    for path in paths:
        try:
            files.extend(_parse(path, year_schema))
        except UnreadableFileError as error:
            batch.failed.append(FailedFile(path, _sha256_or_none(path), None, error.problem))
    stated = _stated_year(files, year_schema)
    if stated is not None and stated[0] != year_schema.collection_year:
        year, path, value = stated
        period_label = year_schema.year_label
        year_schema = schema.for_year(year)
        batch.findings.append(
            Finding(
                schema.year_from[0],
                path.name,
                0,
                schema.year_from[1],
                value,
                f"the return states collection year {year_schema.year_label}, delivered as "
                f"period {period} ({period_label}): read with the {year_schema.year_label} schema",
                "flagged",
            )
        )
    batch.collection_year = year_schema.year_label
    for delivered in files:
        try:
            _read_delivered(delivered, year_schema, batch)
        except UnreadableFileError as error:
            table = None
            if delivered.csv is not None:
                recognised = year_schema.recognise(delivered.csv.header, delivered.csv.name_hint)
                table = recognised.table.name if recognised.table else None
            batch.failed.append(FailedFile(delivered.path, delivered.sha256, table, error.problem))
    return batch


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None
