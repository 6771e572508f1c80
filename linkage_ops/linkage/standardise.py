"""Standardise person records before they are compared.

Names lose case, accents, punctuation and extra spaces; forenames also get a canonical form
through the shipped nickname table (Bill -> WILLIAM); postcodes lose spaces and, when they are
UK postcodes, gain their sector and district; identifiers are validated so that an invalid one
is never an exact key.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from linkage_ops.identifiers import is_uk_postcode, valid_nhs_numbers, valid_upns

NICKNAMES_PATH = Path(__file__).resolve().parent.parent / "reference_data" / "nicknames.csv"
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


def standardise_name(value: object) -> str:
    """``"  O'Brien-Smith "`` -> ``"OBRIEN SMITH"``; accents removed; blank stays blank."""
    if not isinstance(value, str):
        return ""
    ascii_text = (
        unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").upper()
    )
    # Hyphens separate surname parts; apostrophes join (O'Brien is OBRIEN).
    spaced = ascii_text.replace("-", " ").replace("'", "")
    return _SPACES.sub(" ", _NOT_LETTERS.sub("", spaced)).strip()


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


def standardise_postcode(value: object) -> str:
    """Upper case without spaces: ``"hr1 2ab"`` -> ``"HR12AB"``."""
    if not isinstance(value, str):
        return ""
    return re.sub(r"[^A-Z0-9]", "", value.upper())


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


def standardise_records(records: pd.DataFrame) -> pd.DataFrame:
    """Add the standardised comparison columns to a frame of person records.

    ``records`` has the columns of ``PERSON_RECORD_COLUMNS`` (missing optional ones are
    treated as blank). Rows keep their order; the index is reset.
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
    codes, distinct = pd.factorize(frame["date_of_birth"], use_na_sentinel=True)
    dob = pd.Series(pd.to_datetime(pd.Series(distinct, dtype=object), errors="coerce"))
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

    frame["sex"] = frame["sex"].fillna("U")
    frame["nhs_number_valid"] = valid_nhs_numbers(frame["nhs_number"])
    frame["upn_valid"] = valid_upns(frame["upn"])
    frame["former_upn_valid"] = valid_upns(frame["former_upn"])
    # The case-management id is shared by every social care return of one authority.
    frame["la_child_id_std"] = each_distinct(
        frame["la_child_id"],
        lambda value: value.strip().upper() if isinstance(value, str) and value.strip() else None,
    )
    return frame
