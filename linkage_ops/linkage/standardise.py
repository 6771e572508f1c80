"""Standardise person records before they are compared.

Names lose case, accents, punctuation and extra spaces; forenames also get a canonical form
through the shipped nickname table (Bill -> WILLIAM); postcodes lose spaces and, when they are
UK postcodes, gain their sector and district; identifiers are validated so that an invalid one
is never an exact key.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from dateutil import parser as dateutil_parser

from linkage_ops.identifiers import is_uk_postcode, valid_nhs_numbers, valid_upns

NICKNAMES_PATH = Path(__file__).resolve().parent.parent / "reference_data" / "nicknames.csv"
PLACEHOLDER_NAMES_PATH = NICKNAMES_PATH.with_name("placeholder_names.csv")
# NHS pseudo postcodes (NHS Data Dictionary, POSTCODE OF USUAL ADDRESS): ZZ99 3VZ no fixed
# abode, ZZ99 3WZ not known, ZZ99 3CZ England not otherwise stated, ZZ99 plus a country code
# for a visitor from abroad. They say where a child is not, so two of them are no evidence.
PSEUDO_POSTCODE_PREFIX = "ZZ99"
# Every code system's sex codes (DfE returns, NHS feeds), kept once, for dbt and for linkage.
SEX_CODES_PATH = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "conformed_sex_codes.csv"
)
_NOT_LETTERS = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")

PERSON_RECORD_COLUMNS = [
    "record_id",
    "source",
    "source_record_id",
    "first_name",
    "middle_names",
    "last_name",
    "former_last_name",
    "date_of_birth",
    "sex",
    "postcode",
    "upn",
    "former_upn",
    "nhs_number",
    "la_child_id",
]


# A whole name in one column, where a supplier keeps no forename and surname apart: split
# into them (``names_from_full_names``) for the records that give no name otherwise.
FULL_NAME = "full_name"
NAME_PARTS = ("first_name", "middle_names", "last_name")

# Other names suppliers' files and other tools give the person-record columns, compared in
# lower case with spaces, dashes and dots read as underscores (``"Date of Birth"`` is
# ``date_of_birth``). A truth column such as ``child_id`` is never taken for an identifier.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    # unique_id: Splink's name for a record's id.
    "record_id": ("rec_id", "recid", "id", "unique_id"),
    "source": ("source_system", "dataset", "system"),
    "first_name": ("forename", "forenames", "given_name", "givenname", "firstname"),
    "middle_names": ("middle_name", "middlename", "middlenames", "other_forenames"),
    "last_name": ("surname", "family_name", "familyname", "lastname", "preferred_surname"),
    "former_last_name": ("former_surname", "formersurname", "previous_surname", "maiden_name"),
    "date_of_birth": ("dob", "birth_date", "birthdate", "person_birth_date", "personbirthdate"),
    "sex": ("gender", "gendercurrent", "person_stated_gender_code", "sex_code"),
    "postcode": ("post_code", "postal_code", "zip", "zipcode", "zip_code", "homeadd"),
    "upn": ("unique_pupil_number", "pupil_number"),
    "former_upn": ("formerupn", "previous_upn"),
    "nhs_number": ("nhs_no", "nhsnumber", "nhs", "newnhsno", "new_nhs_no"),
    "la_child_id": ("lachildid", "local_child_id"),
    FULL_NAME: ("fullname", "name", "person_name", "child_name", "client_name", "patient_name"),
}
# The columns that say who a record is about: a table with none of them cannot be linked.
IDENTITY_FIELDS = (
    FULL_NAME,
    "first_name",
    "last_name",
    "date_of_birth",
    "postcode",
    "upn",
    "nhs_number",
    "la_child_id",
)


def _header_key(name: object) -> str:
    return re.sub(r"[\s.\-]+", "_", str(name).strip().lower())


def person_record_names(columns: Iterable[object]) -> tuple[dict[str, str], list[str]]:
    """How to name a table's columns as ``PERSON_RECORD_COLUMNS`` where it gives them another
    name (``COLUMN_ALIASES``; a column already so named wins), and the columns linkage will
    not use. Raises ``ValueError`` when no column says who a record is about
    (``IDENTITY_FIELDS``)."""
    columns = list(columns)
    used = [*PERSON_RECORD_COLUMNS, FULL_NAME]
    known = {_header_key(column): column for column in used}
    for column, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            known.setdefault(_header_key(alias), column)
    renamed: dict[object, str] = {}
    for name in columns:
        target = known.get(_header_key(name))
        taken = target in columns or target in renamed.values()
        if target and name != target and not taken:
            renamed[name] = target
    named = [renamed.get(name, name) for name in columns]
    if not any(field in named for field in IDENTITY_FIELDS):
        raise ValueError(
            "no column says who a record is about: expected some of "
            + ", ".join(IDENTITY_FIELDS)
            + " (or another name for one: forename, surname, dob, gender, nhs_no ...)"
        )
    unused = [str(name) for name in named if name not in used]
    return {str(name): target for name, target in renamed.items()}, unused


# Words that begin a surname rather than end the forenames (``Ana de la Cruz``, ``Ahmed Al
# Tamimi``, ``Ludwig van Beethoven``), compared in capitals without dots.
_SURNAME_PARTICLES = frozenset(
    {"AL", "BIN", "BINT", "BINTI", "DA", "DAL", "DAS", "DE", "DEL", "DELLA", "DEN", "DER"}
    | {"DI", "DO", "DOS", "DU", "EL", "IBN", "LA", "LE", "MAC", "MC", "O", "ST", "TEN", "TER"}
    | {"VAN", "VON"}
)


def split_full_name(value: object) -> tuple[str, str, str]:
    """A whole name as forename, middle names and surname, the ways people write one:
    surname first after a comma (``Smith, John Paul``) or in capitals before names that are
    not (``SMITH John Paul``, as NHS systems show a patient), otherwise last (``John Paul
    Smith``), keeping the particles that begin it (``Ana de la Cruz``: ``de la Cruz``). One
    word alone is taken for the surname."""
    if not isinstance(value, str) or not value.strip():
        return "", "", ""
    if "," in value:
        surname, _, forenames = value.partition(",")
        words = forenames.split()
        return (words[0] if words else ""), " ".join(words[1:]), surname.strip()
    words = value.split()
    if len(words) == 1:
        return "", "", words[0]
    capitals = 0
    while capitals < len(words) and _in_capitals(words[capitals]):
        capitals += 1
    if 0 < capitals < len(words):
        rest = words[capitals:]
        return rest[0], " ".join(rest[1:]), " ".join(words[:capitals])
    start = len(words) - 1
    while start > 1 and words[start - 1].upper().replace(".", "") in _SURNAME_PARTICLES:
        start -= 1
    return words[0], " ".join(words[1:start]), " ".join(words[start:])


def _in_capitals(word: str) -> bool:
    """A word of two or more letters, all capitals (an initial is not a surname)."""
    return word.isupper() and sum(character.isalpha() for character in word) > 1


def names_from_full_names(
    records: pd.DataFrame, whole_names: bool | None = None
) -> tuple[pd.DataFrame, int]:
    """Records with a ``full_name`` column (``COLUMN_ALIASES``) take their names from it where
    they lack them; returns the records and how many took a name from it. Records without the
    column are returned as they are.

    A record with no forename or surname apart takes all three from ``split_full_name``. A
    record with one of them takes the other from the column too: where the column holds whole
    names (``whole_names``; by default, when most of its values are two words or more), the
    missing part of the split; where it holds one word each, as a ``Name`` column beside a
    ``Forename`` column holds surnames, the value itself."""
    if FULL_NAME not in records.columns:
        return records, 0
    records = records.copy()
    for column in NAME_PARTS:
        if column not in records.columns:
            records[column] = None
    named = records[FULL_NAME].map(is_given).to_numpy(dtype=bool)
    full = np.array(
        [
            str(value).strip() if given else ""
            for value, given in zip(records[FULL_NAME], named, strict=True)
        ],
        dtype=object,
    )
    if whole_names is None:
        whole_names = holds_whole_names(
            int(named.sum()), sum(len(value.split()) > 1 for value in full[named])
        )
    first, middle, last = (
        records[column].map(is_given).to_numpy(dtype=bool) for column in NAME_PARTS
    )
    columns = {column: np.array(records[column], dtype=object) for column in NAME_PARTS}
    taken = np.zeros(len(records), dtype=bool)
    for row in np.flatnonzero(named & ~(first & last)):
        parts = split_full_name(full[row])
        if (first[row] or last[row]) and not whole_names:  # one word: the part it lacks
            parts = ("", "", full[row]) if first[row] else (full[row], "", "")
        for column, value, given in zip(
            NAME_PARTS, parts, (first[row], middle[row], last[row]), strict=True
        ):
            if value and not given:
                columns[column][row] = value
                taken[row] = True
    for column, values in columns.items():
        records[column] = values
    return records, int(taken.sum())


def holds_whole_names(given: int, of_several_words: int) -> bool:
    """Whether a name column holds whole names rather than one name each: most of its
    ``given`` values are of several words (or none is given)."""
    return not given or of_several_words * 2 >= given


def standardise_name(value: object) -> str:
    """``"  O'Brien-Smith "`` -> ``"OBRIEN SMITH"``; accents removed; blank stays blank, and
    so does a placeholder written where the name is not known (``"Baby 2"``, ``"N/K"``)."""
    if not isinstance(value, str):
        return ""
    ascii_text = (
        unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").upper()
    )
    # Hyphens separate surname parts; apostrophes join (O'Brien is OBRIEN).
    name = _letters_and_spaces(ascii_text.replace("-", " ").replace("'", "").replace("/", " "))
    return "" if name in placeholder_names() else name


def _letters_and_spaces(text: str) -> str:
    """Upper-case letters and single spaces only."""
    return _SPACES.sub(" ", _NOT_LETTERS.sub("", text.upper())).strip()


@cache
def placeholder_names(path: Path = PLACEHOLDER_NAMES_PATH) -> frozenset[str]:
    """What suppliers write where a name is not known (``reference_data``), standardised as
    names are (letters and single spaces, upper case)."""
    with path.open(encoding="utf-8", newline="") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    return frozenset(_letters_and_spaces(name) for name in names)


@cache
def nickname_to_formal(path: Path = NICKNAMES_PATH) -> dict[str, str]:
    """Map each standardised nickname (and formal name) to one canonical formal name."""
    mapping: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            formal = standardise_name(row["name"])
            nickname = standardise_name(row["nickname"])
            mapping.setdefault(formal, formal)
            # A nickname shared by several formal names (Alex) keeps the first one listed.
            mapping.setdefault(nickname, formal)
    return mapping


@cache
def nickname_groups(path: Path = NICKNAMES_PATH) -> tuple[frozenset[str], ...]:
    """Each formal name with its nicknames and variants (standardised). A name may be in
    several groups (Sammy: Samantha and Samuel); two names are variants of each other when
    they share a group."""
    groups: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            formal = standardise_name(row["name"])
            groups.setdefault(formal, {formal}).add(standardise_name(row["nickname"]))
    return tuple(frozenset(group) for group in groups.values())


@cache
def sex_codes(path: Path = SEX_CODES_PATH) -> dict[str, str]:
    """Each code system's sex codes and the words they stand for (``MALE``, ``NOT KNOWN``),
    upper case, to ``M``, ``F`` or ``U``: SSDA903's 1/2, CIN's 0/9, the NHS's X all read."""
    codes: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            codes[row["code"].upper()] = row["sex"]
            codes[row["description"].split(" (")[0].upper()] = row["sex"]
    return codes


