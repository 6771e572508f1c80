"""Comparison levels and the Fellegi-Sunter model: levels on hand-made pairs, and training
without labels on a generated population whose truth the test knows."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from linkage_ops.identifiers import nhs_check_digit
from linkage_ops.linkage import FellegiSunterModel, link_records, standardise_records
from linkage_ops.linkage.blocking import BlockingKeys, block_pairs, pairs_within_groups
from linkage_ops.linkage.comparisons import ProfileColumns, compare
from linkage_ops.linkage.model import default_model, train_model
from linkage_ops.linkage.settings import DEFAULT_SETTINGS, TrainingSettings
from linkage_ops.linkage.standardise import NICKNAMES_PATH

REFERENCE = NICKNAMES_PATH.parent


def levels_of(pairs: list[tuple[dict, dict]]) -> pd.DataFrame:
    """The level names of each comparison for hand-made pairs of records."""
    rows = [side for pair in pairs for side in pair]
    profiles = standardise_records(pd.DataFrame(rows))
    left = np.arange(0, len(rows), 2)
    codes = compare(ProfileColumns.from_profiles(profiles), left, left + 1)
    from linkage_ops.linkage.comparisons import level_names

    return pd.DataFrame({name: level_names(name, values) for name, values in codes.items()})


def person(**fields: str) -> dict[str, str]:
    return {
        "first_name": "Oliver",
        "last_name": "Price",
        "date_of_birth": "2014-03-07",
        "postcode": "HR1 2AB",
        "sex": "M",
    } | fields


def test_name_levels() -> None:
    levels = levels_of(
        [
            (person(), person()),
            (person(first_name="Bill"), person(first_name="William")),
            (person(first_name="Jonathon"), person(first_name="Jonathan")),
            (person(first_name="Jack"), person(first_name="Jake")),
            (person(first_name="Price", last_name="Oliver"), person()),
            (person(first_name="Amelia"), person(first_name="Zachary")),
            (person(first_name=""), person()),
            (person(last_name="Price-Jones"), person(last_name="Jones")),
            (person(last_name="Smith", former_last_name="Price"), person()),
            (person(last_name="Hughs"), person(last_name="Hughes")),
        ]
    )
    assert levels.first_name.tolist()[:7] == [
        "exact",
        "nickname",
        "close",
        "similar",
        "swapped",
        "different",
        "missing",
    ]
    assert levels.last_name.tolist()[4] == "swapped"
    assert levels.last_name.tolist()[7:] == ["part_or_former", "part_or_former", "close"]


def test_a_short_name_one_typo_away_is_similar_not_different() -> None:
    # Jaro-Winkler counts letters as shared only near their own place: in a three-letter name
    # a swap or a wrong first letter scores below the similar cut-off.
    typos = [("Mia", "Ima"), ("Ava", "Zva"), ("Leo", "Loe"), ("Zoe", "Xoe"), ("Kai", "Kia")]
    others = [("Mia", "Leo"), ("Ava", "Ivy"), ("Al", "Ed"), ("Mia", "Mitchell")]
    levels = levels_of(
        [(person(first_name=a), person(first_name=b)) for a, b in typos + others]
        + [(person(last_name="Lau"), person(last_name="Lua"))]
        + [(person(last_name="Lau"), person(last_name="Wong"))]
    )
    first = levels.first_name.tolist()
    assert first[: len(typos)] == ["similar"] * len(typos)
    assert first[len(typos) : len(typos) + len(others)] == ["different"] * len(others)
    assert levels.last_name.tolist()[-2:] == ["similar", "different"]


def test_a_nickname_shared_by_two_names_is_a_variant_of_both() -> None:
    levels = levels_of(
        [
            (person(first_name="Sammy"), person(first_name="Samuel")),
            (person(first_name="Sammy"), person(first_name="Samantha")),
            (person(first_name="Samuel"), person(first_name="Samantha")),
            (person(first_name="Jacob"), person(first_name="Jakub")),
        ]
    )
    assert levels.first_name.tolist()[:2] == ["nickname", "nickname"]
    assert levels.first_name.tolist()[2] != "nickname"
    assert levels.first_name.tolist()[3] == "nickname"


def test_middle_name_levels() -> None:
    levels = levels_of(
        [
            (person(middle_names="Ivy Isabella"), person(middle_names="ivy  isabella")),
            (person(middle_names="Oliver William"), person(middle_names="Olivre William")),
            (person(middle_names="Grace"), person(middle_names="Rose Grace")),  # one shared
            (person(middle_names="Muhammad"), person(middle_names="Mohammad")),  # a typo
            (person(middle_names="Grace"), person(middle_names="Abdi")),
            (person(middle_names="Grace"), person()),
        ]
    )
    assert levels.middle_names.tolist() == [
        "exact",
        "shared",
        "shared",
        "shared",
        "different",
        "missing",
    ]


def test_date_of_birth_postcode_and_sex_levels() -> None:
    levels = levels_of(
        [
            (person(), person()),
            (person(date_of_birth="2014-07-03"), person()),
            (person(date_of_birth="2014-03-08"), person()),
            (person(date_of_birth="2014-03-27"), person()),  # one digit off
            (person(date_of_birth="2014-11-21"), person()),
            (person(date_of_birth="2009-11-21"), person()),
            (person(date_of_birth=""), person()),
        ]
    )
    assert levels.date_of_birth.tolist() == [
        "exact",
        "day_month_swapped",
        "near",
        "near",
        "year_only",
        "different",
        "missing",
    ]
    levels = levels_of(
        [
            (person(postcode="hr12ab"), person()),
            (person(postcode="HR1 2XY"), person()),
            (person(postcode="HR1 7XY"), person()),
            (person(postcode="WR9 7XY"), person()),
            (person(sex="F"), person()),
            (person(sex="U"), person()),
        ]
    )
    assert levels.postcode.tolist()[:4] == ["full", "sector", "district", "different"]
    assert levels.sex.tolist()[4:] == ["disagree", "missing"]


def test_pairs_within_groups_gives_every_pair_once() -> None:
    group = np.array([5, 1, 5, 5, 2, 1])
    left, right = pairs_within_groups(group, np.arange(len(group)))
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [
        (0, 2),
        (0, 3),
        (1, 5),
        (2, 3),
    ]


def population(children: int, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    """Records of ``children`` children, each recorded 1-4 times with some errors (most with
    the child's NHS number), and the child each record belongs to."""
    rng = np.random.default_rng(seed)
    forenames = pd.read_csv(REFERENCE / "forenames.csv")
    surnames = pd.read_csv(REFERENCE / "surnames.csv")
    first = rng.choice(forenames.name, children, p=forenames.weight / forenames.weight.sum())
    last = rng.choice(surnames.name, children, p=surnames.weight / surnames.weight.sum())
    born = pd.Timestamp("2008-09-01") + pd.to_timedelta(rng.integers(0, 6570, children), "D")
    postcode = [f"HR{d} {s}{a}{b}" for d, s, a, b in rng.integers(1, 9, (children, 4))]
    nhs = [
        f"{stem}{check}"
        for stem in (f"999{n:06d}" for n in rng.permutation(1_000_000)[: children * 2])
        if (check := nhs_check_digit(stem)) is not None
    ][:children]
    rows = []
    for child in range(children):
        for copy in range(rng.integers(1, 5)):
            dob = born[child]
            if rng.random() < 0.03:
                dob = dob + pd.Timedelta(days=1)
            surname = last[child] if rng.random() > 0.05 else str(last[child])[:-1] + "e"
            rows.append(
                {
                    "record_id": f"r{child}-{copy}",
                    "source": "test",
                    "first_name": first[child] if rng.random() > 0.05 else "",
                    "last_name": surname,
                    "date_of_birth": dob.strftime("%Y-%m-%d"),
                    "postcode": postcode[child] if rng.random() > 0.1 else "HR9 9ZZ",
                    "sex": "U",
                    "nhs_number": nhs[child] if rng.random() > 0.1 else None,
                    "child": child,
                }
            )
    records = pd.DataFrame(rows)
    return records.drop(columns="child"), records.set_index("record_id").child


@pytest.fixture(scope="module")
def trained() -> tuple[FellegiSunterModel, pd.DataFrame, pd.Series]:
    records, truth = population(3_000)
    profiles = standardise_records(records)
    settings = replace(DEFAULT_SETTINGS, training=TrainingSettings(u_sample_pairs=400_000))
    return train_model(profiles, linkage_settings=settings), records, truth


def test_u_from_random_pairs_matches_the_population(trained) -> None:
    model, _, _ = trained
    # Birthdays spread evenly over 6,570 days: two random children share one about 1 in 6,570
    # (pairs known to match by NHS number are left out of the sample).
    assert model.u["date_of_birth"]["exact"] == pytest.approx(1 / 6570, rel=0.35)
    assert model.u["date_of_birth"]["different"] > 0.9


def test_em_recovers_m_without_labels(trained) -> None:
    model, _, truth = trained
    sessions = model.training["em_sessions"]
    assert all(session["converged"] for session in sessions if "skipped" not in session)
    # Generated: 3% of copies one day off, 5% of first names blank, 5% of surnames altered.
    assert model.m["date_of_birth"]["exact"] > 0.9
    assert model.m["date_of_birth"]["near"] == pytest.approx(0.06, abs=0.04)
    assert model.m["last_name"]["exact"] > 0.85
    assert model.m["first_name"]["exact"] > 0.9
    # The prior: matching pairs of records over all pairs, within a factor of two.
    sizes = truth.value_counts()
    true_prior = (sizes * (sizes - 1) / 2).sum() / (len(truth) * (len(truth) - 1) / 2)
    assert true_prior / 2 < model.prior < true_prior * 2


def test_the_model_round_trips_through_json_and_is_reported(trained) -> None:
    model = trained[0]
    again = FellegiSunterModel.from_json(model.to_json())
    assert again.m == model.m and again.u == model.u and again.prior == model.prior
    report = model.report()
    assert set(report.comparison) == {
        "first_name", "last_name", "middle_names", "date_of_birth", "postcode", "sex"
    }  # fmt: skip
    exact = report.set_index(["comparison", "level"]).weight
    assert exact["date_of_birth", "exact"] > 0 > exact["date_of_birth", "different"]
    assert "| prior |" in model.report_markdown()


def test_linking_the_generated_population_is_accurate(trained) -> None:
    from linkage_ops.evaluation import pairwise_scores

    _, records, truth = trained
    result = link_records(records)
    assert result.summary["model"] == "trained"
    keys = result.bridge.set_index("record_id").person_key
    scores = pairwise_scores(keys, truth.reindex(keys.index).astype(str))
    assert scores.precision > 0.99 and scores.recall > 0.95


def test_block_pairs_samples_to_a_cap_and_counts_the_whole_block() -> None:
    records, _ = population(2_000, seed=3)
    keys = BlockingKeys(standardise_records(records))
    _, _, total = block_pairs(keys, ("birth_year",))
    left, right, capped_total = block_pairs(
        keys, ("birth_year",), max_pairs=total // 10, rng=np.random.default_rng(1)
    )
    assert capped_total == total
    assert total // 20 < len(left) < total // 5
    assert (left < right).all()


def test_small_inputs_use_the_shipped_model() -> None:
    result = link_records(pd.DataFrame([person(record_id="a:1", source="a")]))
    assert result.summary["model"] == "default"
    assert result.model.m == default_model().m


def test_the_prior_follows_the_population_size_once() -> None:
    model = default_model()
    trained_on = model.training["profiles"]
    smaller = model.for_population(trained_on // 10)
    assert smaller.prior == pytest.approx(model.prior * (trained_on - 1) / (trained_on // 10 - 1))
    # A model already scaled to a population is not scaled again for the same population.
    assert smaller.for_population(trained_on // 10).prior == smaller.prior
