"""The independent generator of person records (linkage_ops.synthetic.independent_people)."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkage_ops.identifiers import is_valid_nhs_number, normalise_nhs_number
from linkage_ops.linkage.standardise import PERSON_RECORD_COLUMNS
from linkage_ops.synthetic import independent_people
from linkage_ops.synthetic.independent_people import (
    FIRST_NAME_VARIANTS,
    OUTPUT_COLUMNS,
    SURNAME_VARIANTS,
    corrupted_fields,
    generate_dataset,
    generate_people,
    main,
    name_pool_sizes,
)

PEOPLE = 5000
IDENTIFIER_COLUMNS = ["upn", "former_upn", "nhs_number", "la_child_id"]
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)
POSTCODE_SHAPES = {
    "zip": r"\d{5}",
    "zip4": r"\d{5}-\d{4}",
    "dutch": r"\d{4} [A-Z]{2}",
    "canadian": r"[A-Z]\d[A-Z] \d[A-Z]\d",
    "eircode": r"[A-Z](\d{2}|6W) [0-9A-Z]{4}",
    "number": r"\d{3,4}|\d{6}",
    "free_text": r"[A-Z]+( [A-Z]+)? \d+",
}


@pytest.fixture(scope="module")
def heavy() -> independent_people.Dataset:
    return generate_dataset(PEOPLE, seed=1, preset="heavy", identifiers=True)


@pytest.fixture(scope="module")
def moderate() -> pd.DataFrame:
    return generate_people(PEOPLE, seed=1, preset="moderate")


def _with_people(dataset: independent_people.Dataset) -> pd.DataFrame:
    """Each record with its true person's fields (suffix ``_true``)."""
    return dataset.records.merge(
        dataset.people, on="truth", how="left", suffixes=("", "_true"), validate="many_to_one"
    )


def _error_count(errors: pd.Series) -> pd.Series:
    return errors.map(lambda text: len(text.split(";")) if text else 0)


def test_columns_are_the_person_record_shape_all_text(heavy):
    records = heavy.records
    assert list(records.columns) == [*PERSON_RECORD_COLUMNS, "truth", "errors"] == OUTPUT_COLUMNS
    assert records.map(lambda value: isinstance(value, str)).all().all()
    assert records["record_id"].is_unique
    assert (records["record_id"].str.split(":").str[0] == records["source"]).all()
    assert records["record_id"].str.fullmatch(r"[a-z_]+:[1-9][0-9]*").all()
    assert set(records["source"]) == {"clinic_a", "school_b", "register_c", "survey_d"}
    assert not records.duplicated(["source", "source_record_id"]).any()
    assert records["truth"].str.fullmatch(r"T[0-9]{6}").all()
    assert set(records["sex"]) <= {"M", "F", "U", ""}
    dates = records["date_of_birth"]
    parsed = pd.to_datetime(dates.where(dates != ""), format="%Y-%m-%d", errors="coerce")
    assert parsed.notna().sum() == (dates != "").sum()  # every date given is a real ISO date
    assert parsed.dt.year.max() <= date.today().year  # a mistyped date is not in the future


def test_people_have_one_to_six_records_many_singletons(heavy):
    per_person = heavy.records.groupby("truth").size()
    assert len(per_person) == PEOPLE
    assert per_person.between(1, 6).all()
    assert 0.3 <= (per_person == 1).mean() <= 0.6
    assert (per_person == 6).any()
    # A person's records come from several sources.
    assert (heavy.records.groupby("truth")["source"].nunique() >= 2).mean() > 0.3


def test_deterministic_for_a_seed():
    first = generate_people(300, seed=7, identifiers=True)
    again = generate_people(300, seed=7, identifiers=True)
    other = generate_people(300, seed=8, identifiers=True)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert (first["first_name"].head(50).to_numpy() != other["first_name"].head(50)).any()


def test_identifiers_change_only_the_nhs_number():
    plain = generate_people(300, seed=7)
    with_ids = generate_people(300, seed=7, identifiers=True)
    same = [c for c in OUTPUT_COLUMNS if c not in ("nhs_number", "errors")]
    pd.testing.assert_frame_equal(plain[same], with_ids[same])