def standardise_sex(value: object) -> str:
    """``M``, ``F`` or ``U`` (not known, indeterminate, blank or a code no system uses)."""
    if not isinstance(value, str):
        return "U"
    return sex_codes().get(value.strip().upper(), "U")


# How a date written day, month and year apart with the year last is read.
DAY_FIRST, MONTH_FIRST = "day_first", "month_first"
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
# A spreadsheet cell formatted as a number, not a date, holds Excel's serial day number. In
# Excel's 1900 date system day 1 is 1900-01-01 and Excel counts a 29 February 1900 that never
# was, so from March 1900 on a serial counts days from 1899-12-30: 39448 is 2008-01-01. Five
# digits (1927 to 2173) are read so; no other way of writing a date has five.
_EXCEL_SERIAL = re.compile(r"(\d{5})(?:\.\d*)?")
_EXCEL_DAY_ZERO = pd.Timestamp("1899-12-30")
# Also read by Spark (Java regular expressions), to count each source's evidence.
YEAR_LAST_PATTERN = r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4}|\d{2})(?:[T ].*)?$"
_YEAR_LAST = re.compile(YEAR_LAST_PATTERN)


def date_order(first_over_12: int, second_over_12: int) -> str:
    """How a source writes its dates with the year last: day first (the UK's way) unless more
    of them can only be month first (second number above 12) than can only be day first."""
    return MONTH_FIRST if second_over_12 > first_over_12 else DAY_FIRST


