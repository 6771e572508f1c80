"""The first-cut linkage engine on small hand-made records."""

from dataclasses import replace

import pandas as pd
import pytest

from linkage_ops.evaluation import error_analysis, pairwise_scores
from linkage_ops.identifiers import make_upn
from linkage_ops.linkage import link_records, standardise_records
from linkage_ops.linkage.settings import DEFAULT_SETTINGS

UPN_A = make_upn(884, 2001, 2019, 1)
UPN_B = make_upn(884, 2001, 2019, 2)


def record(record_id: str, **fields: str | None) -> dict[str, str | None]:
    base = {
        "record_id": record_id,
        "source": record_id.split(":")[0],
        "source_record_id": record_id.split(":")[1],
        "first_name": None,
        "last_name": None,
        "date_of_birth": None,
        "sex": "U",
        "postcode": None,
        "upn": None,
        "nhs_number": None,
    }
    return base | fields


def keys(records: list[dict]) -> dict[str, str]:
    bridge = link_records(pd.DataFrame(records)).bridge
    return dict(zip(bridge.record_id, bridge.person_key, strict=True))


def test_standardise_names_postcodes_and_identifiers() -> None:
    frame = standardise_records(
        pd.DataFrame(
            [
                record(
                    "gp:1",
                    first_name="  Zoë-Ann ",
                    last_name="O'Brien-Smith",
                    postcode="hr1 2ab",
                    nhs_number="943 476 5919",
                    date_of_birth="2015-03-02",
                ),
                record("gp:2", first_name="Bill", nhs_number="9434765918", upn="R247962919251"),
            ]
        )
    )
    assert frame.first_name_std.tolist() == ["ZOE", "BILL"]
    assert frame.first_name_canonical.tolist()[1] == "WILLIAM"
    assert frame.last_name_std.tolist()[0] == "OBRIEN SMITH"
    assert frame.postcode_std.tolist()[0] == "HR12AB"
    assert frame.postcode_sector.tolist()[0] == "HR12"
    assert frame.dob_swapped_text.tolist()[0] == "20150203"
    assert frame.nhs_number_valid.tolist()[0] == "9434765919"
    # Invalid identifiers are never exact keys.
    assert pd.isna(frame.nhs_number_valid.tolist()[1])
    assert pd.isna(frame.upn_valid.tolist()[1])


def test_same_child_across_sources_despite_nickname_swap_and_move() -> None:
    records = [
        record(
            "school_census:1",
            first_name="William",
            last_name="Hughes",
            date_of_birth="2014-03-07",
            sex="M",
            postcode="HR1 2AB",
            upn=UPN_A,
        ),
        record(
            "gp:1",
            first_name="Bill",
            last_name="Hughes",
            date_of_birth="2014-07-03",
            sex="M",
            postcode="HR4 9XY",
            nhs_number="9434765919",
        ),
    ]
    linked = keys(records)
    assert linked["school_census:1"] == linked["gp:1"]


def test_twins_are_kept_apart() -> None:
    common = {"last_name": "Price", "date_of_birth": "2016-05-05", "postcode": "HR2 7QT"}
    records = [
        record("school_census:1", first_name="Amelia", sex="F", upn=UPN_A, **common),
        record("school_census:2", first_name="Evie", sex="F", upn=UPN_B, **common),
        record("gp:1", first_name="Amelia", sex="F", **common),
        record("gp:2", first_name="Evie", sex="F", **common),
    ]
    linked = keys(records)
    assert linked["school_census:1"] == linked["gp:1"]
    assert linked["school_census:2"] == linked["gp:2"]
    assert linked["school_census:1"] != linked["school_census:2"]


def test_a_nameless_record_is_not_given_to_a_twin_recorded_at_another_address() -> None:
    # Twins at home (two NHS numbers on one birthday), and A&E records without names at the
    # other parent's address: one carries Phoebe's NHS number, the other none. Nothing at that
    # address shows a second child, but Phoebe's own records do: the second A&E record may be
    # either twin's, so a reviewer decides.
    home = {"last_name": "Burton", "date_of_birth": "2023-09-23", "postcode": "HR8 1GH"}
    away = {"date_of_birth": "2023-09-23", "postcode": "HR4 2NH", "sex": "F"}
    records = [
        record("gp:1", first_name="Sophia", sex="F", nhs_number="9991498427", **home),
        record("gp:2", first_name="Phoebe", sex="F", nhs_number="9997870859", **home),
        record("child_health:1", first_name="Sophia", sex="F", nhs_number="9991498427", **home),
        record("child_health:2", first_name="Phoebe", sex="F", nhs_number="9997870859", **home),
        record("emergency_care:1", nhs_number="9997870859", **away),
        record("emergency_care:2", **away),
    ]
    result = link_records(pd.DataFrame(records))
    linked = dict(zip(result.bridge.record_id, result.bridge.person_key, strict=True))
    assert linked["emergency_care:1"] == linked["gp:2"] != linked["gp:1"]
    assert linked["emergency_care:2"] not in {linked["gp:1"], linked["gp:2"]}
    pairs = result.pairs.set_index(["record_id_l", "record_id_r"]).decision
    assert pairs[("emergency_care:1", "emergency_care:2")] == "possible_twins"
    assert len(result.review_queue) >= 1