def test_heavy_preset_corrupts_two_or_more_fields_of_most_records(heavy, moderate):
    fields = corrupted_fields(heavy.records["errors"])
    assert (fields >= 2).mean() >= 0.4
    assert 1.6 <= _error_count(heavy.records["errors"]).mean() <= 2.6

    moderate_fields = corrupted_fields(moderate["errors"])
    assert 0.7 <= _error_count(moderate["errors"]).mean() <= 1.3
    assert (moderate_fields >= 2).mean() < (fields >= 2).mean() - 0.2


def test_every_error_kind_occurs(heavy):
    seen = {entry for text in heavy.records["errors"] for entry in text.split(";") if entry}
    name_kinds = {
        "keyboard",
        "ocr",
        "transpose",
        "drop",
        "double",
        "truncate",
        "case",
        "space",
        "punctuation",
        "missing",
        "variant",
        "swap_first_last",
        "middle_as_first",
    }
    expected = {f"first_name:{kind}" for kind in name_kinds}
    expected |= {f"last_name:{kind}" for kind in name_kinds - {"middle_as_first"}}
    expected |= {"last_name:surname_change", "middle_names:missing", "middle_names:truncate"}
    expected |= {
        f"date_of_birth:{kind}"
        for kind in (
            "digit",
            "transpose",
            "day_month_swap",
            "year_off_by_one",
            "same_month",
            "missing",
        )
    }
    expected |= {f"postcode:{kind}" for kind in ("typo", "spacing", "old_address", "missing")}
    expected |= {f"sex:{kind}" for kind in ("flip", "unknown", "missing")}
    expected |= {"nhs_number:digit", "nhs_number:transpose"}
    assert expected <= seen, sorted(expected - seen)


def test_a_field_without_a_recorded_error_holds_the_truth(heavy):
    # The errors column is complete: a field it does not name is the person's true value
    # (names may be upper-cased by a source; survey_d does not collect middle names).
    joined = _with_people(heavy)
    for field in ("first_name", "last_name", "date_of_birth", "sex", "middle_names"):
        clean = joined[~joined["errors"].str.contains(f"{field}:", regex=False)]
        if field == "middle_names":
            clean = clean[clean["source"] != "survey_d"]
        assert len(clean) > 1000
        given, true = clean[field].str.casefold(), clean[f"{field}_true"].str.casefold()
        assert (given == true).all(), field
    clean = joined[~joined["errors"].str.contains("postcode:", regex=False)]
    addresses = clean["postcodes"].str.split(";").str[1:]  # [0] is the address before
    assert all(pc in known for pc, known in zip(clean["postcode"], addresses, strict=True))


def test_corrupted_fields_differ_from_the_truth(heavy):
    joined = _with_people(heavy)
    for field in ("first_name", "last_name", "date_of_birth", "sex", "postcode"):
        hit = joined[joined["errors"].str.contains(f"{field}:", regex=False)]
        true = hit[f"{field}_true"] if field != "postcode" else hit["postcodes"]
        if field == "postcode":
            # typo/spacing/missing make a postcode the person never had; old_address does not
            typo = hit["errors"].str.contains("postcode:(?:typo|spacing|missing)")
            hit, true = hit[typo], true[typo].str.split(";")
            assert all(pc not in known for pc, known in zip(hit[field], true, strict=True))
        else:
            changed = hit[field].str.casefold() != true.str.casefold()
            # case noise changes only the case (unless the names were also reordered)
            errors = hit["errors"]
            case_only = errors.str.contains(f"{field}:case") & ~errors.str.contains(
                f"{field}:(?:swap_first_last|middle_as_first)"
            )
            assert not changed[case_only].any()
            assert changed[~case_only].all(), field
    dates = joined[joined["errors"].str.contains("date_of_birth:", regex=False)]
    assert (dates["date_of_birth"] != dates["date_of_birth_true"]).all()