def date_order_evidence(values: Iterable[object]) -> tuple[int, int]:
    """Of these dates (each distinct text once, spaces trimmed), how many written with the
    year last have a first number above 12, and how many a second."""
    first = second = 0
    for text in {value.strip() for value in values if isinstance(value, str)}:
        if match := _YEAR_LAST.match(text):
            first += int(match[1]) > 12
            second += int(match[2]) > 12
    return first, second


# What systems write for a date they do not have: SQL Server's day zero and first day, Excel's
# day zero. Not a birth date.
PLACEHOLDER_DATES = frozenset({"1900-01-01", "1899-12-30", "1899-12-31", "1753-01-01"})


def parse_date(value: object, order: str = DAY_FIRST) -> pd.Timestamp:
    """A date of birth as a supplier may write it: ISO (``2010-12-03``, with or without a
    time), ``20101203`` (or ``03122010``), ``03/12/2010`` (day first unless ``order`` says
    month first, or the numbers themselves do: ``12/13/2010``), two-digit years (the latest
    century not in the future), words (``3 Dec 2010``, ``03-DEC-10``) or an Excel serial day
    number (``40515``, as text or a number: a spreadsheet cell not formatted as a date).
    ``NaT`` when it is none of these, not a real date, only part of one (``2010-12``: no day
    to compare) or a system's placeholder (``PLACEHOLDER_DATES``)."""
    stamp = _read_date(value, order)
    if stamp is pd.NaT or stamp.strftime("%Y-%m-%d") in PLACEHOLDER_DATES:
        return pd.NaT
    return stamp


