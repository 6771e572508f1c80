"""Identifier rules: UPN check letters and NHS number Modulus 11.

The algorithms are the DfE's (Unique Pupil Number) and NHS England's (NHS number); see
``shared/domain/SOURCES.md``. Validation never raises: a bad identifier is a data-quality
finding, not a programming error.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

# A-Z without I, O and S. A letter's index is its value in the UPN check sum.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_PATTERN = re.compile(r"^[A-Za-z][0-9]{11}[0-9A-Za-z]$")
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# Never issued: synthetic data lives here.
NHS_TEST_RANGE = (9_990_000_000, 9_999_999_999)
# The shape of a UK postcode (outward code, optional space, inward code), in upper case.
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")


def is_uk_postcode(value: str) -> bool:
    """``"HR1 2AB"`` and ``"hr12ab"`` are UK-shaped; ``"02139"`` and ``"1012 AB"`` are not."""
    return bool(UK_POSTCODE.match(value.strip().upper()))


# An ICD-10 code as health systems write it: a letter and two digits (the category, R95), then
# a subdivision of one digit or X (R69X, P073), with or without its full stop (P07.3), and in
# HES a fifth and sixth character (a dagger or asterisk marker, D or A; or a dash where the
# fourth is empty: R10-).
ICD10_CODE = re.compile(r"^[A-Z]\d{2}(\.?[\dX])?([\dA-Z]?[-*+AD]?)?$")


def is_icd10_code(value: str) -> bool:
    """``"R95"``, ``"P07.3"``, ``"J459"``, ``"R69X"``, ``"G01XA"``, ``"R10-"`` are ICD-10 as
    systems write it; ``"9999"`` and ``"R9"`` are not."""
    return bool(ICD10_CODE.match(value.strip().upper()))


def normalise_upn(value: object) -> str | None:
    """Upper-case a UPN and strip surrounding spaces; blank or not text becomes ``None``."""
    if not isinstance(value, str):
        return None
    cleaned = value.strip().upper()
    return cleaned or None


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters that follow it (c2-c13).

    Raises ``ValueError`` if ``body`` is not 11 digits followed by a digit or a letter.
    """
    body = body.upper()
    if not re.fullmatch(r"[0-9]{11}[0-9A-Z]", body):
        raise ValueError(f"UPN body must be 11 digits then a digit or letter, got {body!r}")
    total = 0
    for position, char in enumerate(body, start=2):
        value = int(char) if char.isdigit() else UPN_LETTERS.index(char)
        total += value * position
    return UPN_LETTERS[total % 23]


def is_valid_upn(value: object) -> bool:
    """True when ``value`` has the UPN pattern and its check letter is right."""
    upn = normalise_upn(value)
    if upn is None or not _UPN_PATTERN.match(upn):
        return False
    if not upn[12].isdigit() and upn[12] not in UPN_LETTERS:
        return False
    return upn[0] == upn_check_letter(upn[1:])


def make_upn(la_number: int, establishment: int, year_of_issue: int, serial: int) -> str:
    """Build a permanent UPN with its check letter."""
    body = f"{la_number:03d}{establishment:04d}{year_of_issue % 100:02d}{serial:03d}"
    return upn_check_letter(body) + body


