"""Linkage that holds on data we did not generate: blocking that survives several wrong fields,
thresholds from the model, settings as one data object, a review queue in priority order."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from linkage_ops.evaluation import pairwise_scores
from linkage_ops.linkage import (
    DEFAULT_SETTINGS,
    FellegiSunterModel,
    LinkageSettings,
    ModelLevelsMismatch,
    link_records,
    standardise_records,
)
from linkage_ops.linkage.blocking import BlockingKeys, candidate_pairs, choose_rules, soundex
from linkage_ops.linkage.clustering import Clusters, split_incoherent
from linkage_ops.linkage.comparisons import ProfileColumns, compare, level_code
from linkage_ops.linkage.engine import identifier_pairs, prioritise_review
from linkage_ops.linkage.model import default_model, train_model
from linkage_ops.linkage.settings import BlockingSettings, TrainingSettings
from linkage_ops.linkage.standardise import factorised
from linkage_ops.linkage.thresholds import (
    choose_thresholds,
    expected_curves,
    weight_of_probability,
)
from linkage_ops.synthetic.independent_people import generate_dataset, generate_people


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ROBERT", "R163"),
        ("RUPERT", "R163"),
        ("RUBIN", "R150"),
        ("ASHCRAFT", "A261"),
        ("TYMCZAK", "T522"),
        ("PFISTER", "P236"),
        ("HONEYMAN", "H555"),
        ("", ""),
    ],
)
def test_soundex_follows_the_published_algorithm(name: str, code: str) -> None:
    assert soundex(name) == code


def _filler(count: int, seed: int = 7) -> list[dict[str, str]]:
    """Unrelated people, so that blocking works on a population, not on two records."""
    rng = np.random.default_rng(seed)
    firsts = ["Amelia", "Noah", "Isla", "Leo", "Ava", "Oscar", "Mia", "Theo", "Zara", "Kai"]
    lasts = ["Khan", "Evans", "Nowak", "Begum", "Murphy", "Silva", "Okafor", "Chen", "Shaw"]
    return [
        {
            "record_id": f"filler:{i}",
            "source": "filler",
            "first_name": str(rng.choice(firsts)),
            "last_name": str(rng.choice(lasts)),
            "date_of_birth": str(
                pd.Timestamp("2008-01-01") + pd.Timedelta(days=int(rng.integers(0, 6000)))
            )[:10],
            "postcode": f"{int(rng.integers(10000, 99999))}",
            "sex": str(rng.choice(["F", "M"])),
        }
        for i in range(count)
    ]


def test_blocking_finds_a_pair_with_one_error_in_each_of_name_date_and_postcode() -> None:
    child = {
        "source": "clinic",
        "first_name": "Oliver",
        "last_name": "Price",
        "date_of_birth": "2014-03-07",
        "postcode": "02139",
        "sex": "M",
    }
    mistyped = child | {
        "first_name": "Olivre",  # transposed letters
        "last_name": "Prise",  # keyboard neighbour
        "date_of_birth": "2014-08-07",  # one digit
        "postcode": "02193",  # transposed digits, not a UK postcode
    }
    records = [child | {"record_id": "a:1"}, mistyped | {"record_id": "b:1"}, *_filler(400)]
    profiles = standardise_records(pd.DataFrame(records))
    keys = BlockingKeys(profiles)
    found = {tuple(pair) for pair in candidate_pairs(keys, DEFAULT_SETTINGS.blocking).pairs}
    assert (0, 1) in found
    # Exact keys alone (the rules that needed two fields to agree as written) miss it.
    exact_only = BlockingSettings(
        rules=tuple(
            rule
            for rule in DEFAULT_SETTINGS.blocking.rules
            if not any("soundex" in k for k in rule)
        )[:7],
        day_month_swap=False,
    )
    assert (0, 1) not in {tuple(pair) for pair in candidate_pairs(keys, exact_only).pairs}


def test_a_postcode_that_is_not_uk_shaped_is_compared_as_given() -> None:
    profiles = standardise_records(
        pd.DataFrame(
            [
                {"record_id": "a", "postcode": "1012 AB"},
                {"record_id": "b", "postcode": "hr1 2ab"},
            ]
        )
    )
    assert profiles.postcode_std.tolist() == ["1012AB", "HR12AB"]
    # Sector and district only exist for UK postcodes.
    assert profiles.postcode_sector.tolist() == ["", "HR12"]
    assert profiles.postcode_district.tolist() == ["", "HR1"]


def test_birth_dates_of_any_century_are_compared_not_taken_as_blank() -> None:
    """A date before 1970 once counted as blank (negative days since the epoch): a parent's or
    grandparent's birth date, or any older population, lost its strongest field."""
    from linkage_ops.linkage.comparisons import ProfileColumns, compare, level_names

    profiles = standardise_records(
        pd.DataFrame(
            {
                "record_id": list("abcdef"),
                "date_of_birth": [
                    "1956-04-09",
                    "1956-04-09",
                    "1956-04-08",
                    "1912-03-04",
                    "1912-04-03",
                    "2091-01-01",
                ],
            }
        )
    )
    columns = ProfileColumns.from_profiles(profiles)
    left, right = np.array([0, 0, 3, 0]), np.array([1, 2, 4, 5])
    levels = level_names("date_of_birth", compare(columns, left, right)["date_of_birth"])
    assert list(levels) == ["exact", "near", "day_month_swapped", "different"]