def _read_date(value: object, order: str) -> pd.Timestamp:
    if value is None or value is pd.NaT:
        return pd.NaT
    if isinstance(value, dt.date | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()
    if isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_):
        # A column of numbers (a spreadsheet's or Parquet's): 20101203 or an Excel serial.
        if not np.isfinite(value) or value < 0:
            return pd.NaT
        value = f"{value:f}".rstrip("0").rstrip(".")
    if not isinstance(value, str) or not value.strip():
        return pd.NaT
    text = value.strip()
    if match := _EXCEL_SERIAL.fullmatch(text):
        return _EXCEL_DAY_ZERO + pd.Timedelta(days=int(match[1]))
    if match := _YEAR_FIRST.fullmatch(text):
        return _date(*(int(part) for part in match.groups()))
    if match := _COMPACT.fullmatch(text):
        as_year_first = _date(*(int(part) for part in match.groups()))
        if as_year_first is not pd.NaT:
            return as_year_first
        return _year_last(int(text[:2]), int(text[2:4]), text[4:], order)
    if match := _YEAR_LAST.match(text):
        return _year_last(int(match[1]), int(match[2]), match[3], order)
    return _words(text, order)


def _date(year: int, month: int, day: int) -> pd.Timestamp:
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return pd.NaT


def _year_last(first: int, second: int, year_text: str, order: str) -> pd.Timestamp:
    """A date written with the year last, its first two numbers in ``order``."""
    year = int(year_text)
    if len(year_text) == 2:
        this_year = dt.date.today().year
        year += this_year // 100 * 100
        if year > this_year:
            year -= 100
    day, month = (first, second) if order == DAY_FIRST else (second, first)
    if month > 12 >= day:  # the numbers say which way round they are
        day, month = month, day
    return _date(year, month, day)