def test_a_cluster_never_holds_two_valid_upns() -> None:
    # Same name, DOB and address but different valid UPNs: not the same child.
    same = {
        "first_name": "Noah",
        "last_name": "Jones",
        "date_of_birth": "2013-01-01",
        "postcode": "HR9 5AA",
        "sex": "M",
    }
    records = [
        record("school_census:1", upn=UPN_A, **same),
        record("school_census:2", upn=UPN_B, **same),
        record("gp:1", **same),
    ]
    result = link_records(pd.DataFrame(records))
    # The two pupils stay apart, and the GP record, matching both equally, goes to a
    # reviewer instead of being given to either.
    assert result.bridge.person_key.nunique() == 3
    decisions = dict(
        zip(
            zip(result.pairs.record_id_l, result.pairs.record_id_r, strict=True),
            result.pairs.decision,
            strict=True,
        )
    )
    assert decisions[("school_census:1", "school_census:2")] == "identifier_conflict"
    assert set(result.review_queue.decision) == {"ambiguous"}
    assert len(result.review_queue) == 2


def test_shared_valid_nhs_number_links_without_fuzzy_agreement() -> None:
    records = [
        record("gp:1", first_name="Alex", last_name="Khan", nhs_number="9434765919"),
        record("gp:2", first_name="Sasha", last_name="Morgan", nhs_number="943-476-5919"),
    ]
    bridge = link_records(pd.DataFrame(records)).bridge
    assert bridge.person_key.nunique() == 1
    assert set(bridge.match_method) == {"nhs_number"}


def test_different_children_are_not_linked_and_keys_are_reproducible() -> None:
    records = [
        record("gp:1", first_name="Olivia", last_name="Smith", date_of_birth="2012-01-01"),
        record("gp:2", first_name="Jack", last_name="Smith", date_of_birth="2015-06-01"),
    ]
    first, second = keys(records), keys(list(reversed(records)))
    assert first["gp:1"] != first["gp:2"]
    assert first == second


def test_pairwise_scores_count_pairs() -> None:
    predicted = pd.Series({"a": "p1", "b": "p1", "c": "p1", "d": "p2"})
    truth = pd.Series({"a": "c1", "b": "c1", "c": "c2", "d": "c2"})
    scores = pairwise_scores(predicted, truth)
    # predicted pairs ab ac bc; true pairs ab cd; correct ab.
    assert (scores.predicted_pairs, scores.true_pairs, scores.correct_pairs) == (3, 2, 1)
    assert scores.precision == 1 / 3
    assert scores.recall == 1 / 2


def test_repeated_deliveries_are_compared_once_and_share_a_key() -> None:
    child = {
        "first_name": "Isla",
        "last_name": "Morgan",
        "date_of_birth": "2018-02-02",
        "postcode": "HR4 9XY",
        "sex": "F",
    }
    other = child | {"first_name": "Isla-Mae", "nhs_number": "9434765919"}
    once = [record("gp:1", **child), record("gp:2", **other)]
    monthly = once + [record(f"gp:{n}", **child) for n in range(3, 15)]
    single = link_records(pd.DataFrame(once))
    repeated = link_records(pd.DataFrame(monthly))
    assert len(repeated.pairs) == len(single.pairs) == 1
    assert repeated.bridge.person_key.nunique() == 1
    assert len(repeated.bridge) == 14


def test_social_care_records_link_through_the_la_child_id() -> None:
    records = [
        record("children_in_need:2024-25/LA000001", la_child_id="LA000001", sex="F"),
        record(
            "social_care_clients:2025-03/LA000001",
            la_child_id="LA000001",
            first_name="Ruby",
            last_name="Hall",
            nhs_number="9434765919",
        ),
        record("gp:7", first_name="Ruby", last_name="Hall", nhs_number="9434765919"),
    ]
    bridge = link_records(pd.DataFrame(records)).bridge
    assert bridge.person_key.nunique() == 1
    assert bridge.set_index("record_id").match_method["children_in_need:2024-25/LA000001"] == (
        "la_child_id"
    )


BORDERLINE = [
    # Same surname, birth date and address, different first names, no identifiers: twins or
    # one child recorded twice? A reviewer decides.
    record(
        "gp:1",
        first_name="Jon",
        last_name="Evans",
        date_of_birth="2015-04-04",
        postcode="HR1 1AA",
        sex="M",
    ),
    record(
        "school_census:1",
        first_name="Ryan",
        last_name="Evans",
        date_of_birth="2015-04-04",
        postcode="HR1 1AA",
        sex="M",
    ),
]


