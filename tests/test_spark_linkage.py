"""Linkage on Spark (``linkage_ops.spark.linkage``) gives what the pandas engine gives: the
same children, the same person keys from the same registry, the same decision on every pair,
also when Spark has to run a lost task again.

One local SparkSession (two cores, four shuffle partitions) serves the module. The input is a
synthetic population of 1,500 children (about 3,400 records, typos and NHS numbers) with
hand-made cases from the specification added: twins with and without UPNs, a nickname with a
day/month swap and a move, an NHS number and a UPN mistyped by one slip, a typo in name, birth
date and postcode together, suppliers writing dates day or month first and sexes as codes or
words, a record between two children held apart by UPNs, a shared NHS number with nothing else
agreeing, LA child ids, a former UPN, a death that links to nobody, monthly repeats, and
reviewers' decisions."""

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from linkage_ops.identifiers import make_upn, nhs_check_digit
from linkage_ops.linkage import KeyState, LinkageResult, link_records
from linkage_ops.linkage.engine import LINKED_DECISIONS, ONE_SLIP_RULE
from linkage_ops.linkage.settings import DEFAULT_SETTINGS
from linkage_ops.synthetic.independent_people import generate_people

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime (java)"),
]

CHILDREN = 1_500
# A few rules too coarse for this population as a whole, so that both engines also run rules
# in their small blocks only.
SETTINGS = replace(
    DEFAULT_SETTINGS,
    blocking=replace(DEFAULT_SETTINGS.blocking, max_rule_pairs_per_profile=0.8),
)


def nhs_number(serial: int) -> str:
    """A valid NHS number outside the synthetic population's 999 range."""
    while True:
        stem = f"943{serial:06d}"
        check = nhs_check_digit(stem)
        if check is not None:
            return f"{stem}{check}"
        serial += 1


def slipped(identifier: str, position: int = 5) -> str:
    """``identifier`` mistyped at one position (a digit one on, a check letter the next)."""
    char = identifier[position]
    new = str((int(char) + 1) % 10) if char.isdigit() else ("B" if char == "A" else "A")
    return identifier[:position] + new + identifier[position + 1 :]


def record(record_id: str, **fields: str) -> dict[str, str]:
    source, source_record_id = record_id.split(":", 1)
    return {"record_id": record_id, "source": source, "source_record_id": source_record_id} | fields