def test_dates_are_read_as_suppliers_write_them_day_first_unless_a_source_shows_otherwise() -> None:
    """UK exports write 03/12/2010 for the 3rd of December. pandas read such a column in the
    format of its first value, month first, and left every date it could not read that way
    (13/12/2010) blank: a file of UK dates lost most of its links."""
    dates = {
        "iso": ("2010-12-03", "2010-12-13"),
        "iso_with_time": ("2010-12-03T00:00:00", "2010-12-13 00:00:00"),
        "compact": ("20101203", "20101213"),
        "uk": ("03/12/2010", "13/12/2010"),
        "uk_dashes_dots": ("03-12-2010", "13.12.2010"),
        "uk_two_digit_year": ("03/12/10", "13/12/10"),
        "words": ("3 Dec 2010", "13 December 2010"),
        "oracle_default": ("03-DEC-10", "13-DEC-2010"),
        "compact_day_first": ("03122010", "13122010"),
        # Month first: this supplier's own 12/13/2010 shows it.
        "us": ("12/03/2010", "12/13/2010"),
        # A spreadsheet cell formatted as a number: Excel's serial day (1900 date system).
        "excel_serial": ("40515", "40525.0"),
    }
    frame = pd.DataFrame(
        [
            {"record_id": f"{source}:{n}", "source": source, "date_of_birth": value}
            for source, values in dates.items()
            for n, value in enumerate(values)
        ]
        + [
            {"record_id": f"bad:{n}", "source": "bad", "date_of_birth": value}
            # Not a day; only part of a date; a system's "no date" (SQL Server's day zero).
            for n, value in enumerate(("31/02/2010", "2010-12", "01/01/1900"))
        ]
    )
    profiles = standardise_records(frame).set_index("record_id")
    for source in dates:
        assert profiles.dob_text[f"{source}:0"] == "20101203", source
        assert profiles.dob_text[f"{source}:1"] == "20101213", source
    # Not a date: no evidence, not a wrong one ...
    assert list(profiles.dob_text[["bad:0", "bad:1", "bad:2"]]) == ["", "", ""]
    # ... and said so: the records are kept, their source named.
    summary = link_records(frame).summary
    assert summary["unreadable_birth_dates"] == {"bad": 3}
    # Typed dates (the warehouse's columns) and the same dates as objects (how Spark hands
    # them over) read alike, a system's day zero included.
    typed = pd.Series([pd.Timestamp("2010-12-03 10:00"), pd.Timestamp("1900-01-01"), pd.NaT])
    for column in (typed.astype("datetime64[us]"), typed.astype(object)):
        read = standardise_records(
            pd.DataFrame({"record_id": list("abc"), "date_of_birth": column})
        )
        assert list(read.dob_text) == ["20101203", "", ""]
    # A column of numbers (a workbook's or Parquet's): Excel serials and 20101203 alike.
    # Microsoft's own examples: 39448 is 1 January 2008, DATEVALUE("8/22/2011") is 40777.
    numbers = pd.Series([39448.0, 40777.0, 20101203.0, np.nan, 1234.0])
    read = standardise_records(pd.DataFrame({"record_id": list("abcde"), "date_of_birth": numbers}))
    assert list(read.dob_text) == ["20080101", "20110822", "20101203", "", ""]
    # The order is each source's own: told, a source's ambiguous dates follow it.
    told = standardise_records(frame, {"uk": "month_first"}).set_index("record_id")
    assert told.dob_text["uk:0"] == "20100312"
    assert told.dob_text["uk:1"] == "20101213"  # 13 cannot be a month


def test_a_whole_name_in_one_column_is_split_as_people_write_names() -> None:
    """Surname first after a comma or in capitals (as NHS systems show a patient: SMITH John),
    otherwise last, keeping the particles that begin it; used only where a record gives no
    forename or surname apart."""
    from linkage_ops.linkage.standardise import names_from_full_names, split_full_name

    assert split_full_name("Smith, John Paul") == ("John", "Paul", "Smith")
    assert split_full_name("SMITH John Paul") == ("John", "Paul", "SMITH")
    assert split_full_name("DE LA CRUZ Ana Sofia") == ("Ana", "Sofia", "DE LA CRUZ")
    assert split_full_name("John Paul Smith") == ("John", "Paul", "Smith")
    assert split_full_name("JOHN SMITH") == ("JOHN", "", "SMITH")
    assert split_full_name("J Smith") == ("J", "", "Smith")  # an initial is no surname
    assert split_full_name("Ana de la Cruz") == ("Ana", "", "de la Cruz")
    assert split_full_name("Ahmed Al Tamimi") == ("Ahmed", "", "Al Tamimi")
    assert split_full_name("Okafor") == ("", "", "Okafor")
    assert split_full_name("  ") == ("", "", "")
    records = pd.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "full_name": ["OKAFOR Chidi", "Amy Lee", None],
            "first_name": [None, "Amelia", None],
        }
    )
    named, split = names_from_full_names(records)
    assert split == 2
    assert list(named.first_name.fillna("")) == ["Chidi", "Amelia", ""]  # b's own forename kept
    assert list(named.last_name.fillna("")) == ["OKAFOR", "Lee", ""]
    assert pd.isna(records.first_name[0]) and "last_name" not in records  # the caller's frame


def test_a_name_column_beside_a_forename_or_surname_column_gives_the_part_missing() -> None:
    """``Forename`` and ``Name`` (the surname, as some case-management and school exports head
    it), or ``Surname`` and ``Name`` (the given names): each record takes the part it lacks
    from the Name column as it is, not split as a whole name; a record with its own parts
    keeps them."""
    from linkage_ops.linkage.standardise import names_from_full_names, person_record_names

    def read(columns: dict[str, list[str]]) -> tuple[pd.DataFrame, int]:
        frame = pd.DataFrame(columns)
        renamed, _ = person_record_names(frame.columns)
        return names_from_full_names(frame.rename(columns=renamed))

    surnames = {
        "Child ID": ["1", "2", "3", "4"],
        "Forename": ["Amelia", "Chidi", "Ana", "Tom"],
        "Name": ["Okafor", "Nwosu", "de la Cruz", "Price"],
    }
    named, taken = read(surnames)
    assert taken == 4
    assert list(named.first_name) == ["Amelia", "Chidi", "Ana", "Tom"]
    assert list(named.last_name) == ["Okafor", "Nwosu", "de la Cruz", "Price"]
    forenames = {
        "Child ID": ["1", "2", "3"],
        "Surname": ["Okafor", "Nwosu", "Price"],
        "Name": ["Amelia", "Chidi", "Tom"],
    }
    named, _ = read(forenames)
    assert list(named.first_name) == ["Amelia", "Chidi", "Tom"]
    assert list(named.last_name) == ["Okafor", "Nwosu", "Price"]
    # A column of whole names: the missing surname is the split's, the record's forename stays.
    whole = {
        "Child ID": ["1", "2", "3"],
        "First name": ["Amelia", "Tom", "Chidi"],
        "Surname": ["", "", "Nwosu"],
        "Full name": ["Amy Lee", "Thomas James Price", "Chidi Nwosu"],
    }
    named, taken = read(whole)
    assert taken == 2
    assert list(named.first_name) == ["Amelia", "Tom", "Chidi"]
    assert list(named.middle_names.fillna("")) == ["", "James", ""]
    assert list(named.last_name) == ["Lee", "Price", "Nwosu"]


def test_sexes_are_read_in_every_code_system() -> None:
    """M/F/U (School Census), 1/2/0/9 (CIN, SSDA903 before 2024-25, NHS feeds), X (ECDS)
    and the words: a GP's F and an A&E record's 2 agree."""
    values = ["M", "f", "1", "2", "0", "9", "X", "Male", "FEMALE", " u ", None, "Boy"]
    profiles = standardise_records(
        pd.DataFrame({"record_id": [str(n) for n in range(len(values))], "sex": values})
    )
    assert list(profiles.sex) == ["M", "F", "M", "F", "U", "U", "U", "M", "F", "U", "U", "U"]