def _words(text: str, order: str) -> pd.Timestamp:
    """A date with its month in words, read by dateutil; ``NaT`` unless the text gives the
    day, month and year (read with two different defaults, a part it lacks shows)."""
    readings = []
    for default in (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2)):
        try:
            readings.append(
                dateutil_parser.parse(text, dayfirst=order == DAY_FIRST, default=default)
            )
        except (ValueError, OverflowError, TypeError):
            return pd.NaT
    if readings[0].date() != readings[1].date():
        return pd.NaT
    return _read_date(readings[0].date(), order)


def is_given(value: object) -> bool:
    """Not missing and not blank."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and not pd.isna(value)


def unreadable_birth_dates(frame: pd.DataFrame) -> np.ndarray:
    """Per standardised row: a date of birth was given but is not a date (left blank to the
    comparisons; the record is kept and linked on its other fields)."""
    values = frame["date_of_birth"]
    if pd.api.types.is_datetime64_any_dtype(values):
        return np.zeros(len(frame), dtype=bool)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    given = np.array([is_given(value) for value in distinct] + [False], dtype=bool)
    return given[codes] & frame["dob"].isna().to_numpy()


def date_orders_of(frame: pd.DataFrame) -> dict[str, str]:
    """Each source's ``date_order`` from its own dates of birth (each distinct value once)."""
    if pd.api.types.is_datetime64_any_dtype(frame["date_of_birth"]):
        return {}
    pairs = frame[["source", "date_of_birth"]].drop_duplicates()
    return {
        source: date_order(*date_order_evidence(dates.tolist()))
        for source, dates in pairs.groupby("source", sort=True).date_of_birth
    }


def birth_dates(frame: pd.DataFrame, orders: Mapping[str, str] | None = None) -> pd.Series:
    """Each record's date of birth (``parse_date``), its source's order (``date_orders_of``
    unless given) deciding dates written day and month apart with the year last."""
    values = frame["date_of_birth"]
    if pd.api.types.is_datetime64_any_dtype(values):
        days = pd.to_datetime(values).dt.tz_localize(None).to_numpy(dtype="datetime64[D]")
        placeholder = np.isin(days, np.array(sorted(PLACEHOLDER_DATES), dtype="datetime64[D]"))
        days[placeholder] = np.datetime64("NaT")
        return pd.Series(days.astype("datetime64[ns]"))
    orders = date_orders_of(frame) if orders is None else orders
    month_first = (
        frame["source"]
        .isin([source for source, order in orders.items() if order == MONTH_FIRST])
        .to_numpy()
    )
    parsed = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    for order, rows in ((DAY_FIRST, ~month_first), (MONTH_FIRST, month_first)):
        if rows.any():
            codes, distinct = pd.factorize(values[rows], use_na_sentinel=True)
            read = pd.Series([parse_date(value, order) for value in distinct] + [pd.NaT])
            parsed[rows] = read.to_numpy(dtype="datetime64[ns]")[codes]
    return pd.Series(parsed)


def standardise_postcode(value: object) -> str:
    """Upper case without spaces: ``"hr1 2ab"`` -> ``"HR12AB"``; blank for an NHS pseudo
    postcode (``"ZZ99 3VZ"``: no fixed abode)."""
    if not isinstance(value, str):
        return ""
    code = re.sub(r"[^A-Z0-9]", "", value.upper())
    return "" if code.startswith(PSEUDO_POSTCODE_PREFIX) else code


def each_distinct(values: pd.Series, function: Callable[[object], str | None]) -> pd.Series:
    """``values.map(function)``, calling ``function`` once per distinct value (names repeat:
    a county has a few thousand first names among a million records)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([function(value) for value in distinct] + [function(None)], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def factorised(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of the values, -1 where missing or blank (codes need not be
    consecutive: the blank value's is left unused), and the value each code stands for."""
    codes, uniques = pd.factorize(values)
    codes, uniques = codes.astype(np.int64), pd.Index(uniques)
    blank = np.flatnonzero(uniques == "")
    if len(blank):
        codes[codes == blank[0]] = -1
    return codes, uniques