def handmade() -> pd.DataFrame:
    """The specification's cases, as records."""
    upn = [make_upn(884, 2001, 2019, serial) for serial in range(1, 6)]
    twins = {"last_name": "Price", "date_of_birth": "2016-05-05", "postcode": "HR2 7QT"}
    same = {"first_name": "Noah", "last_name": "Jones", "date_of_birth": "2013-01-01"}
    rows = [
        # Twins, each with their own UPN, and their GP records.
        record("school_census:T1", first_name="Amelia", sex="F", upn=upn[0], **twins),
        record("school_census:T2", first_name="Evie", sex="F", upn=upn[1], **twins),
        record("gp:T1", first_name="Amelia", sex="F", **twins),
        record("gp:T2", first_name="Evie", sex="F", **twins),
        # Twins without identifiers: a reviewer decides (below, one says these two match).
        record("gp:B1", first_name="Jon", last_name="Evans", date_of_birth="2015-04-04",
               postcode="HR1 1AA", sex="M"),
        record("school_census:B1", first_name="Ryan", last_name="Evans",
               date_of_birth="2015-04-04", postcode="HR1 1AA", sex="M"),
        record("gp:W1", first_name="Lily", last_name="Baker", date_of_birth="2017-08-08",
               postcode="HR5 3TT", sex="F"),
        record("school_census:W1", first_name="Rose", last_name="Baker",
               date_of_birth="2017-08-08", postcode="HR5 3TT", sex="F"),
        # A nickname, the day and month swapped and a move.
        record("school_census:N1", first_name="William", last_name="Hughes",
               date_of_birth="2014-03-07", sex="M", postcode="HR1 2AB", upn=upn[2]),
        record("gp:N1", first_name="Bill", last_name="Hughes", date_of_birth="2014-07-03",
               sex="M", postcode="HR4 9XY", nhs_number=nhs_number(1)),
        # A typo in the name, the birth date and the postcode at once.
        record("gp:Y1", first_name="Maisie", last_name="Clarke", date_of_birth="2012-09-14",
               postcode="HR1 1AA", sex="F"),
        record("cyps:Y1", first_name="Maisee", last_name="Clarke", date_of_birth="2012-09-15",
               postcode="HR7 1AA", sex="F"),
        record("gp:Y2", first_name="Theodore", last_name="Okonkwo-Reid",
               date_of_birth="2010-11-23", postcode="HR3 5PL", sex="M", nhs_number=nhs_number(2)),
        record("emergency_care:Y2", first_name="Theodroe", last_name="Okonkwo Reid",
               date_of_birth="2010-11-32", postcode="HR3 5LP", sex="M"),
        # Same details, different valid UPNs: two children, and a GP record between them.
        record("school_census:U1", upn=upn[3], postcode="HR9 5AA", sex="M", **same),
        record("school_census:U2", upn=upn[4], postcode="HR9 5AA", sex="M", **same),
        record("gp:U3", postcode="HR9 5AA", sex="M", **same),
        # A shared NHS number and nothing else agreeing.
        record("gp:S1", first_name="Maya", last_name="Khan", date_of_birth="2011-01-01",
               nhs_number=nhs_number(3)),
        record("gp:S2", first_name="Oscar", last_name="Bell", date_of_birth="2017-09-09",
               nhs_number=nhs_number(3)[:3] + " " + nhs_number(3)[3:6] + " " + nhs_number(3)[6:]),
        # Social care records through the LA child id.
        record("children_in_need:2024-25/LA000001", la_child_id="LA000001", sex="F"),
        record("social_care_clients:2025-03/LA000001", la_child_id="LA000001",
               first_name="Ruby", last_name="Hall", nhs_number=nhs_number(4)),
        record("gp:R1", first_name="Ruby", last_name="Hall", nhs_number=nhs_number(4)),
        # A former UPN.
        record("school_census:F1", first_name="Leo", last_name="Ward", date_of_birth="2012-12-12",
               upn=make_upn(884, 2001, 2019, 7)),
        record("school_census:F2", first_name="Leon", last_name="Ward-Smith",
               date_of_birth="2012-12-12", upn=make_upn(884, 2002, 2020, 8),
               former_upn=make_upn(884, 2001, 2019, 7)),
        # A strong pair a reviewer has rejected (below), with a third record between.
        *(
            record(record_id, first_name="Ella", last_name="Price", date_of_birth="2014-02-02",
                   postcode="HR2 7QT", sex="F", **extra)
            for record_id, extra in (
                ("gp:E1", {}),
                ("gp:E2", {"nhs_number": nhs_number(5)}),
                ("school_census:E3", {}),
            )
        ),
        # An NHS number and a UPN each mistyped by one slip, the birth date agreeing: linked
        # through the one valid identifier a slip away; with another birth date, not.
        record("gp:P1", first_name="Ivy", last_name="Moss", date_of_birth="2015-03-03",
               postcode="HR5 1AB", sex="F", nhs_number=nhs_number(6)),
        record("emergency_care:P1", first_name="Ivy", last_name="Mosse",
               date_of_birth="2015-03-03", postcode="HR9 9AA", nhs_number=slipped(nhs_number(6))),
        record("school_census:Q1", first_name="Harry", last_name="Lowe",
               date_of_birth="2013-05-05", sex="M", upn=make_upn(884, 2001, 2019, 9)),
        record("cyps:Q1", first_name="Harri", last_name="Lowe", date_of_birth="2013-05-05",
               postcode="HR2 2BB", upn=slipped(make_upn(884, 2001, 2019, 9), 0)),
        record("gp:P2", first_name="Alfie", last_name="Dunn", date_of_birth="2016-07-07",
               nhs_number=nhs_number(7)),
        record("emergency_care:P2", first_name="Alfie", last_name="Dunn",
               date_of_birth="2009-01-21", nhs_number=slipped(nhs_number(7))),
        # A death that links to nobody: its likeliest candidate waits first for a reviewer.
        record("gp:D1", first_name="Zara", last_name="Okafor", date_of_birth="2013-06-18",
               postcode="HR6 8LB", sex="F"),
        record("deaths:2025-03/1", first_name="Zara", last_name="Rofako",
               date_of_birth="2014-06-18", postcode="HR9 9ZZ", sex="F"),
        # Suppliers' own ways with dates and sexes: day first and NHS codes; month first (its
        # own 12/25/2012 says so) and words. Each is the GP's Aisha.
        record("gp:K1", first_name="Aisha", last_name="Patel", date_of_birth="2011-10-04",
               postcode="HR6 8QQ", sex="F"),
        record("case_notes:K1", first_name="Aisha", last_name="Patel",
               date_of_birth="04/10/2011", postcode="HR6 8QQ", sex="2"),
        record("vendor:K1", first_name="Aisha", last_name="Patel", date_of_birth="10/04/2011",
               postcode="HR6 8QQ", sex="Female"),
        record("vendor:K2", first_name="Tom", last_name="Reid", date_of_birth="12/25/2012",
               postcode="HR1 4ZZ", sex="Male"),
        record("vendor:K3", first_name="Tom", last_name="Reid", date_of_birth="31/02/2012",
               postcode="HR1 4ZZ", sex="M"),
        # A monthly feed repeating one child's details.
        *(
            record(f"community_services:2025-{month:02d}/M1", first_name="Isla",
                   last_name="Morgan", date_of_birth="2018-02-02", postcode="HR4 9XY", sex="F")
            for month in range(1, 13)
        ),
    ]  # fmt: skip
    return pd.DataFrame(rows)