def digits_of_number(value: object) -> str | None:
    """A whole number's digits (``9434765919`` or ``9434765919.0``, as a spreadsheet or a
    Parquet file holds an NHS number), ``None`` for anything else."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return None


# What a number column written out as decimals ends with (``9434765919.0``: a CSV written
# from a spreadsheet or a data frame whose column had blanks), removed from NHS numbers.
NHS_DECIMAL_ZEROS = r"[.]0+$"


def normalise_nhs_number(value: object) -> str | None:
    """Remove the spaces and dashes feeds put in NHS numbers and the ``.0`` a number column
    written as decimals gives them; a whole number is read as its digits; blank or anything
    else becomes ``None``."""
    if not isinstance(value, str):
        return digits_of_number(value)
    cleaned = re.sub(NHS_DECIMAL_ZEROS, "", re.sub(r"[\s-]", "", value))
    return cleaned or None


def nhs_check_digit(stem: str) -> int | None:
    """The Modulus 11 check digit for a nine-digit stem, or ``None`` if no digit is valid."""
    if not re.fullmatch(r"[0-9]{9}", stem):
        raise ValueError(f"NHS number stem must be nine digits, got {stem!r}")
    remainder = sum(int(d) * w for d, w in zip(stem, _NHS_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: object) -> bool:
    """True when ``value`` (spaces and dashes allowed) is ten digits passing Modulus 11."""
    number = normalise_nhs_number(value)
    if number is None or not re.fullmatch(r"[0-9]{10}", number):
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def is_test_range_nhs_number(value: object) -> bool:
    """True for a valid NHS number in the 999 range that is never issued to a person."""
    number = normalise_nhs_number(value)
    if not is_valid_nhs_number(number):
        return False
    return NHS_TEST_RANGE[0] <= int(number) <= NHS_TEST_RANGE[1]


def format_nhs_number(number: str, separator: str = " ") -> str:
    """Display form ``943 476 5919`` (or with another separator, e.g. ``943-476-5919``)."""
    digits = normalise_nhs_number(number) or ""
    return separator.join((digits[:3], digits[3:6], digits[6:]))


# Column-at-a-time versions of the rules above, for linking millions of records. They agree
# with the scalar functions on every value (tests/test_identifiers.py checks).


def _text(values: pd.Series) -> pd.Series:
    """Text values as a string Series; a whole number as its digits (``digits_of_number``);
    anything else becomes missing."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return values.astype("string")  # already text (or missing) throughout
    return values.map(
        lambda value: value if isinstance(value, str) else digits_of_number(value),
        na_action="ignore",
    ).astype("string")


def _nhs_cleaned(values: pd.Series) -> pd.Series:
    """Values as ``normalise_nhs_number`` leaves them, column at a time."""
    return (
        _text(values)
        .str.replace(r"[\s-]", "", regex=True)
        .str.replace(NHS_DECIMAL_ZEROS, "", regex=True)
    )


def _nhs_digits_valid(digits: np.ndarray) -> np.ndarray:
    """Per row of ten digits (values 0-9), whether it passes Modulus 11."""
    total = np.zeros(len(digits), dtype=np.int32)
    for column, weight in enumerate(_NHS_WEIGHTS):
        total += digits[:, column].astype(np.int32) * weight
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    return (check != 10) & (check == digits[:, 9])


def _as_bytes(values: np.ndarray, width: int) -> np.ndarray:
    """Strings of ``width`` ASCII characters as a (values, width) array of bytes."""
    return np.frombuffer(values.astype(f"S{width}").tobytes(), dtype=np.uint8).reshape(-1, width)


def valid_nhs_numbers(values: pd.Series) -> pd.Series:
    """Each value normalised where it is a valid NHS number, ``None`` elsewhere."""
    cleaned = _nhs_cleaned(values)
    shaped = cleaned.str.fullmatch(r"[0-9]{10}").fillna(False).to_numpy(dtype=bool)
    result = np.full(len(values), None, dtype=object)
    if not shaped.any():
        return pd.Series(result, index=values.index, dtype=object)
    candidates = cleaned[shaped].to_numpy(dtype=object)
    valid = _nhs_digits_valid(_as_bytes(candidates, 10) - 48)
    result[np.flatnonzero(shaped)[valid]] = candidates[valid]
    return pd.Series(result, index=values.index, dtype=object)


# A UPN as the column-at-a-time rules read it (upper case, no spaces).
_UPN_SHAPE = r"[A-Z][0-9]{11}[0-9A-Z]"
_DIGITS = np.arange(ord("0"), ord("9") + 1, dtype=np.uint8)
_UPN_VALUES = np.full(256, -1, dtype=np.int64)
_UPN_VALUES[ord("0") : ord("9") + 1] = np.arange(10)
for _index, _letter in enumerate(UPN_LETTERS):
    _UPN_VALUES[ord(_letter)] = _index
_UPN_LETTER_BYTES = np.frombuffer(UPN_LETTERS.encode(), dtype=np.uint8)