def test_placeholder_names_and_pseudo_postcodes_are_no_evidence() -> None:
    """What suppliers write where a value is not known is blank to linkage: the NHS pseudo
    postcodes (ZZ99 3VZ no fixed abode, ZZ99 3WZ not known) and placeholder names (a
    newborn's Baby or Twin 1, N/K): two babies recorded as Baby at no fixed abode do not agree
    on a first name or an address. Real names that look like placeholders stay (Na, Nil)."""
    from linkage_ops.linkage.comparisons import ProfileColumns, compare, level_names

    profiles = standardise_records(
        pd.DataFrame(
            {
                "record_id": ["a", "b", "c", "d"],
                "first_name": ["Baby", "Twin 1", "Nil", "Baby"],
                "last_name": ["N/K", "Unknown", "Na", "Smith"],
                "postcode": ["ZZ99 3VZ", "zz99 3wz", "HR1 2AB", "ZZ99 3VZ"],
            }
        )
    )
    assert list(profiles.first_name_std) == ["", "", "NIL", ""]
    assert list(profiles.last_name_std) == ["", "", "NA", "SMITH"]
    assert list(profiles.postcode_std) == ["", "", "HR12AB", ""]
    levels = compare(ProfileColumns.from_profiles(profiles), np.array([0]), np.array([3]))
    assert list(level_names("first_name", levels["first_name"])) == ["missing"]
    assert list(level_names("postcode", levels["postcode"])) == ["missing"]


def test_a_surname_written_with_or_without_a_space_is_the_same_surname() -> None:
    from linkage_ops.linkage.comparisons import ProfileColumns, compare, level_names

    pairs = [
        ("McDonald", "Mc Donald", "exact"),
        ("De La Cruz", "Delacruz", "exact"),
        ("Smith-Jones", "SmithJones", "exact"),
        ("Smith-Jones", "Smith", "part_or_former"),
        ("McDonald", "MacDonald", "close"),
    ]
    names = [name for left, right, _ in pairs for name in (left, right)]
    profiles = standardise_records(
        pd.DataFrame({"record_id": [str(n) for n in range(len(names))], "last_name": names})
    )
    left = np.arange(0, len(names), 2)
    levels = compare(ProfileColumns.from_profiles(profiles), left, left + 1)["last_name"]
    assert list(level_names("last_name", levels)) == [level for _, _, level in pairs]


def test_columns_under_other_names_are_read_and_the_exact_name_wins() -> None:
    from linkage_ops.linkage.standardise import person_record_names

    renamed, unused = person_record_names(
        ["Rec ID", "Given-Name", "FAMILY NAME", "dob", "date_of_birth", "Zip", "child_id"]
    )
    assert renamed == {
        "Rec ID": "record_id",
        "Given-Name": "first_name",
        "FAMILY NAME": "last_name",
        "Zip": "postcode",
    }
    assert unused == ["dob", "child_id"]  # date_of_birth itself is there; child_id is truth
    # Splink's record id; a whole name is enough to say who a record is about.
    renamed, unused = person_record_names(["unique_id", "Full Name", "city"])
    assert renamed == {"unique_id": "record_id", "Full Name": "full_name"}
    assert unused == ["city"]
    with pytest.raises(ValueError, match="who a record is about"):
        person_record_names(["record_id", "source", "notes"])


def test_a_rule_too_coarse_for_the_population_is_left_out_and_reported() -> None:
    everyone_same_day = [
        person | {"date_of_birth": "2015-05-05"} for person in _filler(300, seed=3)
    ]
    keys = BlockingKeys(standardise_records(pd.DataFrame(everyone_same_day)))
    rules = (("dob_text", "first_name_canonical"), ("dob_text",), ("dob_text", "sex"))
    settings = BlockingSettings(
        rules=rules, max_pairs_per_profile=100, max_rule_pairs_per_profile=20
    )
    reports = {report.rule: report for report in choose_rules(keys, settings)}
    assert reports[("dob_text", "first_name_canonical")].used
    assert not reports[("dob_text",)].used
    assert "too coarse" in reports[("dob_text",)].reason
    assert reports[("dob_text",)].pairs == 300 * 299 // 2
    # Within the per-rule limit, the cheapest run first until the total budget is spent.
    settings = BlockingSettings(
        rules=rules, max_pairs_per_profile=100, max_rule_pairs_per_profile=1e6, min_pairs=0
    )
    reports = {report.rule: report for report in choose_rules(keys, settings)}
    assert reports[("dob_text", "first_name_canonical")].used
    assert reports[("dob_text", "sex")].used
    assert "budget" in reports[("dob_text",)].reason
    # With room for everything, a rule narrower than another used one adds nothing.
    settings = replace(settings, max_pairs_per_profile=1e6)
    reports = {report.rule: report for report in choose_rules(keys, settings)}
    assert reports[("dob_text",)].used
    assert reports[("dob_text", "sex")].reason == "within dob_text"


def test_a_rule_too_coarse_as_a_whole_still_runs_in_its_small_blocks() -> None:
    """In a bigger population a rule finds more pairs per profile; where it is too coarse as
    a whole, its blocks of rare values (two children with a rare first name) still give
    candidates, its crowded ones (a common first name) do not."""
    common = [person | {"first_name": "Muhammad"} for person in _filler(200, seed=5)]
    rare = [
        person | {"record_id": f"rare:{i}", "first_name": name}
        for i, (person, name) in enumerate(
            zip(
                _filler(10, seed=6),
                ["Eirlys", "Ottilie", "Caspian", "Wren", "Ffion"] * 2,
                strict=True,
            )
        )
    ]
    profiles = standardise_records(pd.DataFrame(common + rare))
    keys = BlockingKeys(profiles)
    rule = ("first_name_std",)
    settings = BlockingSettings(
        rules=(rule,),
        max_pairs_per_profile=100,
        max_rule_pairs_per_profile=10,
        max_block_profiles=10,
        day_month_swap=False,
    )
    (report,) = choose_rules(keys, settings)
    assert report.used and report.pairs == 200 * 199 // 2 + 5
    assert "blocks of at most 10 profiles (5 pairs)" in report.reason
    names = profiles.first_name_std.to_numpy()
    pairs = candidate_pairs(keys, settings).pairs
    assert sorted(names[pairs[:, 0]]) == ["CASPIAN", "EIRLYS", "FFION", "OTTILIE", "WREN"]
    assert (names[pairs[:, 0]] == names[pairs[:, 1]]).all()
    # Without small blocks the rule is left out.
    (report,) = choose_rules(keys, replace(settings, max_block_profiles=None))
    assert not report.used and "too coarse" in report.reason