def test_possible_twins_wait_for_a_reviewer_with_weights_that_add_up() -> None:
    result = link_records(pd.DataFrame(BORDERLINE))
    assert result.bridge.person_key.nunique() == 2
    (waiting,) = result.review_queue.to_dict("records")
    assert waiting["decision"] == "possible_twins"
    assert (waiting["first_name_l"], waiting["first_name_r"]) == ("Jon", "Ryan")
    assert waiting["first_name_level"] == "different"
    assert waiting["date_of_birth_level"] == "exact"
    fields = ("first_name", "last_name", "middle_names", "date_of_birth", "postcode", "sex")
    # The explanation adds up: prior plus each field's weight is the pair's match weight.
    assert waiting["match_weight"] == pytest.approx(
        waiting["prior_weight"] + sum(waiting[f"{field}_weight"] for field in fields), abs=1e-4
    )
    assert waiting["first_name_weight"] < 0 < waiting["date_of_birth_weight"]


def test_pairs_between_the_thresholds_wait_for_a_reviewer() -> None:
    # Same surname; first name, birthday and postcode each a little apart: too much doubt to
    # link, too much agreement to drop, with a review band as wide as a team might set it
    # (the band the model would choose depends on what it was trained on).
    settings = replace(
        DEFAULT_SETTINGS,
        thresholds=replace(DEFAULT_SETTINGS.thresholds, match_weight=8.0, review_weight=0.0),
    )
    records = [
        record(
            "gp:1",
            first_name="Maisie",
            last_name="Clarke",
            date_of_birth="2012-09-14",
            postcode="HR1 1AA",
            sex="F",
        ),
        record(
            "cyps:1",
            first_name="Maisy",
            last_name="Clarke",
            date_of_birth="2012-09-15",
            postcode="HR1 1AB",
            sex="F",
        ),
    ]
    result = link_records(pd.DataFrame(records), settings=settings)
    assert result.bridge.person_key.nunique() == 2
    (waiting,) = result.review_queue.to_dict("records")
    assert waiting["decision"] == "review"
    thresholds = result.summary["thresholds"]
    assert thresholds["review_threshold"] <= waiting["match_weight"]
    assert waiting["match_weight"] < thresholds["match_threshold"]


def test_a_reviewers_match_links_and_non_match_is_never_auto_linked_again() -> None:
    match = pd.DataFrame(
        [{"record_id_l": "gp:1", "record_id_r": "school_census:1", "decision": "match"}]
    )
    matched = link_records(pd.DataFrame(BORDERLINE), decisions=match)
    assert matched.bridge.person_key.nunique() == 1
    assert matched.review_queue.empty

    # A strong pair a reviewer has rejected stays apart, even with a third record between.
    strong = [
        record(
            "gp:1",
            first_name="Ella",
            last_name="Price",
            date_of_birth="2014-02-02",
            postcode="HR2 7QT",
            sex="F",
        ),
        record(
            "gp:2",
            first_name="Ella",
            last_name="Price",
            date_of_birth="2014-02-02",
            postcode="HR2 7QT",
            sex="F",
            nhs_number="9434765919",
        ),
        record(
            "school_census:9",
            first_name="Ella",
            last_name="Price",
            date_of_birth="2014-02-02",
            postcode="HR2 7QT",
            sex="F",
        ),
    ]
    assert link_records(pd.DataFrame(strong)).bridge.person_key.nunique() == 1
    non_match = pd.DataFrame(
        [{"record_id_l": "gp:2", "record_id_r": "school_census:9", "decision": "non_match"}]
    )
    result = link_records(pd.DataFrame(strong), decisions=non_match)
    keys = result.bridge.set_index("record_id").person_key
    assert keys["gp:2"] != keys["school_census:9"]
    assert "reviewed_non_match" in set(result.pairs.decision)
    assert result.review_queue.empty


def test_a_shared_identifier_with_conflicting_birth_date_and_name_goes_to_review() -> None:
    records = [
        record(
            "gp:1",
            first_name="Maya",
            last_name="Khan",
            date_of_birth="2011-01-01",
            nhs_number="9434765919",
        ),
        record(
            "gp:2",
            first_name="Oscar",
            last_name="Bell",
            date_of_birth="2017-09-09",
            nhs_number="943 476 5919",
        ),
    ]
    result = link_records(pd.DataFrame(records))
    assert result.bridge.person_key.nunique() == 2
    assert result.review_queue.decision.tolist() == ["identifier_review"]


def test_error_analysis_names_false_merges_and_missed_links() -> None:
    children = pd.DataFrame(
        {
            "child_id": ["c1", "c2", "c3", "c4"],
            "household_id": ["h1", "h1", "h2", "h3"],
            "twin_of": ["c2", "c1", "", ""],
        }
    )
    truth = pd.DataFrame(
        {
            "child_id": ["c1", "c2", "c3", "c3", "c3", "c4"],
            "errors": ["", "", "", "", "surname_change;forename_typo", ""],
        },
        index=["r1", "r2", "r3", "r4", "r5", "r6"],
    )
    predicted = pd.Series({"r1": "P1", "r2": "P1", "r3": "P2", "r4": "P2", "r5": "P3", "r6": "P2"})
    analysis = error_analysis(predicted, truth, children)
    # Twins merged (1 pair), c4 merged into c3's key (2 pairs, unrelated), and c3's record
    # with a changed surname left out (2 missed pairs).
    assert analysis == {
        "false_merges": {"twins": 1, "unrelated": 2},
        "missed_links": {"surname_change": 2},
    }