DECISIONS = pd.DataFrame(
    {
        "record_id_l": ["gp:B1", "gp:E2"],
        "record_id_r": ["school_census:B1", "school_census:E3"],
        "decision": ["match", "non_match"],
    }
)


def person_records(frame: pd.DataFrame) -> pd.DataFrame:
    """All columns as text (blank where missing), in record id order: how the warehouse hands
    records to the pandas engine."""
    from linkage_ops.linkage.standardise import PERSON_RECORD_COLUMNS

    frame = frame.reindex(columns=PERSON_RECORD_COLUMNS).astype(object)
    frame = frame.where(frame.notna(), None)
    return frame.sort_values("record_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as env:
        # Python workers run this interpreter (and find pandas, pyarrow and linkage_ops).
        env.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2,3]")  # two cores; a task is tried 3 times
            .appName("test_spark_linkage")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.task.maxFailures", "3")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def everyone() -> pd.DataFrame:
    people = generate_people(CHILDREN, seed=5, preset="moderate", identifiers=True)
    return person_records(pd.concat([people, handmade()], ignore_index=True))


@pytest.fixture(scope="module")
def records(everyone: pd.DataFrame) -> pd.DataFrame:
    """This run's records: a few of the synthetic ones have been withdrawn since the last."""
    withdrawn = everyone.iloc[:-60].sample(n=40, random_state=2).index
    return everyone.drop(index=withdrawn).reset_index(drop=True)


@pytest.fixture(scope="module")
def state(everyone: pd.DataFrame) -> KeyState:
    """Keys from an earlier run on most of the records, without the reviewers' decisions."""
    earlier = everyone.sample(frac=0.85, random_state=3).sort_values("record_id")
    return link_records(earlier, run_id="earlier").key_state()


def spark_records(spark, records: pd.DataFrame):
    """The records on Spark, in another order than the pandas engine takes them: the order
    Spark reads them in does not matter (both engines take them by record id)."""
    shuffled = records.sample(frac=1, random_state=1)
    return spark.createDataFrame(shuffled, schema=", ".join(f"{c} string" for c in records))


@pytest.fixture(scope="module")
def expected(records: pd.DataFrame, state: KeyState) -> LinkageResult:
    return link_records(records, settings=SETTINGS, state=state, run_id="now", decisions=DECISIONS)


def _failing_once(function, marks: Path, stage: str, frames: int = 1):
    """``function`` (the function of a ``mapInPandas`` with one frame, or of a cogroup's
    ``applyInPandas`` with two) whose first attempt at partition 0 fails, as a task on a lost
    executor does; Spark runs it again."""

    def fail_first_attempt() -> None:
        from pyspark import TaskContext

        context = TaskContext.get()
        if context.partitionId() == 0 and context.attemptNumber() == 0:
            (marks / f"{stage}-{context.stageId()}").touch()
            raise RuntimeError(f"{stage}: task lost (on purpose)")

    def one(batches):
        fail_first_attempt()
        return function(batches)

    def two(left, right):
        fail_first_attempt()
        return function(left, right)

    return one if frames == 1 else two


@pytest.fixture(scope="module")
def lost_tasks(tmp_path_factory) -> Path:
    """Where each task lost on purpose leaves a mark."""
    return tmp_path_factory.mktemp("lost_tasks")


@pytest.fixture(scope="module")
def linked(spark, records: pd.DataFrame, state: KeyState, lost_tasks: Path) -> LinkageResult:
    """The Spark run, in which reading the records and scoring pairs each lose a task once
    (Spark runs them again: ``local[2,3]`` tries a task up to three times)."""
    from linkage_ops.spark import linkage as spark_linkage

    scorer = spark_linkage._scorer
    source = spark_records(spark, records).repartition(3)
    read = source.mapInPandas(
        _failing_once(lambda batches: batches, lost_tasks, "read"), source.schema
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            spark_linkage,
            "_scorer",
            lambda *args: _failing_once(scorer(*args), lost_tasks, "score", frames=2),
        )
        return spark_linkage.link_records_spark(
            spark, read, settings=SETTINGS, state=state, run_id="now", decisions=DECISIONS
        )


def clusters(result: LinkageResult) -> set[frozenset[str]]:
    return {frozenset(group) for _, group in result.bridge.groupby("person_key").record_id}


