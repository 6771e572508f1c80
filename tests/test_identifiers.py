"""UPN check letters and NHS number Modulus 11, with the test vectors in SOURCES.md."""

import random

import pandas as pd
import pytest

from linkage_ops.identifiers import (
    UPN_LETTERS,
    format_nhs_number,
    is_test_range_nhs_number,
    is_valid_nhs_number,
    is_valid_upn,
    make_upn,
    nhs_check_digit,
    normalise_nhs_number,
    normalise_upn,
    one_slip_identifiers,
    upn_check_letter,
    valid_nhs_numbers,
    valid_upns,
)


@pytest.mark.parametrize("upn", ["A950000178301", "H243278544154", "B801200005001"])
def test_valid_upns_from_the_dfe_vectors(upn: str) -> None:
    assert is_valid_upn(upn)
    assert is_valid_upn(upn.lower())
    assert upn_check_letter(upn[1:]) == upn[0]


@pytest.mark.parametrize("upn", ["R247962919251", "X428558133462"])
def test_upns_with_a_wrong_check_letter_are_invalid(upn: str) -> None:
    assert not is_valid_upn(upn)


@pytest.mark.parametrize(
    "upn", ["", None, "A95000017830", "A9500001783011", "1950000178301", "A95000O178301"]
)
def test_malformed_upns_are_invalid(upn: str | None) -> None:
    assert not is_valid_upn(upn)


def test_temporary_upn_ending_in_a_letter_uses_the_letter_value() -> None:
    body = "88420012400A"
    upn = upn_check_letter(body) + body
    assert is_valid_upn(upn)
    # Changing the final letter changes the check letter.
    assert not is_valid_upn(upn[:-1] + "B")


def test_make_upn_builds_the_documented_layout() -> None:
    upn = make_upn(884, 2001, 2024, 7)
    assert upn[1:] == "884200124007"
    assert is_valid_upn(upn)


# 9434765919.0: a number column written out as decimals (a CSV saved from a spreadsheet or
# a data frame whose column had blanks).
@pytest.mark.parametrize(
    "number", ["9434765919", "943 476 5919", "943-476-5919", "9434765919.0", "9434765919.00"]
)
def test_valid_nhs_number_in_display_and_feed_forms(number: str) -> None:
    assert is_valid_nhs_number(number)
    assert normalise_nhs_number(number) == "9434765919"


@pytest.mark.parametrize(
    "number",
    ["9434765918", "943476591", "94347659190", "", None, "abc", "9434765919.5", ".0", "94.0"],
)
def test_invalid_nhs_numbers(number: str | None) -> None:
    assert not is_valid_nhs_number(number)


def test_a_stem_whose_check_would_be_ten_is_never_valid() -> None:
    # Find a stem with remainder 1 (check 10): no final digit makes it valid.
    stem = next(
        f"{n:09d}" for n in range(999000000, 999001000) if nhs_check_digit(f"{n:09d}") is None
    )
    assert all(not is_valid_nhs_number(stem + str(d)) for d in range(10))


def test_check_digit_eleven_becomes_zero() -> None:
    stem = next(
        f"{n:09d}"
        for n in range(999000000, 999001000)
        if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1), strict=True)) % 11 == 0
    )
    assert nhs_check_digit(stem) == 0
    assert is_valid_nhs_number(stem + "0")


def test_test_range_and_display_format() -> None:
    assert not is_test_range_nhs_number("9434765919")
    stem = next(f"{n}" for n in range(999123456, 999124456) if nhs_check_digit(f"{n}") is not None)
    assert is_test_range_nhs_number(f"{stem}{nhs_check_digit(stem)}")
    assert format_nhs_number("9434765919") == "943 476 5919"


def _mangled(rng: random.Random, value: str) -> str:
    """A value as a feed might send it: spaced, dashed, cased, padded, or one character off."""
    choice = rng.randrange(7)
    if choice == 0:
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    if choice == 1:
        return f"{value[:3]}-{value[3:6]}-{value[6:]}"
    if choice == 2:
        return f"  {value.lower()} "
    if choice == 3:
        position = rng.randrange(len(value))
        return value[:position] + rng.choice("0123456789AIOSZ") + value[position + 1 :]
    if choice == 4:
        return value[:-1]
    if choice == 5:
        return value + "7"
    return value