def test_the_pair_budget_charges_a_rule_only_for_pairs_no_cheaper_rule_found() -> None:
    """Rules overlap; the budget limits the pairs the model will score, so a broad rule whose
    pairs are half found already costs only the other half."""
    everyone_same_day = [
        person | {"date_of_birth": "2015-05-05"} for person in _filler(300, seed=3)
    ]
    keys = BlockingKeys(standardise_records(pd.DataFrame(everyone_same_day)))
    by_sex, by_day = ("dob_text", "sex"), ("dob_text",)
    all_pairs = 300 * 299 // 2
    # Room for every pair of the day once, not for the day's pairs and the same-sex pairs
    # among them counted again.
    settings = BlockingSettings(
        rules=(by_sex, by_day),
        max_pairs_per_profile=(all_pairs + 100) / 300,
        max_rule_pairs_per_profile=1e6,
        day_month_swap=False,
        min_pairs=0,
    )
    reports = {report.rule: report for report in choose_rules(keys, settings)}
    assert reports[by_day].used
    assert reports[by_sex].pairs + reports[by_day].pairs > all_pairs + 100
    assert reports[by_sex].reason == "within dob_text"
    assert len(candidate_pairs(keys, settings).pairs) == all_pairs
    # One pair fewer of budget than the day's pairs, and the broad rule does not fit.
    settings = replace(settings, max_pairs_per_profile=(all_pairs - 1) / 300)
    reports = {report.rule: report for report in choose_rules(keys, settings)}
    assert reports[by_sex].used
    assert "budget" in reports[by_day].reason
    # A population this small affords a budget of ``min_pairs`` whatever its size.
    reports = {r.rule: r for r in choose_rules(keys, replace(settings, min_pairs=all_pairs))}
    assert reports[by_day].used


def test_a_model_file_with_a_missing_level_is_refused_with_how_to_retrain() -> None:
    saved = json.loads(default_model().to_json())
    del saved["comparisons"]["date_of_birth"]["month_day"]
    with pytest.raises(ModelLevelsMismatch) as refused:
        FellegiSunterModel.from_json(json.dumps(saved), "old_model.json")
    message = str(refused.value)
    assert message.startswith("old_model.json:")
    assert "date_of_birth lacks month_day" in message
    assert "--save-model" in message
    # The shipped model agrees with the engine and round-trips.
    again = FellegiSunterModel.from_json(default_model().to_json())
    assert again.m == default_model().m


def test_settings_are_one_data_object_that_round_trips_and_refuses_unknown_keys() -> None:
    data = DEFAULT_SETTINGS.to_dict()
    assert LinkageSettings.from_dict(json.loads(json.dumps(data))) == DEFAULT_SETTINGS
    assert [c["name"] for c in data["comparisons"]] == list(DEFAULT_SETTINGS.levels)
    assert data["comparisons"][0]["levels"][0] == "missing"
    with pytest.raises(ValueError, match="unknown thresholds setting"):
        LinkageSettings.from_dict(data | {"thresholds": {"match_treshold": 5}})
    # A trained model file carries the settings it was trained with.
    assert json.loads(default_model().to_json())["settings"]["blocking"]["rules"]


def test_threshold_selection_is_deterministic_and_follows_the_evidence() -> None:
    model = default_model().for_population(20_000)
    settings = DEFAULT_SETTINGS.thresholds
    first = choose_thresholds(model, settings)
    assert first == choose_thresholds(FellegiSunterModel.from_json(model.to_json()), settings)
    assert first.review_threshold <= first.match_threshold
    assert first.expected_precision >= settings.target_precision
    curves = expected_curves(model)
    assert (np.diff(curves["weight"]) < 0).all() and (np.diff(curves["recall"]) >= 0).all()
    # The choice is the model's: other m values, other thresholds; and the more profiles, the
    # more chance pairs at any weight, so the evidence needed (the threshold less the prior)
    # never comes down as a population grows.
    open_floors = replace(settings, min_match_probability=0.01, min_review_probability=0.01)
    weak_m = {name: dict(levels) for name, levels in model.m.items()}
    weak_m["date_of_birth"]["near"] += weak_m["date_of_birth"]["exact"] * 0.5
    weak_m["date_of_birth"]["exact"] *= 0.5
    strong_choice = choose_thresholds(model, open_floors)
    weak_choice = choose_thresholds(replace(model, m=weak_m), open_floors)
    assert weak_choice.match_source == strong_choice.match_source == "model"
    assert weak_choice.match_threshold != strong_choice.match_threshold
    # (Fields taken as independent: a household's weight, below, does not grow that way.)
    independent = replace(default_model(), household_u=None)
    by_size = [
        choose_thresholds(sized, open_floors).match_threshold - sized.prior_weight
        for sized in (independent.for_population(n) for n in (2_000, 20_000, 200_000, 2_000_000))
    ]
    assert by_size == sorted(by_size) and by_size[0] < by_size[-1]
    # Brothers and sisters per child do not grow with the population, so a pair sharing only
    # a household is as likely one child in a town as in a county.
    household = [default_model().for_population(n) for n in (2_000, 2_000_000)]
    assert [m.prior_weight + m.household_weight for m in household] == pytest.approx(
        [household[0].prior_weight + household[0].household_weight] * 2, abs=0.01
    )
    # In a small town the model expects 99.9% recall just below the match threshold; a pair
    # more likely than not one child is still shown to a reviewer, not left apart unseen.
    town = default_model().for_population(800)
    uncapped = choose_thresholds(town, replace(settings, always_review_probability=0.9999))
    assert uncapped.review_threshold > 2.0
    capped = choose_thresholds(town, settings)
    assert capped.review_threshold == pytest.approx(weight_of_probability(0.5))
    assert capped.review_source == "ceiling"
    # A fixed threshold overrides the model.
    fixed = choose_thresholds(model, replace(settings, match_weight=9.0))
    assert (fixed.match_threshold, fixed.match_source) == (9.0, "fixed")


def test_the_birth_date_is_learnt_beside_a_first_name_and_an_address() -> None:
    """m of a different birth date, learnt without labels, is within a factor of two of what it
    is among pairs of one child's profiles. Learnt among pairs sharing a full name instead, it
    came out 1.2 to 2.4 times too high on populations like this one (and five times at 45,000
    records): namesakes join EM's "match" class, and there are more of them the bigger the
    population. Without addresses, the full-name block is the fallback."""
    records = generate_people(4_000, seed=8, preset="moderate")
    profiles = standardise_records(records.drop(columns=["truth", "errors"]).replace("", None))
    model = train_model(profiles)
    sessions = model.training["em_sessions"]
    assert [s["blocking_rule"] for s in sessions] == [
        list(block) for block in DEFAULT_SETTINGS.training.blocks
    ]
    assert sessions[1]["blocking_rule"] == ["first_name_canonical", "postcode_std"]
    assert sessions[1]["estimated"] == ["date_of_birth"]
    assert sessions[2]["skipped"] == "nothing left to estimate"
    # The truth: levels of every pair of one child's profiles.
    rows = pd.Series(np.arange(len(profiles))).groupby(records.truth.to_numpy())
    pairs = np.array(
        [(a, b) for group in rows.groups.values() for a in group for b in group if a < b]
    )
    levels = compare(
        ProfileColumns.from_profiles(profiles), pairs[:, 0], pairs[:, 1], only=("date_of_birth",)
    )["date_of_birth"]
    true_m = np.mean(levels[levels > 0] == level_code("date_of_birth", "different"))
    assert true_m / 2 < model.m["date_of_birth"]["different"] < true_m * 2
    fallback = train_model(profiles.assign(postcode_std="")).training["em_sessions"]
    assert fallback[1]["skipped"] == "no pairs"
    assert fallback[2]["estimated"] == ["date_of_birth"]