def test_more_people_than_synthetic_nhs_numbers_leaves_some_without_one(monkeypatch) -> None:
    """Only the 999 range is used: beyond it (about 900,000 people) a random share of people
    has no NHS number and their records carry none, instead of the generator failing."""
    real = independent_people._nhs_numbers
    numbers = real(2_000_000, np.random.default_rng(1))
    assert 850_000 < len(numbers) < 950_000 and len(set(numbers)) == len(numbers)
    monkeypatch.setattr(
        independent_people, "_nhs_numbers", lambda count, rng: real(count, rng)[: count // 2]
    )
    dataset = generate_dataset(people=400, seed=3, preset="moderate", identifiers=True)
    numbered = dataset.people["nhs_number"] != ""
    assert 0.4 < numbered.mean() < 0.6
    assert dataset.people["nhs_number"][numbered].is_unique
    records = dataset.records
    without = records["truth"].isin(dataset.people["truth"][~numbered])
    assert (records["nhs_number"][without] == "").all()
    assert (records["nhs_number"][~without] != "").mean() > 0.5


def test_no_identifiers_by_default(moderate):
    for column in IDENTIFIER_COLUMNS:
        assert (moderate[column] == "").all(), column


def test_nhs_numbers_with_identifiers(heavy):
    records = heavy.records
    for column in ("upn", "former_upn", "la_child_id"):
        assert (records[column] == "").all()
    carried = records[records["nhs_number"] != ""]
    assert 0.55 <= len(carried) / len(records) <= 0.65
    digits = carried["nhs_number"].map(normalise_nhs_number)
    assert digits.str.fullmatch(r"999[0-9]{7}").all()
    assert carried["nhs_number"].str.contains(" ").any()  # clinic_a writes "999 123 4567"

    mistyped = carried["errors"].str.contains("nhs_number:", regex=False)
    assert 0.015 <= mistyped.mean() <= 0.05
    valid = digits.map(is_valid_nhs_number)
    assert valid[~mistyped].all()
    assert (~valid[mistyped]).mean() >= 0.9  # Modulus 11 catches most slips
    truth = carried["truth"].map(heavy.people.set_index("truth")["nhs_number"])
    assert (digits[~mistyped] == truth[~mistyped]).all()
    assert (digits[mistyped] != truth[mistyped]).all()
    # One number per person.
    assert heavy.people["nhs_number"].is_unique


def test_households_share_surname_and_address(heavy):
    people = heavy.people
    households = people.groupby("household")
    assert (households["last_name"].nunique() == 1).all()
    assert (households["postcodes"].agg(lambda s: s.str.split(";").str[1].nunique()) == 1).all()
    assert (households.size() >= 2).mean() > 0.3
    moved = people["postcodes"].str.count(";") >= 2
    assert 0.2 <= moved.mean() <= 0.7  # many people move during the period


def test_twins(heavy):
    people = heavy.people.set_index("truth")
    twins = people[people["twin_of"] != ""]
    assert 0.008 <= len(twins) / len(people) <= 0.025
    other = people.loc[twins["twin_of"]]
    assert (other["twin_of"].to_numpy() == twins.index.to_numpy()).all()
    assert (other["household"].to_numpy() == twins["household"].to_numpy()).all()
    assert (other["date_of_birth"].to_numpy() == twins["date_of_birth"].to_numpy()).all()
    assert (other["last_name"].to_numpy() == twins["last_name"].to_numpy()).all()
    assert (other["first_name"].to_numpy() != twins["first_name"].to_numpy()).all()
    same_initial = (other["first_name"].str[0].to_numpy() == twins["first_name"].str[0]) & (
        other["sex"].to_numpy() == twins["sex"]
    )
    assert same_initial.any()
    # In the records: two people of one household with the same date of birth.
    records = heavy.records.merge(heavy.people[["truth", "household"]], on="truth")
    pairs = records.merge(records, on=["household", "date_of_birth"])
    assert (pairs["truth_x"] != pairs["truth_y"]).any()


def test_postcodes_are_not_uk_shaped(heavy):
    postcodes = heavy.records["postcode"]
    given = postcodes[postcodes != ""].str.strip()
    assert len(given) > 0.85 * len(postcodes)
    assert given.map(lambda pc: bool(UK_POSTCODE.match(pc))).mean() < 0.01
    true = heavy.people["postcodes"].str.split(";").explode()
    for shape, pattern in POSTCODE_SHAPES.items():
        assert true.str.fullmatch(pattern).mean() > 0.03, shape


def test_records_of_one_person_often_disagree_on_two_key_fields(heavy):
    def key(column: pd.Series) -> pd.Series:
        return column.str.casefold().str.replace(r"[^0-9a-z]", "", regex=True)

    fields = ["first_name", "last_name", "date_of_birth", "postcode"]
    records = heavy.records[["record_id", "truth", *fields]].copy()
    for field in fields:
        records[field] = key(records[field])
    pairs = records.merge(records, on="truth")
    pairs = pairs[pairs["record_id_x"] < pairs["record_id_y"]]
    disagree = sum((pairs[f"{f}_x"] != pairs[f"{f}_y"]).astype(int) for f in fields)
    assert len(pairs) > 5000
    assert (disagree >= 2).mean() >= 0.4
    hard_people = (disagree >= 2).groupby(pairs["truth"]).any()
    assert hard_people.mean() >= 0.6  # of the people with 2+ records
    assert (disagree == 0).mean() > 0.01  # ... though some pairs are easy


def test_name_pools(heavy):
    first, last = name_pool_sizes()
    assert first >= 300
    assert last >= 200
    # Spelling variants that are not typos.
    assert {"Mohammed", "Muhammad", "Mohamed"} <= set(FIRST_NAME_VARIANTS["mohammed"])
    assert {"Siobhan", "Shivaun"} <= set(FIRST_NAME_VARIANTS["siobhan"])
    assert "Alexandra" in FIRST_NAME_VARIANTS["aleksandra"]
    assert "Chaudhry" in SURNAME_VARIANTS["chowdhury"]
    # Zipf-like: the commonest names are much commoner than the typical one.
    counts = heavy.people["first_name"].value_counts()
    assert counts.iloc[0] > 8 * counts.median()
    assert heavy.people["first_name"].nunique() > 250
    assert heavy.people["last_name"].nunique() > 200
    assert heavy.people["origin"].nunique() >= 10


def test_surnames_have_a_long_tail_as_real_ones_do(heavy):
    # In England and Wales Smith, the commonest surname, is about 1.3% of people and the 40
    # commonest cover about an eighth; a pool of 40 names would make namesakes everywhere.
    shares = heavy.people["last_name"].value_counts(normalize=True)
    assert shares.iloc[0] < 0.04
    assert shares.iloc[:40].sum() < 0.5
    assert heavy.people["last_name"].nunique() > 0.2 * len(heavy.people)


def test_brothers_and_sisters_are_not_given_one_name_spelled_two_ways(heavy):
    people = heavy.people
    family = people["first_name"].map(independent_people._family)
    siblings = people.assign(family=family).merge(
        people.assign(family=family), on="household", suffixes=("", "_other")
    )
    siblings = siblings[siblings.truth < siblings.truth_other]
    assert len(siblings) > 100
    assert independent_people._family("Seán") == independent_people._family("Shaun")
    assert not (siblings.family == siblings.family_other).any()


def test_independent_of_the_synthetic_authority():
    source = Path(independent_people.__file__).read_text(encoding="utf-8")
    imported = set()
    names_from: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            names_from.setdefault(node.module or "", set()).update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    assert not {m for m in imported if m.startswith("linkage_ops.synthetic")}
    # From the linkage engine, only the shape of a person record (its column list).
    assert {m for m in imported if m.startswith("linkage_ops.link")} <= {
        "linkage_ops.linkage.standardise"
    }
    assert names_from.get("linkage_ops.linkage.standardise", set()) <= {"PERSON_RECORD_COLUMNS"}
    assert "linkage_ops.identifiers" in imported


def test_command_line_writes_the_csv(tmp_path, capsys):
    out = tmp_path / "people.csv"
    main(["--people", "200", "--seed", "3", "--preset", "moderate", "--out", str(out)])
    line = capsys.readouterr().out.strip()
    assert "200 people" in line
    assert "2+ corrupted fields" in line
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = generate_people(200, seed=3, preset="moderate")
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert f"wrote {len(expected):,} records" in line
