"""Source schemas as data: one YAML file per source under ``linkage_ops/schemas/``, a base
specification plus per-collection-year differences, and shared code lists under
``linkage_ops/schemas/codelists/``.

A schema names the tables a source delivers and a rule per column; how a table is recognised
(by its columns, with file names as a hint only); which columns must be in a file's header and
which may be absent; row rules; and, for XML, where each table's records and values sit. A new
DfE collection year is a data change: a ``years:`` entry that adds, removes or recodes tables
and columns. Parsing is strict: an unknown key anywhere in a schema or code list is an error
naming the file and the key, never ignored.

``load_schema(source)`` is the source across every year (its tables and columns are the union,
which the raw layer and the Dagster graph are built from); ``schema.for_period(period)`` is the
schema of the collection year a period belongs to, which the loader reads files with.
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

from linkage_ops.ingest.collection_year import (
    CADENCES,
    collection_year,
    parse_year_label,
    year_label,
)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
CODELIST_DIR_NAME = "codelists"

FIELD_TYPES = frozenset(
    {
        "text",
        "integer",
        "date",
        "boolean",
        "code",
        "pattern",
        "upn",
        "nhs_number",
        "postcode",
        "icd10",
    }
)
# The services whose records a source holds: told, for example, when a child they know dies.
SERVICES = {
    "education": "Education",
    "social_care": "Children's social care",
    "send": "SEND",
    "health": "Health",
}
# The source whose records report a child's death (see linkage_ops.death_notifications).
DEATHS_SOURCE = "deaths"
SOURCE_KEYS = {
    "source",
    "service",
    "description",
    "cadence",
    "period_pattern",
    "max_days_late",
    "results_due",
    "format",
    "xml_root",
    "formats",
    "year_from",
    "base_year",
    "tables",
    "years",
}
TABLE_KEYS = {
    "description",
    "names",
    "period_date",
    "record_id",
    "record_path",
    "present_if",
    "columns",
    "rules",
}
COLUMN_KEYS = {
    "description",
    "type",
    "mandatory",
    "optional",
    "on_invalid",
    "format",
    "codes",
    "pattern",
    "path",
    "aliases",
}
RULE_KEYS = {"require", "when", "reason"}
YEAR_KEYS = {"description", "tables", "add_tables", "remove_tables"}
TABLE_PATCH_KEYS = (TABLE_KEYS - {"columns"}) | {"columns", "remove_columns"}
CODELIST_KEYS = {"name", "description", "categories", "codes"}
CODE_KEYS = {"label", "from", "until", "category", "also"}
RESULTS_DUE_KEYS = {"month", "weekday", "on_or_after"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SchemaError(ValueError):
    """A schema or code list file that breaks the schema grammar."""


def _check_keys(where: str, spec: object, allowed: set[str]) -> dict:
    if not isinstance(spec, dict):
        raise SchemaError(f"{where}: expected a mapping, found {type(spec).__name__}")
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise SchemaError(
            f"{where}: unknown key {', '.join(map(repr, unknown))} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return spec


# --- code lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeList:
    """A code list shared by every source that uses it (e.g. DfE ethnicity), with each code's
    label and, where DfE added or retired it, the collection years it is valid in. A list may
    sort its codes into categories it declares (attendance codes: present, authorised absence
    ...): ``categories`` maps each category to what it means, ``category_of`` each code to its
    category."""

    name: str
    description: str
    labels: dict[str, str]
    valid_years: dict[str, tuple[int | None, int | None]]
    categories: dict[str, str] = field(default_factory=dict)
    category_of: dict[str, str] = field(default_factory=dict)
    # Other ways systems write a code (``also:``), beside its label (Male for M, M for 1).
    also: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def spellings(self, codes: frozenset[str]) -> dict[str, str]:
        """Each of ``codes`` by its label and its other spellings (``also``) (``spelling_key``),
        where no other code shares the spelling."""
        return _unambiguous(
            (word, code)
            for code in codes
            for word in (self.labels.get(code, ""), *self.also.get(code, ()))
            if word
        )

    def codes(self, year: int | None = None) -> frozenset[str]:
        """The codes valid in collection ``year`` (every code for ``None``)."""
        if year is None:
            return frozenset(self.labels)
        return frozenset(
            code
            for code in self.labels
            if (self.valid_years[code][0] or 0) <= year <= (self.valid_years[code][1] or 9999)
        )

    def codes_in(self, category: str, year: int | None = None) -> frozenset[str]:
        """The codes of ``category`` valid in collection ``year`` (every year for ``None``)."""
        if category not in self.categories:
            raise KeyError(f"code list {self.name!r} has no category {category!r}")
        return frozenset(
            code for code in self.codes(year) if self.category_of.get(code) == category
        )


def _categories(path: Path, document: dict) -> dict[str, str]:
    """``categories: {name: what it means}``, optional."""
    categories = document.get("categories")
    if categories is None:
        return {}
    if not isinstance(categories, dict) or not categories:
        raise SchemaError(f"{path}: categories must be a non-empty mapping of name: meaning")
    return {str(name): str(meaning or "") for name, meaning in categories.items()}


@cache
def load_codelist(name: str, schema_dir: Path = SCHEMA_DIR) -> CodeList:
    """``<schema_dir>/codelists/<name>.yaml``. A list that declares ``categories`` gives every
    code one of them; a list that declares none gives no code a category."""
    path = schema_dir / CODELIST_DIR_NAME / f"{name}.yaml"
    if not path.exists():
        raise SchemaError(f"code list {name!r} not found ({path})")
    document = _check_keys(str(path), yaml.safe_load(path.read_text("utf-8")), CODELIST_KEYS)
    if document.get("name") != name:
        raise SchemaError(f"{path}: name must be {name!r}, the file's own name")
    categories = _categories(path, document)
    labels: dict[str, str] = {}
    valid: dict[str, tuple[int | None, int | None]] = {}
    category_of: dict[str, str] = {}
    also: dict[str, tuple[str, ...]] = {}
    codes = document.get("codes")
    if isinstance(codes, list):
        codes = {str(code): None for code in codes}
    if not isinstance(codes, dict) or not codes:
        raise SchemaError(f"{path}: codes must be a non-empty list or mapping")
    for code, spec in codes.items():
        code = str(code)
        if spec is None or isinstance(spec, str):
            labels[code], valid[code] = spec or "", (None, None)
        else:
            _check_keys(f"{path}: code {code}", spec, CODE_KEYS)
            labels[code] = spec.get("label") or ""
            valid[code] = (
                parse_year_label(spec["from"]) if "from" in spec else None,
                parse_year_label(spec["until"]) if "until" in spec else None,
            )
            if "category" in spec:
                category_of[code] = str(spec["category"])
            if "also" in spec:
                also[code] = tuple(str(word) for word in spec["also"])
        category = category_of.get(code)
        if categories and category not in categories:
            raise SchemaError(
                f"{path}: code {code}: category must be one of {', '.join(categories)}"
                + (f", not {category!r}" if category is not None else "")
            )
        if not categories and category is not None:
            raise SchemaError(
                f"{path}: code {code} has a category but the list declares no categories"
            )
    return CodeList(
        name, document.get("description", ""), labels, valid, categories, category_of, also
    )


def spelling_key(word: str) -> str:
    """A code's spelling with case, spaces and punctuation set aside (``Emotional wellbeing``
    and ``EMOTIONAL_WELLBEING`` are one), unless it is punctuation alone (``/``, ``\\``)."""
    word = word.strip().upper()
    return re.sub(r"[^0-9A-Z]+", "", word) or word


def _unambiguous(spellings: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Spelling (``spelling_key``) -> code, leaving out a spelling two codes share."""
    codes_of: dict[str, set[str]] = {}
    for word, code in spellings:
        codes_of.setdefault(spelling_key(word), set()).add(code)
    return {word: next(iter(codes)) for word, codes in codes_of.items() if len(codes) == 1}