def test_column_rules_agree_with_the_scalar_rules_on_every_value() -> None:
    rng = random.Random(5)
    upns = [
        make_upn(rng.randrange(1000), rng.randrange(10000), 2019, rng.randrange(1000))
        for _ in range(3000)
    ]
    upns += [u[:-1] + rng.choice("ABIOSZ") for u in upns[:500]]  # temporary-UPN final letters
    stems = [f"999{rng.randrange(10**6):06d}" for _ in range(3000)]
    nhs = [f"{s}{nhs_check_digit(s)}" if nhs_check_digit(s) is not None else s + "0" for s in stems]
    odd = [
        None,
        "",
        " ",
        "abc",
        float("nan"),
        12,
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",  # full-width digits
        "943\t476\t5919",
        "9434765919.0",
        "9434765919.01",
        "943 476 5919.0",
    ]
    values = pd.Series([_mangled(rng, v) for v in upns + nhs] + odd, dtype=object)

    expected_nhs = [normalise_nhs_number(v) if is_valid_nhs_number(v) else None for v in values]
    expected_upn = [normalise_upn(v) if is_valid_upn(v) else None for v in values]
    assert valid_nhs_numbers(values).tolist() == expected_nhs
    assert valid_upns(values).tolist() == expected_upn
    assert sum(v is not None for v in expected_nhs) > 500
    assert sum(v is not None for v in expected_upn) > 500


def test_column_rules_accept_text_columns_as_duckdb_returns_them() -> None:
    values = pd.Series(["943 476 5919", None, "A950000178301", "x"], dtype="str")
    assert valid_nhs_numbers(values).tolist() == ["9434765919", None, None, None]
    assert valid_upns(values).tolist() == [None, None, "A950000178301", None]


def test_an_nhs_number_held_as_a_number_is_read() -> None:
    """A spreadsheet or Parquet file holds NHS numbers as numbers (9434765919, or 9434765919.0
    in a column with blanks): the same number, not a missing one."""
    for values in (
        pd.Series([9434765919, 9434765918], dtype="int64"),
        pd.Series([9434765919, 9434765918, None], dtype="float64"),
        pd.Series([9434765919, 9434765918, None], dtype="Int64"),
        pd.Series([9434765919.0, 9434765918, True, 943476591.9], dtype=object),
    ):
        assert valid_nhs_numbers(values).tolist()[:2] == ["9434765919", None]
        assert [is_valid_nhs_number(v) for v in values.tolist()[:2]] == [True, False]
    assert valid_nhs_numbers(pd.Series([True, 943476591.9], dtype=object)).tolist() == [None, None]


def _slips_of(identifier: str, alphabets: list[str]) -> set[str]:
    """Every string one typing slip from ``identifier`` (written out plainly, one by one)."""
    found = set()
    for position, alphabet in enumerate(alphabets):
        for char in alphabet:
            found.add(identifier[:position] + char + identifier[position + 1 :])
    for position in range(len(identifier) - 1):
        if alphabets[position] == alphabets[position + 1]:
            chars = list(identifier)
            chars[position], chars[position + 1] = chars[position + 1], chars[position]
            found.add("".join(chars))
    found.discard(identifier)
    return found


def test_a_mistyped_identifier_s_one_slip_identifiers_are_the_valid_ones_a_slip_away() -> None:
    """Modulus 11 and the UPN check letter catch every slip of one character or of two
    neighbours swapped: each such slip of a valid identifier fails, and the valid identifiers
    one slip from it include the one meant, listed as the plain rule finds them."""
    rng = random.Random(7)
    digits = "0123456789"
    numbers = [
        n for n in (f"999{rng.randrange(10**7):07d}" for _ in range(300)) if is_valid_nhs_number(n)
    ]
    upns = [make_upn(884, rng.randrange(1000, 9999), 21, rng.randrange(1000)) for _ in range(60)]
    cases = []
    for number in numbers[:40]:
        slip = rng.choice(sorted(_slips_of(number, [digits] * 10)))
        assert not is_valid_nhs_number(slip)
        cases.append(("nhs_number", number, slip, [digits] * 10))
    for upn in upns[:40]:
        slip = rng.choice(sorted(_slips_of(upn, [UPN_LETTERS] + [digits] * 12)))
        assert not is_valid_upn(slip)
        cases.append(("upn", upn, slip, [UPN_LETTERS] + [digits] * 12))
    for kind, meant, slip, alphabets in cases:
        # As feeds write it: spaced, or in lower case.
        written = f"{slip[:3]} {slip[3:6]} {slip[6:]}" if kind == "nhs_number" else slip.lower()
        found = one_slip_identifiers(pd.Series(["", written, None], dtype=object), kind)
        assert set(found.position) == {1}
        valid = is_valid_nhs_number if kind == "nhs_number" else is_valid_upn
        assert set(found.identifier) == {v for v in _slips_of(slip, alphabets) if valid(v)}
        assert meant in set(found.identifier)
    # A valid identifier, or one not shaped like one, has no slips.
    shaped_not = pd.Series([numbers[0], "12345", "UNKNOWN", upns[0]], dtype=object)
    assert one_slip_identifiers(shaped_not, "nhs_number").empty
    assert one_slip_identifiers(shaped_not, "upn").empty
    with pytest.raises(ValueError, match="no typing slips"):
        one_slip_identifiers(shaped_not, "la_child_id")
