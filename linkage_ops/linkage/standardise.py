"""Standardise person records before they are compared.

Names lose case, accents, punctuation and extra spaces; forenames also get a canonical form
through the shipped nickname table (Bill -> WILLIAM); postcodes lose spaces and gain their
sector and district; identifiers are validated so that an invalid one is never an exact key.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd

from linkage_ops.identifiers import (
    is_valid_nhs_number,
    is_valid_upn,
    normalise_nhs_number,
    normalise_upn,
)

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


def standardise_postcode(value: object) -> str:
    """Upper case without spaces: ``"hr1 2ab"`` -> ``"HR12AB"``."""
    if not isinstance(value, str):
        return ""
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def _valid_or_none(
    values: pd.Series, normalise: Callable[[object], str | None], is_valid: Callable[[object], bool]
) -> pd.Series:
    """The normalised identifier where it is valid, ``None`` elsewhere."""
    return values.map(
        lambda value: normalised if is_valid(normalised := normalise(value)) else None
    )


def standardise_records(records: pd.DataFrame) -> pd.DataFrame:
    """Add the standardised comparison columns to a frame of person records.

    ``records`` has the columns of ``PERSON_RECORD_COLUMNS`` (missing optional ones are
    treated as blank). Rows keep their order; the index is reset.
    """
    frame = records.reset_index(drop=True).copy()
    for column in PERSON_RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    nicknames = nickname_to_formal()

    first = frame["first_name"].map(standardise_name)
    frame["first_name_std"] = first.str.split(" ").str[0].fillna("")
    frame["first_name_canonical"] = frame["first_name_std"].map(lambda n: nicknames.get(n, n))
    frame["last_name_std"] = frame["last_name"].map(standardise_name)
    frame["former_last_name_std"] = frame["former_last_name"].map(standardise_name)

    dob = pd.to_datetime(frame["date_of_birth"], errors="coerce")
    frame["dob"] = dob
    frame["dob_text"] = dob.dt.strftime("%Y%m%d").fillna("")
    # The same date read the other way round (a day/month swap), where that is a real date.
    swapped = pd.to_datetime(
        dob.dt.strftime("%Y") + dob.dt.strftime("%d") + dob.dt.strftime("%m"),
        format="%Y%m%d",
        errors="coerce",
    )
    frame["dob_swapped_text"] = swapped.dt.strftime("%Y%m%d").fillna("")
    frame["birth_year"] = dob.dt.year.fillna(0).astype(int)

    postcode = frame["postcode"].map(standardise_postcode)
    frame["postcode_std"] = postcode
    frame["postcode_district"] = postcode.str[:-3]
    frame["postcode_sector"] = postcode.str[:-2]

    frame["sex"] = frame["sex"].fillna("U")
    frame["nhs_number_valid"] = _valid_or_none(
        frame["nhs_number"], normalise_nhs_number, is_valid_nhs_number
    )
    frame["upn_valid"] = _valid_or_none(frame["upn"], normalise_upn, is_valid_upn)
    frame["former_upn_valid"] = _valid_or_none(frame["former_upn"], normalise_upn, is_valid_upn)
    # The case-management id is shared by every social care return of one authority.
    la_child_id = frame["la_child_id"].map(
        lambda value: value.strip().upper() if isinstance(value, str) and value.strip() else None
    )
    frame["la_child_id_std"] = la_child_id
    return frame