def decisions(result: LinkageResult) -> dict[tuple[str, str], str]:
    pairs = result.pairs
    ids = zip(pairs.record_id_l, pairs.record_id_r, strict=True)
    return dict(zip(ids, pairs.decision, strict=True))


def assert_same_result(got: LinkageResult, expected: LinkageResult) -> None:
    """The same children, keys, pair decisions, review queue, registry and model."""
    assert clusters(got) == clusters(expected)
    pd.testing.assert_frame_equal(got.bridge, expected.bridge, check_dtype=False)
    made, decided = decisions(expected), decisions(got)
    linked = {pair for pair, decision in made.items() if decision in LINKED_DECISIONS}
    assert {pair: decided.get(pair) for pair in linked} == {pair: made[pair] for pair in linked}
    for table in ("pairs", "review_queue", "registry", "history", "absent_record_keys"):
        pd.testing.assert_frame_equal(
            getattr(got, table), getattr(expected, table), check_dtype=False
        )
    assert got.model.to_json() == expected.model.to_json()


def test_spark_links_records_as_the_pandas_engine_does(linked, expected, records) -> None:
    assert expected.summary["model"] == "trained"
    assert_same_result(linked, expected)


def test_a_lost_task_is_run_again_without_duplicate_rows(linked, records, lost_tasks) -> None:
    # Tasks were lost (the identical result above is after Spark ran them again) ...
    assert {mark.name.split("-")[0] for mark in lost_tasks.iterdir()} == {"read", "score"}
    # ... and every record is in the bridge once, every pair in the pair table once.
    assert linked.bridge.record_id.is_unique
    assert len(linked.bridge) == len(records)
    assert set(linked.bridge.record_id) == set(records.record_id)
    assert not linked.pairs.duplicated(["record_id_l", "record_id_r"]).any()


def test_the_input_exercises_each_rule(expected, expected_small) -> None:
    """The comparisons here mean something: between them, the two inputs meet every rule."""
    made = set(expected.pairs.decision) | set(expected_small.pairs.decision)
    assert {"identifier_link", "link", "possible_twins", "ambiguous", "auto_non_match"} <= made
    assert {"identifier_conflict", "identifier_review", "reviewed_match"} <= made
    assert {"reviewed_non_match", "distinct_identifiers", "review", "review_deferred"} <= made
    assert {"already_linked"} <= made
    reasons = [rule["reason"] for rule in expected.summary["blocking_rules"]]
    assert any("used in its blocks of at most" in reason for reason in reasons)
    assert any(reason.startswith("too coarse (") for reason in reasons)
    assert {"merge", "split"} <= set(expected.history.reason)
    assert "unlinked_first" in set(expected.review_queue.impact)
    assert len(expected.absent_record_keys) > 0
    keys = expected.bridge.set_index("record_id").person_key
    assert keys["school_census:T1"] == keys["gp:T1"] != keys["school_census:T2"] == keys["gp:T2"]
    assert keys["school_census:N1"] == keys["gp:N1"]
    assert keys["gp:Y2"] == keys["emergency_care:Y2"]
    assert keys["gp:B1"] == keys["school_census:B1"]
    assert keys["gp:E2"] != keys["school_census:E3"]
    assert keys["gp:K1"] == keys["case_notes:K1"] == keys["vendor:K1"]
    assert keys["gp:P1"] == keys["emergency_care:P1"]
    assert keys["school_census:Q1"] == keys["cyps:Q1"]
    assert keys["gp:P2"] != keys["emergency_care:P2"]
    slips = expected.pairs[expected.pairs.rule == ONE_SLIP_RULE]
    assert (slips.decision == "identifier_link").sum() >= 2
    assert (
        expected.summary["slipped_identifier_links"] == (slips.decision == "identifier_link").sum()
    )
    assert expected.summary["unreadable_birth_dates"] == {"emergency_care": 1, "vendor": 1}


def test_the_summary_says_the_same_and_which_engine(linked, expected) -> None:
    summary = dict(linked.summary)
    seconds = summary.pop("seconds")
    assert summary.pop("engine") == "spark"
    assert set(seconds) == set(expected.summary["seconds"]) == {
        "profile", "train", "block", "score", "cluster", "key"
    }  # fmt: skip
    assert summary == {k: v for k, v in expected.summary.items() if k != "seconds"}


@pytest.fixture(scope="module")
def expected_small() -> LinkageResult:
    return link_records(person_records(handmade()), decisions=DECISIONS)


def test_a_population_too_small_to_train_on_uses_the_shipped_model(spark, expected_small) -> None:
    from linkage_ops.spark.linkage import link_records_spark

    records = person_records(handmade())
    got = link_records_spark(spark, spark_records(spark, records), decisions=DECISIONS)
    assert expected_small.summary["model"] == got.summary["model"] == "default"
    assert_same_result(got, expected_small)