def _upn_chars_valid(chars: np.ndarray) -> np.ndarray:
    """Per row of 13 UPN-shaped bytes, whether its check letter is right."""
    body = _UPN_VALUES[chars[:, 1:]]  # -1 for a final letter outside the check alphabet
    check = (body * np.arange(2, 14)).sum(axis=1) % 23
    return (body[:, -1] >= 0) & (_UPN_LETTER_BYTES[check] == chars[:, 0])


def valid_upns(values: pd.Series) -> pd.Series:
    """Each value normalised where it is a valid UPN, ``None`` elsewhere."""
    cleaned = _text(values).str.strip().str.upper()
    shaped = cleaned.str.fullmatch(_UPN_SHAPE).fillna(False).to_numpy(dtype=bool)
    result = np.full(len(values), None, dtype=object)
    if not shaped.any():
        return pd.Series(result, index=values.index, dtype=object)
    candidates = cleaned[shaped].to_numpy(dtype=object)
    valid = _upn_chars_valid(_as_bytes(candidates, 13))
    result[np.flatnonzero(shaped)[valid]] = candidates[valid]
    return pd.Series(result, index=values.index, dtype=object)


def _slips(chars: np.ndarray, alphabets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Every string one typing slip from each row of ``chars``: one character replaced by
    another of its position's alphabet, or two neighbouring characters of one alphabet
    swapped. Returns the row each comes from and the variants."""
    rows, variants = [], []
    every = np.arange(len(chars))
    for position, alphabet in enumerate(alphabets):
        for char in alphabet:
            changed = chars[:, position] != char
            variant = chars[changed].copy()
            variant[:, position] = char
            rows.append(every[changed])
            variants.append(variant)
    for position in range(len(alphabets) - 1):
        if alphabets[position] is alphabets[position + 1]:
            changed = chars[:, position] != chars[:, position + 1]
            variant = chars[changed].copy()
            variant[:, [position, position + 1]] = variant[:, [position + 1, position]]
            rows.append(every[changed])
            variants.append(variant)
    return np.concatenate(rows), np.concatenate(variants)


def one_slip_identifiers(values: pd.Series, kind: str) -> pd.DataFrame:
    """For each value shaped like an NHS number (``kind="nhs_number"``) or a UPN (``"upn"``)
    that fails its check: every valid identifier one typing slip away (a character changed,
    or two neighbouring ones swapped; the NHS number's Modulus 11 and the UPN's check letter
    catch every such slip, so a failing value is a slip from some valid one). Returns a frame
    of ``position`` (in ``values``) and ``identifier``, normalised as the valid ones are."""
    if kind == "nhs_number":
        cleaned = _nhs_cleaned(values)
        shaped = cleaned.str.fullmatch(r"[0-9]{10}").fillna(False).to_numpy(dtype=bool)
        width, alphabets, is_valid = 10, [_DIGITS] * 10, lambda chars: _nhs_digits_valid(chars - 48)
    elif kind == "upn":
        cleaned = _text(values).str.strip().str.upper()
        shaped = cleaned.str.fullmatch(_UPN_SHAPE).fillna(False).to_numpy(dtype=bool)
        # The check letter, eleven digits and a last digit (a letter there is a temporary
        # UPN's, not a slip).
        width, alphabets, is_valid = 13, [_UPN_LETTER_BYTES] + [_DIGITS] * 12, _upn_chars_valid
    else:
        raise ValueError(f"no typing slips are known for {kind!r}")
    empty = pd.DataFrame({"position": np.zeros(0, np.int64), "identifier": []})
    if not shaped.any():
        return empty
    positions = np.flatnonzero(shaped)
    chars = _as_bytes(cleaned[shaped].to_numpy(dtype=object), width)
    failing = ~is_valid(chars)
    if not failing.any():
        return empty
    rows, variants = _slips(chars[failing], alphabets)
    valid = is_valid(variants)
    text = variants[valid].copy().view(f"S{width}").ravel().astype(str)
    return pd.DataFrame(
        {"position": positions[np.flatnonzero(failing)[rows[valid]]], "identifier": text}
    )