def first_of_each(codes: np.ndarray) -> np.ndarray:
    """The position of each code's first appearance, for codes 0..k-1."""
    first = np.empty(int(codes.max(initial=-1)) + 1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def row_numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One number per distinct combination of the ``columns``' values (blanks equal), 0, 1,
    ... in order of first appearance (as ``groupby(..., sort=False).ngroup()``, faster)."""
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for column in columns:
        codes, values = pd.factorize(frame[column])  # -1: missing
        size = len(values) + 1
        if span * size >= 2**62:  # renumber before the product could overflow
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max(initial=0)) + 1
        key = key * size + (codes.astype(np.int64) + 1)
        span *= size
    return pd.factorize(key)[0].astype(np.int64)


def standardise_records(
    records: pd.DataFrame, date_orders: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Add the standardised comparison columns to a frame of person records.

    ``records`` has the columns of ``PERSON_RECORD_COLUMNS`` (missing optional ones are
    treated as blank). Rows keep their order; the index is reset. ``date_orders``: each
    source's ``date_order`` (by default, from these records' own dates).
    """
    frame = records.reset_index(drop=True)  # copy-on-write: the caller's frame is untouched
    for column in PERSON_RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    nicknames = nickname_to_formal()

    frame["first_name_std"] = each_distinct(
        frame["first_name"], lambda name: standardise_name(name).split(" ")[0]
    )
    frame["first_name_canonical"] = each_distinct(
        frame["first_name_std"], lambda name: nicknames.get(name, name)
    )
    frame["middle_names_std"] = each_distinct(frame["middle_names"], standardise_name)
    frame["last_name_std"] = each_distinct(frame["last_name"], standardise_name)
    frame["former_last_name_std"] = each_distinct(frame["former_last_name"], standardise_name)

    # Dates are worked out once per distinct value (a county has a few thousand birthdays).
    codes, distinct = pd.factorize(birth_dates(frame, date_orders), use_na_sentinel=True)
    dob = pd.Series(distinct, dtype="datetime64[ns]")
    dob_text = dob.dt.strftime("%Y%m%d").fillna("")
    # The same date read the other way round (a day/month swap), where that is a real date.
    swapped = pd.to_datetime(
        dob.dt.strftime("%Y") + dob.dt.strftime("%d") + dob.dt.strftime("%m"),
        format="%Y%m%d",
        errors="coerce",
    )
    dob_swapped_text = swapped.dt.strftime("%Y%m%d").fillna("")

    def spread(per_distinct: pd.Series, missing: object) -> np.ndarray:
        values = np.append(per_distinct.to_numpy(dtype=object), [missing])
        return values[codes]  # code -1 (missing) takes the last value

    frame["dob"] = pd.to_datetime(spread(dob, pd.NaT))
    frame["dob_text"] = spread(dob_text, "")
    frame["dob_swapped_text"] = spread(dob_swapped_text, "")
    frame["birth_year"] = spread(dob.dt.year.fillna(0).astype(int), 0).astype(int)

    postcode = each_distinct(frame["postcode"], standardise_postcode)
    frame["postcode_std"] = postcode
    # Sector and district only mean something for a UK postcode; any other format is compared
    # as given (see comparisons.py).
    uk = each_distinct(postcode, lambda code: code if code and is_uk_postcode(code) else "")
    frame["postcode_district"] = each_distinct(uk, lambda code: (code or "")[:-3])
    frame["postcode_sector"] = each_distinct(uk, lambda code: (code or "")[:-2])

    frame["sex"] = each_distinct(frame["sex"], standardise_sex)
    frame["nhs_number_valid"] = valid_nhs_numbers(frame["nhs_number"])
    frame["upn_valid"] = valid_upns(frame["upn"])
    frame["former_upn_valid"] = valid_upns(frame["former_upn"])
    # The case-management id is shared by every social care return of one authority.
    frame["la_child_id_std"] = each_distinct(
        frame["la_child_id"],
        lambda value: value.strip().upper() if isinstance(value, str) and value.strip() else None,
    )
    return frame