def test_em_reports_whether_it_converged_and_why_not() -> None:
    records = generate_people(1_500, seed=5, preset="moderate").drop(columns=["truth", "errors"])
    profiles = standardise_records(records.replace("", None))
    converged = train_model(profiles)
    assert converged.training["em_converged"] is True
    ran = [s for s in converged.training["em_sessions"] if "skipped" not in s]
    assert ran and all(s["converged"] for s in ran)
    cut_short = replace(DEFAULT_SETTINGS, training=TrainingSettings(em_max_iterations=1))
    stopped = train_model(profiles, linkage_settings=cut_short)
    assert stopped.training["em_converged"] is False
    session = stopped.training["em_sessions"][0]
    assert "after 1 iterations" in session["why_not_converged"]


def test_review_puts_key_changing_pairs_first() -> None:
    # Profiles 0-5. Keys: P1 (profiles 0, 1), P2 (2), P3 (3), P9 (4, new this run), P8 (5, new).
    profile_keys = np.array(["P1", "P1", "P2", "P3", "P9", "P8"], dtype=object)
    profile_records = np.array([1, 1, 4, 2, 1, 1])
    pairs = pd.DataFrame(
        {
            "row_l": [4, 2, 0, 3],
            "row_r": [5, 3, 1, 4],
            "record_id_l": ["e", "c", "a", "d"],
            "record_id_r": ["f", "d", "b", "e"],
            "decision": ["review", "review", "identifier_review", "possible_twins"],
            "match_probability": [0.5, 0.9, 0.7, 0.5],
        }
    )
    ordered = prioritise_review(pairs, profile_keys, profile_records, {"P1", "P2", "P3"})
    # A non-match would split P1; a match would retire P2 or P3; the rest join new records.
    assert ordered.impact.tolist() == ["split_key", "merge_keys", "join_records", "join_records"]
    assert ordered.record_id_l.tolist() == ["a", "c", "d", "e"]
    assert ordered.priority.tolist() == [1, 2, 3, 4]
    assert ordered.records_affected.tolist()[:2] == [1, 2]


def test_an_identifier_free_mistyped_population_links_well() -> None:
    people = generate_people(1_500, seed=11, preset="moderate")
    truth = people.set_index("record_id").truth
    result = link_records(people.drop(columns=["truth", "errors"]).replace("", None))
    keys = result.bridge.set_index("record_id").person_key
    scores = pairwise_scores(keys, truth.reindex(keys.index))
    assert scores.precision > 0.9 and scores.recall > 0.85
    # Most children need no reviewer.
    assert result.summary["children_in_review"] <= 0.05 * result.summary["children"]


def _households(count: int, second_child: str) -> list[dict[str, str]]:
    """``count`` households, each with a child recorded three times and a second name on the
    same birthday: a twin recorded twice under their own name (``"twin"``), or one record of
    the first child with the first name replaced (``"replaced"``)."""
    firsts = ["Amelia", "Noah", "Isla", "Leo", "Ava", "Oscar", "Mia", "Theo", "Zara", "Kai"]
    others = ["Bethan", "Callum", "Dylan", "Erin", "Fraser", "Gwen", "Harvey", "Iris", "Jude"]
    surnames = ["Khan", "Evans", "Nowak", "Begum", "Murphy", "Silva", "Okafor", "Chen", "Shaw"]
    rows = []
    for h in range(count):
        base = {
            "last_name": f"{surnames[h % len(surnames)]}{'son' * (h // len(surnames))}",
            "date_of_birth": str(pd.Timestamp("2012-01-01") + pd.Timedelta(days=37 * h))[:10],
            "postcode": f"{9000 + h}",
        }
        for copy in range(3):
            rows.append(
                base
                | {
                    "record_id": f"h{h}:child:{copy}",
                    "source": f"source{copy}",
                    "first_name": firsts[h % len(firsts)],
                }
            )
        copies = 2 if second_child == "twin" else 1
        for copy in range(copies):
            rows.append(
                base
                | {
                    "record_id": f"h{h}:{second_child}:{copy}",
                    "source": f"source{copy}",
                    "first_name": others[h % len(others)],
                }
            )
    return rows


def test_a_one_off_first_name_is_held_as_a_possible_twin_only_where_the_population_has_twins() -> (
    None
):
    # The pair in question: Jon recorded twice, Ryan once, same surname, birthday and postcode.
    pair = [{"record_id": f"jon:{i}", "source": f"s{i}", "first_name": "Jon"} for i in range(2)] + [
        {"record_id": "ryan", "source": "s9", "first_name": "Ryan"}
    ]
    for row in pair:
        row |= {"last_name": "Pryce", "date_of_birth": "2015-04-04", "postcode": "7001"}

    def link(population: list[dict[str, str]]) -> tuple[pd.Series, dict[str, object]]:
        result = link_records(pd.DataFrame(population + pair + _filler(400)))
        return result.bridge.set_index("record_id").person_key, result.summary["twins"]

    # Twins are common here (each twin recorded twice under their own name): Ryan may be
    # Jon's twin, seen once. A reviewer decides.
    keys, twins = link(_households(30, "twin"))
    assert twins["one_off_names_held_as_twins"] is True
    assert twins["with_both_names_attested"] >= 30
    assert keys["ryan"] != keys["jon:0"]
    assert keys["h3:twin:0"] != keys["h3:child:0"]

    # No twins here, but first names are often replaced: Ryan is Jon with a wrong first name.
    keys, twins = link(_households(30, "replaced"))
    assert twins["one_off_names_held_as_twins"] is False
    assert twins["households_with_two_first_names"] >= 30
    assert twins["with_both_names_attested"] == 0
    assert keys["ryan"] == keys["jon:0"]
    assert keys["h3:replaced:0"] == keys["h3:child:0"]