def available_codelists(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Names of the shared code lists."""
    return sorted(path.stem for path in (schema_dir / CODELIST_DIR_NAME).glob("*.yaml"))


# --- resolved schemas -------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """How one column is checked.

    ``mandatory``: a blank value is a finding. ``optional``: the column may be absent from a
    file's header (a required column missing fails the file). ``on_invalid`` says what a failing
    value does to its row: ``reject`` sends the row to quarantine; ``flag`` loads the row and
    records the finding (used for identifiers, which linkage then refuses to trust). ``paths``
    (XML) are where the value may sit below the record element, tried in order (``.`` is the
    element's own text, ``..`` its parent).
    """

    name: str
    type: str = "text"
    mandatory: bool = False
    optional: bool = False
    on_invalid: str = "reject"
    date_format: str | None = None
    codes: frozenset[str] = frozenset()
    codelist: str | None = None
    # A code written another way (another case, its label, a spelling the code list gives),
    # ``spelling_key`` -> the code: loaded as the code (``TableBatch.codes_respelt``).
    spellings: tuple[tuple[str, str], ...] = ()
    pattern: re.Pattern[str] | None = None
    paths: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RowRule:
    """A conditional requirement: ``require`` must be filled when every ``when`` column holds
    one of its values. Broken, the row still loads and the finding is flagged with its row
    (DfE's validation rules are warnings to the authority, not grounds to drop a record)."""

    require: str
    when: tuple[tuple[str, frozenset[str]], ...]
    reason: str

    def applies(self, values: dict[str, str | None]) -> bool:
        return all((values.get(column) or "").strip() in allowed for column, allowed in self.when)


@dataclass(frozen=True)
class TableSchema:
    """One table of a source in one collection year."""

    name: str
    record_id: str
    columns: tuple[FieldRule, ...]
    # File names are a hint: a file whose name holds one of these as a word (between _ - . [ ] or
    # spaces, e.g. 2024_autumn_pupilonroll.csv, gp_registrations_2024-10.csv, or a worksheet's
    # name sen2_2025.xlsx[Module 1 Person]).
    names: tuple[str, ...] = ()
    # XML only: slash path of the record elements below the root, and a value that must be
    # present for an element to be a record of this table (several tables may share elements),
    # optionally one of ``present_values`` (``present_if: {UASC: ['1']}``).
    record_path: str | None = None
    present_if: str | None = None
    present_values: frozenset[str] | None = None
    rules: tuple[RowRule, ...] = ()
    description: str = ""
    # A date column whose dates fall in the period the file is delivered for (an extract of
    # the month's attendances): a file whose dates mostly belong to another period was put in
    # the wrong folder, and the loader refuses it unless told otherwise.
    period_date: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [rule.name for rule in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Columns a file of this table must have in its header."""
        return [rule.name for rule in self.columns if not rule.optional]

    def named_in(self, file_name: str) -> bool:
        """Whether ``file_name`` says it is this table (``2024_autumn_pupilonroll.csv``). A
        worksheet's name holds its workbook's and its own, either of which may say it: one
        sheet per table (``sen2_2025.xlsx[Module 1 Person]``), or a workbook named for its
        only sheet's table (``2025_spring_pupilonroll.xlsx[Sheet1]``)."""
        name = file_name.lower()
        return any(
            re.search(rf"(^|[_\-. \[]){re.escape(hint.lower())}($|[_\-. \]])", name)
            for hint in self.names
        )


@dataclass(frozen=True)
class Recognition:
    """What a file's header says it is: a table, a table it lacks columns for (``problem``),
    or nothing modelled (both ``None``)."""

    table: TableSchema | None
    problem: str | None = None


@dataclass(frozen=True)
class ResultsDue:
    """When an assessment's results arrive (cadence ``assessment``): the first ``weekday``
    (Monday 0) on or after day ``on_or_after`` of ``month``, in the second calendar year of the
    academic year (``results_due: {month: 7, weekday: tuesday, on_or_after: 8}``: Key Stage 2
    results, the first Tuesday on or after 8 July). linkage_ops.census_calendar reads it."""

    month: int
    weekday: int
    on_or_after: int

    def __str__(self) -> str:
        return (
            f"the first {WEEKDAYS[self.weekday].title()} on or after "
            f"{self.on_or_after} {calendar.month_name[self.month]}"
        )


@dataclass(frozen=True)
class SourceSchema:
    """Everything the loader needs to know about one source's files: across every year
    (``collection_year`` None, from ``load_schema``) or for one year (``for_year``)."""

    source: str
    cadence: str
    period_pattern: re.Pattern[str]
    tables: dict[str, TableSchema] = field(default_factory=dict)
    # Which service's records these are (``SERVICES``).
    service: str = "education"
    # "csv" (one file per table; an XML form is read too when ``xml_root`` is set) or "xml".
    format: str = "csv"
    xml_root: str | None = None
    # Freshness: days the latest period may be past due before the source counts as overdue
    # (None: the default for its cadence, linkage_ops.census_calendar.MAX_DAYS_LATE).
    max_days_late: int | None = None
    # Cadence assessment: the day results arrive each academic year (period end, freshness).
    results_due: ResultsDue | None = None
    # Where a delivery states its own collection year: (table, column).
    year_from: tuple[str, str] | None = None
    collection_year: int | None = None
    base_year: int | None = None
    change_years: tuple[int, ...] = ()
    description: str = ""
    _document: dict = field(default_factory=dict, repr=False, compare=False)
    _schema_dir: Path = field(default=SCHEMA_DIR, repr=False, compare=False)

    @property
    def columns_by_table(self) -> dict[str, list[str]]:
        """Each table's columns: what a writer of this source's files puts in its header."""
        return {name: table.column_names for name, table in self.tables.items()}

    @property
    def year_label(self) -> str:
        """``2024-25`` (``2025`` for SEN2), or ``all years`` for the union."""
        if self.collection_year is None:
            return "all years"
        return year_label(self.collection_year, self.cadence)

    @property
    def supported_years(self) -> str:
        """The collection years the schema describes, e.g. ``2023-24 on (changes 2026-27)``."""
        first = self.base_year or (self.change_years[0] if self.change_years else None)
        text = f"{year_label(first, self.cadence)} on" if first else "all years"
        changes = [year_label(y, self.cadence) for y in self.change_years if y != first]
        return text + (f" (changes {', '.join(changes)})" if changes else "")

    def is_period(self, name: str) -> bool:
        """``name`` is one of this source's period names, whole: a trailing newline or space
        makes another folder, not the same period (``$`` alone would match before a newline)."""
        return self.period_pattern.fullmatch(name) is not None

    def for_year(self, year: int | None) -> SourceSchema:
        """The schema of collection ``year`` (the year it ends in)."""
        return _resolve(self.source, year, self._schema_dir)

    def for_period(self, period: str) -> SourceSchema:
        return self.for_year(collection_year(self.cadence, period))

    def recognise(self, header: list[str], file_name: str) -> Recognition:
        """Match a file to a table by its columns, the file name breaking ties.

        A file fits a table when its header has all the table's required columns; the table
        with most of its columns present wins. A file that fits none but carries a table's
        record id and most of its required columns (or is named for it) is that table with
        columns missing: a problem naming them and the year. Otherwise it is not modelled.
        """
        present = set(header)
        fitting = [t for t in self.tables.values() if set(t.required_columns) <= present]
        if fitting:

            def score(table: TableSchema) -> tuple:
                matched = len(present & set(table.column_names))
                return (matched, table.named_in(file_name), matched / len(table.columns))

            fitting.sort(key=score, reverse=True)
            if len(fitting) > 1 and score(fitting[0]) == score(fitting[1]):
                return Recognition(
                    None,
                    f"its columns fit tables {fitting[0].name} and {fitting[1].name} equally; "
                    "name the file after its table",
                )
            return Recognition(fitting[0])
        near = []
        for table in self.tables.values():
            required = set(table.required_columns)
            share = len(required & present) / len(required) if required else 0.0
            if table.named_in(file_name) or (table.record_id in present and share > 0.5):
                near.append((table.named_in(file_name), share, table))
        if not near:
            return Recognition(None)
        _, _, table = max(near, key=lambda item: (item[0], item[1]))
        missing = [c for c in table.required_columns if c not in present]
        return Recognition(
            table,
            f"missing required columns for table {table.name} "
            f"({self.source} {self.year_label} schema): {', '.join(missing)}",
        )


# --- parsing ----------------------------------------------------------------------------------


def _field_rule(where: str, name: str, spec: dict, source: dict, year: int | None) -> FieldRule:
    spec = _check_keys(where, spec or {}, COLUMN_KEYS)
    field_type = spec.get("type", "text")
    if field_type not in FIELD_TYPES:
        raise SchemaError(f"{where}: unknown type {field_type!r}")
    on_invalid = spec.get("on_invalid", "reject")
    if on_invalid not in {"reject", "flag"}:
        raise SchemaError(f"{where}: on_invalid must be reject or flag")
    date_format = spec.get("format")
    if field_type == "date":
        if date_format is None:
            raise SchemaError(f"{where}: a date needs a format")
        date_format = source.get("formats", {}).get(date_format, date_format)
    codes, codelist, spellings = spec.get("codes", []), None, {}
    if isinstance(codes, str):
        codelist = codes
        listed = load_codelist(codes, source["_schema_dir"])
        codes = listed.codes(year)
        spellings = listed.spellings(codes)
    codes = frozenset(str(code) for code in codes)
    if field_type == "code" and not codes:
        raise SchemaError(f"{where}: a code column needs codes (a list or a code list's name)")
    if field_type == "code":
        # A code itself, in any case, before any label spelt like it; a code of digits also
        # without its leading zeros (a spreadsheet reads 01 as the number 1).
        spellings |= _unambiguous(
            [(code, code) for code in codes]
            + [(code.lstrip("0") or "0", code) for code in codes if code.isdigit()]
        )
    paths = spec.get("path", ())
    return FieldRule(
        name=name,
        type=field_type,
        mandatory=bool(spec.get("mandatory", False)),
        optional=bool(spec.get("optional", False)),
        on_invalid=on_invalid,
        date_format=date_format,
        codes=codes,
        codelist=codelist,
        spellings=tuple(sorted(spellings.items())) if field_type == "code" else (),
        pattern=re.compile(spec["pattern"]) if "pattern" in spec else None,
        paths=tuple([paths] if isinstance(paths, str) else paths),
        aliases=tuple(spec.get("aliases", ())),
        description=spec.get("description", ""),
    )


def _row_rule(where: str, spec: dict) -> RowRule:
    spec = _check_keys(where, spec, RULE_KEYS)
    if "require" not in spec or "reason" not in spec:
        raise SchemaError(f"{where}: a rule needs require and reason")
    when = spec.get("when", {})
    if not isinstance(when, dict) or not all(isinstance(v, list) for v in when.values()):
        raise SchemaError(f"{where}.when: expected column: [values] pairs")
    return RowRule(
        spec["require"],
        tuple((column, frozenset(str(v) for v in values)) for column, values in when.items()),
        spec["reason"],
    )


# XML records carry their place in the document, so child tables can join to their parents.
XML_KEY_COLUMNS = (FieldRule(name="_xml_key"), FieldRule(name="_parent_xml_key"))


def _present_if(where: str, spec: object) -> tuple[str | None, frozenset[str] | None]:
    """``present_if: PATH`` (a value must be there) or ``{PATH: [values]}`` (one of them)."""
    if spec is None or isinstance(spec, str):
        return spec, None
    if (
        not isinstance(spec, dict)
        or len(spec) != 1
        or not isinstance(next(iter(spec.values())), list)
    ):
        raise SchemaError(f"{where}.present_if: expected a path or one path: [values] pair")
    ((path, values),) = spec.items()
    return str(path), frozenset(str(value) for value in values)


def _table(where: str, name: str, spec: dict, source: dict, year: int | None) -> TableSchema:
    spec = _check_keys(where, spec, TABLE_KEYS)
    for key in ("record_id", "columns"):
        if key not in spec:
            raise SchemaError(f"{where}: missing {key}")
    present_if, present_values = _present_if(where, spec.get("present_if"))
    columns = tuple(
        _field_rule(f"{where}.columns.{column}", column, rule, source, year)
        for column, rule in spec["columns"].items()
    )
    if source.get("format", "csv") == "xml":
        columns += XML_KEY_COLUMNS
    names = spec.get("names", [name])
    period_date = spec.get("period_date")
    if period_date is not None and not any(
        rule.name == period_date and rule.type == "date" for rule in columns
    ):
        raise SchemaError(f"{where}.period_date: {period_date!r} is not a date column")
    # The cadences whose periods one date names (census_calendar.period_of_day).
    if period_date is not None and source.get("cadence") not in ("monthly", "school_census"):
        raise SchemaError(
            f"{where}.period_date: only a monthly or School Census source's files are dated so"
        )
    return TableSchema(
        name=name,
        record_id=spec["record_id"],
        columns=columns,
        names=tuple([names] if isinstance(names, str) else names),
        record_path=spec.get("record_path"),
        present_if=present_if,
        present_values=present_values,
        rules=tuple(
            _row_rule(f"{where}.rules[{i}]", rule) for i, rule in enumerate(spec.get("rules", []))
        ),
        description=spec.get("description", ""),
        period_date=period_date,
    )


def _apply_year(where: str, tables: dict[str, dict], diff: dict) -> None:
    """Apply one year's differences to the table specifications, in place."""
    diff = _check_keys(where, diff or {}, YEAR_KEYS)
    for name, patch in (diff.get("tables") or {}).items():
        if name not in tables:
            raise SchemaError(f"{where}.tables.{name}: no such table to change (add_tables adds)")
        patch = _check_keys(f"{where}.tables.{name}", patch, TABLE_PATCH_KEYS)
        spec = tables[name]
        for column in patch.get("remove_columns", []):
            if column not in spec["columns"]:
                raise SchemaError(f"{where}.tables.{name}: cannot remove absent column {column}")
            del spec["columns"][column]
        for column, change in (patch.get("columns") or {}).items():
            current = spec["columns"].get(column) or {}
            spec["columns"][column] = {**current, **(change or {})}
        for key, value in patch.items():
            if key not in {"columns", "remove_columns"}:
                spec[key] = value
    for name, spec in (diff.get("add_tables") or {}).items():
        if name in tables:
            raise SchemaError(f"{where}.add_tables.{name}: the table exists already")
        tables[name] = copy.deepcopy(spec)
    for name in diff.get("remove_tables") or []:
        if name not in tables:
            raise SchemaError(f"{where}.remove_tables: no such table {name}")
        del tables[name]


@cache
def _document(source: str, schema_dir: Path) -> dict:
    path = schema_dir / f"{source}.yaml"
    if not path.exists():
        raise SchemaError(f"no schema for source {source!r} ({path})")
    document = _check_keys(str(path), yaml.safe_load(path.read_text("utf-8")), SOURCE_KEYS)
    for key in ("source", "service", "cadence", "period_pattern", "tables"):
        if key not in document:
            raise SchemaError(f"{path}: missing {key}")
    if document["service"] not in SERVICES:
        raise SchemaError(f"{path}: service must be one of {', '.join(SERVICES)}")
    if document["source"] != source:
        raise SchemaError(f"{path}: source must be {source!r}, the file's own name")
    if document["cadence"] not in CADENCES:
        raise SchemaError(f"{path}: cadence must be one of {', '.join(CADENCES)}")
    if document.get("format", "csv") not in {"csv", "xml"}:
        raise SchemaError(f"{path}: format must be csv or xml")
    years = document.get("years") or {}
    document["_years"] = sorted((parse_year_label(label), label) for label in years)
    document["_path"] = str(path)
    document["_schema_dir"] = schema_dir
    return document


def _results_due(document: dict) -> ResultsDue | None:
    """``results_due``: required with cadence ``assessment``, refused with any other."""
    where = f"{document['_path']}: results_due"
    spec = document.get("results_due")
    if document["cadence"] != "assessment":
        if spec is not None:
            raise SchemaError(f"{where}: only a source with cadence assessment has results_due")
        return None
    if spec is None:
        raise SchemaError(
            f"{where}: cadence assessment needs results_due: "
            "{month: 7, weekday: tuesday, on_or_after: 8}"
        )
    spec = _check_keys(where, spec, RESULTS_DUE_KEYS)
    missing = sorted(RESULTS_DUE_KEYS - set(spec))
    if missing:
        raise SchemaError(f"{where}: missing {', '.join(missing)}")
    month, weekday, day = spec["month"], str(spec["weekday"]).lower(), spec["on_or_after"]
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise SchemaError(f"{where}: month must be 1-12, not {month!r}")
    if weekday not in WEEKDAYS:
        raise SchemaError(f"{where}: weekday must be one of {', '.join(WEEKDAYS)}")
    # Every year has the day: 29 February does not.
    if not isinstance(day, int) or not 1 <= day <= calendar.monthrange(2001, month)[1]:
        raise SchemaError(
            f"{where}: on_or_after must be a day every {calendar.month_name[month]} has"
        )
    return ResultsDue(month=month, weekday=WEEKDAYS.index(weekday), on_or_after=day)


def _base(document: dict, year: int | None) -> SourceSchema:
    year_from = document.get("year_from")
    if year_from is not None:
        _check_keys(f"{document['_path']}: year_from", year_from, {"table", "column"})
    return SourceSchema(
        source=document["source"],
        service=document["service"],
        cadence=document["cadence"],
        period_pattern=re.compile(document["period_pattern"]),
        format=document.get("format", "csv"),
        xml_root=document.get("xml_root"),
        max_days_late=document.get("max_days_late"),
        results_due=_results_due(document),
        year_from=(year_from["table"], year_from["column"]) if year_from else None,
        collection_year=year,
        base_year=parse_year_label(document["base_year"]) if "base_year" in document else None,
        change_years=tuple(y for y, _ in document["_years"]),
        description=document.get("description", ""),
        _document=document,
        _schema_dir=document["_schema_dir"],
    )


@cache
def _resolve(source: str, year: int | None, schema_dir: Path) -> SourceSchema:
    """The schema of one collection year: the base plus every year's differences up to it."""
    document = _document(source, schema_dir)
    where = document["_path"]
    tables = copy.deepcopy(document["tables"])
    for change_year, label in document["_years"]:
        if year is not None and change_year > year:
            break
        _apply_year(f"{where}: years.{label}", tables, document["years"][label])
    resolved = {
        name: _table(f"{where}: tables.{name}", name, spec, document, year)
        for name, spec in tables.items()
    }
    return replace(_base(document, year), tables=resolved)


@cache
def load_schema(source: str, schema_dir: Path = SCHEMA_DIR) -> SourceSchema:
    """The source across all its collection years: every table any year has, each with every
    column any year has (those not in every year optional), rules as in the latest year that
    has them and codes valid in any year. The raw layer and the graph are built from this."""
    document = _document(source, schema_dir)
    years = [document.get("base_year")] if "base_year" in document else []
    years = [parse_year_label(y) for y in years] + [y for y, _ in document["_years"]]
    resolutions = [_resolve(source, y, schema_dir) for y in sorted(set(years))] or [
        _resolve(source, None, schema_dir)
    ]
    every_code = _resolve(source, None, schema_dir)  # the newest layout, codes of any year
    tables: dict[str, TableSchema] = {}
    for resolution in [*resolutions, every_code]:
        for name, table in resolution.tables.items():
            columns = {rule.name: rule for rule in (tables[name].columns if name in tables else ())}
            for rule in table.columns:
                earlier = columns.get(rule.name)
                codes = rule.codes | (earlier.codes if earlier else frozenset())
                columns[rule.name] = replace(rule, codes=codes)
            tables[name] = replace(table, columns=tuple(columns.values()))
    for name, table in tables.items():
        in_every_year = [r for r in resolutions if name in r.tables]
        optional = {
            rule.name
            for rule in table.columns
            if len(in_every_year) < len(resolutions)
            or any(rule.name not in r.tables[name].column_names for r in in_every_year)
        }
        tables[name] = replace(
            table,
            columns=tuple(
                replace(rule, optional=rule.optional or rule.name in optional)
                for rule in table.columns
            ),
        )
    return replace(_base(document, None), tables=tables)


def available_sources(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Names of the sources that have a schema file."""
    return sorted(path.stem for path in schema_dir.glob("*.yaml"))