def test_names_written_the_other_way_round_with_typos_are_swapped() -> None:
    from linkage_ops.linkage.comparisons import ProfileColumns, compare, level_names

    profiles = standardise_records(
        pd.DataFrame(
            {
                "record_id": list("abcde"),
                "first_name": ["Samuel", "Ryman", "Ryan", "Sara", "Ryan"],
                "last_name": ["Ryan", "Samel", "Samuel", "Sykes", "Jones"],
            }
        )
    )
    columns = ProfileColumns.from_profiles(profiles)
    left, right = np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4])
    levels = compare(columns, left, right)
    assert list(level_names("first_name", levels["first_name"])) == [
        "swapped",
        "swapped",
        "different",
        "swapped",
    ]
    # One name found in the other field (Samuel RYAN / RYAN Jones) is one agreement, not two:
    # the surnames themselves are compared.
    assert list(level_names("last_name", levels["last_name"])) == [
        "swapped",
        "swapped",
        "different",
        "different",
    ]


def test_profiles_sharing_an_identifier_are_paired_with_the_first_that_holds_it() -> None:
    """A shared NHS number, UPN or LA child id pairs each profile with the first holding it; a
    former UPN pairs with the profile whose current UPN it is."""
    profiles = pd.DataFrame(
        {
            "nhs_number_valid": ["9990000018", "9990000018", None, None, None, "9990000018"],
            "upn_valid": [None, None, "A1", "A2", None, None],
            "former_upn_valid": [None, None, None, "A1", "A2", None],
            "la_child_id_std": [None, None, None, None, "X", "X"],
        }
    )
    pairs = {tuple(pair) for pair in identifier_pairs(profiles).tolist()}
    assert pairs == {(0, 1), (0, 5), (2, 3), (3, 4), (4, 5)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_joining_links_at_once_gives_what_joining_them_one_by_one_gives(seed: int) -> None:
    """``Clusters.union_all`` joins groups that cannot conflict at once: every pair's outcome
    and every cluster must be what taking the pairs one at a time gives, identifiers that
    refuse a link and reviewers' non-matches included."""
    rng = np.random.default_rng(seed)
    n = 300
    nhs = [f"999{rng.integers(0, 60):07d}" if rng.random() < 0.15 else None for _ in range(n)]
    upn = [f"A{rng.integers(0, 60):012d}" if rng.random() < 0.1 else None for _ in range(n)]
    # Chains that must be refused: across a reviewer's non-match (0 / 1), across two UPNs
    # (20 / 21), across two NHS numbers (30 / 31); among them, random links.
    for item in (0, 1, 10, 20, 21, 22, 30, 31, 32):
        nhs[item] = upn[item] = None
    upn[20], upn[21] = "A000000000001", "A000000000002"
    nhs[30], nhs[31] = "9990000001", "9990000002"
    chains = [(0, 10), (10, 1), (20, 22), (22, 21), (30, 32), (32, 31)]
    pairs = np.r_[rng.integers(40, n, size=(150, 2)), chains]
    pairs = rng.permutation(pairs[pairs[:, 0] != pairs[:, 1]])
    codes = factorised(pd.Series(nhs))[0], factorised(pd.Series(upn))[0]
    one_by_one, at_once = Clusters(*codes), Clusters(*codes)
    for clusters in (one_by_one, at_once):
        clusters.forbid(0, 1)
        clusters.forbid(2, 3)
        clusters.union(4, 5)
    expected = [one_by_one.union(int(a), int(b)) for a, b in pairs]
    outcomes = at_once.union_all(pairs[:, 0], pairs[:, 1])
    assert list(outcomes) == expected
    assert {"link", "identifier_conflict", "reviewed_non_match"} <= set(expected)
    same_cluster = pd.Series(one_by_one.roots()).groupby(at_once.roots()).nunique()
    assert (same_cluster == 1).all()
    assert len(set(one_by_one.roots())) == len(set(at_once.roots()))
    for item in range(n):  # each cluster's identifiers too
        assert one_by_one.nhs[one_by_one.find(item)] == at_once.nhs[at_once.find(item)]
        assert one_by_one.upn[one_by_one.find(item)] == at_once.upn[at_once.find(item)]


def test_a_missing_value_is_no_blocking_key() -> None:
    """A profile without a birth date, postcode or name has no key for rules that use it (the
    standardised birth year of a missing date is 0, its text blank: neither is a value)."""
    profiles = standardise_records(
        pd.DataFrame(
            {
                "record_id": ["a", "b", "c"],
                "first_name": ["Amy", None, "Amy"],
                "last_name": ["Lee", "Lee", ""],
                "date_of_birth": [None, None, "2015-03-04"],
                "postcode": ["HR1 2AB", "HR1 2AB", None],
            }
        )
    )
    keys = BlockingKeys(profiles)
    assert list(keys.block_key(("postcode_std", "birth_year")) >= 0) == [False, False, False]
    assert list(keys.block_key(("postcode_std", "last_name_std")) >= 0) == [True, True, False]
    assert list(keys.block_key(("first_name_std",)) >= 0) == [True, False, True]


def test_a_pair_is_compared_the_same_whatever_pairs_come_with_it() -> None:
    """Levels are worked out once per distinct pair of names (dates, postcodes): pairs that
    share their first names or surnames but differ elsewhere (the other name, a former
    surname) must still get their own levels."""
    from linkage_ops.linkage.comparisons import COMPARISONS, ProfileColumns, compare

    profiles = standardise_records(
        pd.DataFrame(
            {
                "record_id": list("abcdefgh"),
                "first_name": ["Samuel", "Ryman", "Ryman", "Amy", "Amy", "Amy", "Amy", None],
                "last_name": ["Ryan", "Samel", "Jones", "Lee", "Khan", "Lee", "Khan", "Lee"],
                "former_last_name": [None, None, None, "Khan", None, None, None, None],
                "date_of_birth": [
                    *("2015-03-04", "2015-04-03", "2015-03-04", "2012-01-02"),
                    *("2012-01-02", "2012-01-03", "2012-01-02", None),
                ],
                "postcode": [
                    *("HR1 2AB", "HR1 2AB", "HR1 2AD", None),
                    *("HR1 2AB", "HR12AB", None, "HR9 9ZZ"),
                ],
            }
        )
    )
    columns = ProfileColumns.from_profiles(profiles)
    left = np.array([0, 0, 1, 3, 5, 3, 6, 4, 7, 1, 0])
    right = np.array([1, 2, 2, 4, 6, 6, 4, 5, 3, 0, 1])
    together = compare(columns, left, right)
    for position, (a, b) in enumerate(zip(left, right, strict=True)):
        alone = compare(columns, np.array([a]), np.array([b]))
        for name in COMPARISONS:
            assert together[name][position] == alone[name][0], (name, a, b)
    # The same surnames (Lee / Khan) with and without a former surname.
    surname = [COMPARISONS["last_name"][code] for code in together["last_name"]]
    assert surname[3] == "part_or_former" and surname[4] == "different"
    first = [COMPARISONS["first_name"][code] for code in together["first_name"]]
    assert first[0] == "swapped" and first[1] == "different"


def test_threads_and_chunks_change_nothing_but_time() -> None:
    """Training beside blocking and chunks of pairs scored side by side in threads: the keys,
    the pairs and their decisions are those of one thread taking one chunk at a time."""
    records = generate_dataset(1_500, seed=11, preset="moderate").records
    records = records.drop(columns=["truth", "errors"]).replace("", None)
    alone = link_records(records, settings=replace(DEFAULT_SETTINGS, threads=1))
    together = link_records(records, settings=replace(DEFAULT_SETTINGS, threads=2, chunk_pairs=997))
    assert alone.summary["candidate_pairs"] > 3 * 997  # several chunks for each thread
    pd.testing.assert_frame_equal(alone.bridge, together.bridge)
    pd.testing.assert_frame_equal(alone.pairs, together.pairs)
    pd.testing.assert_frame_equal(alone.review_queue, together.review_queue)
    assert set(together.summary["seconds"]) == {"profile", "train", "block", "score"} | {
        "cluster",
        "key",
    }


def test_a_household_is_counted_once_so_a_sibling_without_a_birth_date_is_not_linked() -> None:
    dataset = generate_dataset(4_000, seed=7, preset="moderate")
    records = dataset.records
    result = link_records(records.drop(columns=["truth", "errors"]).replace("", None))
    model = result.model
    # Different children share a surname and an address far more often than the product of
    # the two u says, and the model knows it from the records themselves.
    assert model.household_u is not None
    independent = model.u["last_name"]["exact"] * model.u["postcode"]["full"]
    assert model.household_u > 20 * independent
    # A pair at both levels weighs what the household is worth, once.
    pairs = result.pairs
    both = pairs[(pairs.last_name_level == "exact") & (pairs.postcode_level == "full")].iloc[0]
    assert both.last_name_weight + both.postcode_weight == pytest.approx(
        model.household_weight, abs=1e-3
    )
    assert FellegiSunterModel.from_json(model.to_json()).household_u == model.household_u
    # Brothers and sisters: another first name at the same surname and address, one record
    # without a birth date. Counted twice, the household outweighed the first name: such pairs
    # were linked through the cluster or sent to a reviewer (28 of them for these records).
    siblings = pairs[
        (pairs.first_name_level == "different")
        & (pairs.date_of_birth_level == "missing")
        & (pairs.last_name_level == "exact")
        & (pairs.postcode_level == "full")
    ]
    assert not siblings.decision.isin(["link", "auto_link", "already_linked", "review"]).any()
    household = dataset.people.set_index("truth").household
    truth = records.set_index("record_id").truth
    undated = records[records.date_of_birth == ""]
    same_household = household.reindex(undated.truth).to_numpy()
    assert (household.value_counts().reindex(same_household) > 1).sum() > 20  # it arises
    keys = result.bridge.set_index("record_id").person_key
    assert pairwise_scores(keys, truth.reindex(keys.index)).precision > 0.95


def test_brothers_are_told_apart_when_one_record_mistypes_their_surname() -> None:
    """Yusuf and Bilal Farooqui: one address, one middle name, other first names and birth
    years; a school wrote Farouqui for Bilal. Not one child, and no question for a reviewer:
    decided by a rule, and the rule recorded."""
    columns = ["record_id", "source", "first_name", "middle_names", "last_name"]
    columns += ["date_of_birth", "sex", "postcode"]
    brothers = [
        ("a1", "school", "Yusuf", "Tariq", "Farooqui", "2012-03-14", "M", "HR4 9AB"),
        ("a2", "gp", "Yusuf", "Tariq", "Farooqui", "2012-03-14", "M", "HR4 9AB"),
        ("b1", "school", "Bilal", "Tariq", "Farouqui", "2015-07-02", "M", "HR4 9AB"),
        ("b2", "gp", "Bilal", "Tariq", "Farooqui", "2015-07-02", "M", "HR4 9AB"),
    ]
    records = pd.DataFrame(
        _filler(300) + [dict(zip(columns, row, strict=True)) for row in brothers]
    )
    result = link_records(records)
    keys = result.bridge.set_index("record_id").person_key
    assert keys["a1"] == keys["a2"] != keys["b1"] == keys["b2"]
    pair = result.pairs.set_index(["record_id_l", "record_id_r"]).loc[("a1", "b1")]
    assert pair.last_name_level == "close" and pair.decision == "auto_non_match"
    assert pair.rule == "possible_siblings_surname_mistyped"


def _scored(weights: dict[tuple[int, int], tuple[float, str, str]]):
    """A stand-in for scoring: each pair's match weight and its first-name and birth-date
    levels, looked up by the profile pair (smaller first)."""

    def score(left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
        rows = [weights[(min(a, b), max(a, b))] for a, b in zip(left, right, strict=True)]
        return pd.DataFrame(
            rows, columns=["match_weight", "first_name_level", "date_of_birth_level"]
        )

    return score


def test_a_record_chaining_two_children_is_split_off_by_average_linkage() -> None:
    # Rosie (profiles 0, 1: one NHS number) and Ava (3, 4: one UPN), chained into one cluster
    # by a record without a first name (2) that matches each on a different field.
    rosie_ava = (-12.0, "different", "different")
    weights = {(a, b): rosie_ava for a in (0, 1) for b in (3, 4)}
    weights |= {(0, 2): (9.0, "missing", "exact"), (1, 2): (7.0, "missing", "exact")}
    weights |= {(2, 3): (5.0, "missing", "year_only"), (2, 4): (4.0, "missing", "year_only")}
    roots = np.zeros(5, dtype=np.int64)
    hard = np.array([[0, 1], [3, 4]])
    split = split_incoherent(roots, hard, np.ones(5, dtype=np.int64), _scored(weights), 0.0)
    assert split[0] == split[1] == split[2]  # the bridge stays with the child it is likest
    assert split[3] == split[4] != split[0]
    # Without the conflict (Ava's birth date unknown), nothing says they are two children.
    calm = {pair: (w, first, "missing") for pair, (w, first, _) in weights.items()}
    whole = split_incoherent(roots, hard, np.ones(5, dtype=np.int64), _scored(calm), 0.0)
    assert len(set(whole)) == 1


def test_namesakes_born_years_apart_chained_by_a_record_without_a_birth_date_are_split() -> None:
    # Two Oliver Smiths (0, 1 and 3, 4, each pair held by an identifier) born years apart, and
    # a record with their name and no birth date (2) matching both. Their first names agree,
    # so only the birth dates say these are two children, and they say it clearly.
    namesakes = (-6.0, "exact", "different")
    weights = {(a, b): namesakes for a in (0, 1) for b in (3, 4)}
    weights |= {(0, 2): (8.0, "exact", "missing"), (1, 2): (7.0, "exact", "missing")}
    weights |= {(2, 3): (6.0, "exact", "missing"), (2, 4): (5.0, "exact", "missing")}
    roots = np.zeros(5, dtype=np.int64)
    hard = np.array([[0, 1], [3, 4]])
    split = split_incoherent(roots, hard, np.ones(5, dtype=np.int64), _scored(weights), 0.0)
    assert split[0] == split[1] == split[2] != split[3] == split[4]
    # A birth date within a typo (one digit off) is no conflict: one child, kept whole.
    typo = {p: (w, f, "near" if d == "different" else d) for p, (w, f, d) in weights.items()}
    whole = split_incoherent(roots, hard, np.ones(5, dtype=np.int64), _scored(typo), 0.0)
    assert len(set(whole)) == 1


def test_a_record_that_only_lacks_evidence_is_not_split_from_its_child() -> None:
    # A nameless record (2) at an old address matches one of the child's records (0) on
    # birthday and postcode and the rest (1, by identifier with 0) on birthday alone: on
    # average unlikely, but it contradicts nothing.
    weights = {(0, 2): (6.0, "missing", "exact"), (1, 2): (-9.0, "missing", "exact")}
    weights[(0, 1)] = (20.0, "exact", "exact")
    roots = np.zeros(3, dtype=np.int64)
    kept = split_incoherent(
        roots, np.array([[0, 1]]), np.ones(3, dtype=np.int64), _scored(weights), 0.0
    )
    assert len(set(kept)) == 1


def test_average_linkage_makes_an_identifier_free_population_more_precise() -> None:
    people = generate_people(1_500, seed=12, preset="moderate")
    truth = people.set_index("record_id").truth
    records = people.drop(columns=["truth", "errors"]).replace("", None)
    scores = {}
    for probability in (None, 0.5):
        settings = replace(
            DEFAULT_SETTINGS,
            thresholds=replace(DEFAULT_SETTINGS.thresholds, min_average_probability=probability),
        )
        result = link_records(records, settings=settings)
        keys = result.bridge.set_index("record_id").person_key
        scores[probability] = pairwise_scores(keys, truth.reindex(keys.index))
    assert scores[0.5].precision > scores[None].precision
    assert scores[0.5].f1 > scores[None].f1


def test_an_identifier_mistyped_by_one_slip_links_where_the_birth_date_agrees() -> None:
    """An NHS number or UPN failing its check was mistyped: where this population holds
    exactly one valid identifier a slip from it, and the birth dates agree, the records are
    one child (the rule recorded). Two valid identifiers a slip away leave which was meant
    unknown; a birth date that disagrees, or names that both differ, leave it to the model."""
    from linkage_ops.identifiers import make_upn, nhs_check_digit
    from linkage_ops.linkage.engine import ONE_SLIP_RULE

    def nhs(stem: str) -> str:
        return stem + str(nhs_check_digit(stem))

    def slip(identifier: str, position: int) -> str:
        digit = str((int(identifier[position]) + 1) % 10)
        return identifier[:position] + digit + identifier[position + 1 :]

    ivy, upn = nhs("943476591"), make_upn(884, 2001, 2019, 9)
    # Two children's numbers a slip from one mistyped number: a stem digit changed gives a
    # valid number whose check digit differs; the changed stem with the first check digit is
    # a slip from each.
    twin_a = nhs("943476620")
    twin_b, between = next(
        (nhs(stem), stem + twin_a[9])
        for stem in (twin_a[:8] + digit for digit in "123456789")
        if nhs_check_digit(stem) not in (None, int(twin_a[9]))
    )
    child = {"source": "gp", "sex": "F", "postcode": "HR5 1AB"}
    records = [
        child | {"record_id": "gp:1", "first_name": "Ivy", "last_name": "Moss",
                 "date_of_birth": "2015-03-03", "nhs_number": ivy},
        # A nameless A&E record at another address, and a record with the first name
        # missing and the surname cut short: the slipped identifier decides.
        {"record_id": "ae:1", "source": "ae", "date_of_birth": "2015-03-03",
         "postcode": "HR9 9ZZ", "nhs_number": slip(ivy, 5)},
        {"record_id": "school:1", "source": "school", "first_name": "Harry", "last_name": "Lowe",
         "date_of_birth": "2013-05-05", "sex": "M", "upn": upn},
        {"record_id": "cyps:1", "source": "cyps", "last_name": "Low",
         "date_of_birth": "2013-05-05", "postcode": "HR2 2BB",
         "upn": ("A" if upn[0] != "A" else "B") + upn[1:]},
        # Born another year: not through the slip.
        {"record_id": "gp:2", "source": "gp", "first_name": "Alfie", "last_name": "Dunn",
         "date_of_birth": "2016-07-07", "nhs_number": nhs("943476700")},
        {"record_id": "ae:2", "source": "ae", "first_name": "Alfie", "last_name": "Dunne",
         "date_of_birth": "2009-01-21", "postcode": "HR3 3CC",
         "nhs_number": slip(nhs("943476700"), 4)},
        # Two children's numbers a slip from the one mistyped: neither is chosen.
        {"record_id": "gp:3", "source": "gp", "first_name": "Rosa", "last_name": "Lane",
         "date_of_birth": "2012-02-02", "nhs_number": twin_a},
        {"record_id": "gp:4", "source": "gp", "first_name": "Rose", "last_name": "Lane",
         "date_of_birth": "2012-02-02", "nhs_number": twin_b},
        {"record_id": "ae:3", "source": "ae", "first_name": "Ros", "last_name": "Lain",
         "date_of_birth": "2012-02-02", "postcode": "HR4 4DD", "nhs_number": between},
        *_filler(300),
    ]  # fmt: skip
    result = link_records(pd.DataFrame(records))
    keys = result.bridge.set_index("record_id").person_key
    assert keys["gp:1"] == keys["ae:1"]
    assert keys["school:1"] == keys["cyps:1"]
    assert keys["gp:2"] != keys["ae:2"]
    assert keys["ae:3"] not in {keys["gp:3"], keys["gp:4"]}
    slipped = result.pairs[result.pairs.rule == ONE_SLIP_RULE]
    assert set(map(frozenset, slipped[["record_id_l", "record_id_r"]].to_numpy().tolist())) == {
        frozenset({"gp:1", "ae:1"}),
        frozenset({"school:1", "cyps:1"}),
    }
    assert set(slipped.decision) == {"identifier_link"}
    assert result.summary["slipped_identifier_links"] == 2
