"""Key Stage 2 results as the authority downloads them from the NCA Portal for all its schools:
one CSV of the academic year's Year 6 pupils, each with their reading, maths and grammar,
punctuation and spelling (GPS) test results and their writing teacher assessment
(``linkage_ops/schemas/ks2.yaml``).

A pupil who sat a test has a raw score, a scaled score (80-120) and the outcome AS (100 or more)
or NS; a pupil who did not has a results code instead: B working below the standard of the test
(with pre-key stage or engagement model teacher assessments), A absent, J just arrived, U unable
to access. Writing is GDS, EXS or WTS, or a pre-key stage standard. Results follow each pupil's
latent attainment (``pupil_attainment``): about 61% of pupils reach the expected standard in
reading, writing and maths and about 8% the higher standard, as in England in 2024.

Record ids are ``<period>/<row number in the file>``: the download has no id of its own.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import dmy, school_urn
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.pupil_attainment import (
    CohortPupil,
    end_of_key_stage_cohort,
    school_dfe_number,
    subject_draws,
)
from linkage_ops.synthetic.recording_errors import (
    draw_candidate_errors,
    joined_errors,
    recorded_pupil,
)
from linkage_ops.synthetic.school_year import CollectionYear, nth_weekday
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "ks2"
COLUMNS = load_schema(SOURCE).tables["results"].column_names
NC_YEAR = 6
# Each test's scaled score for a pupil with no attainment gap: mean and spread, and the most
# raw marks the test has (the raw score is written alongside, monotonic in the scaled score).
TESTS = {
    "Reading": {"mean": 107.2, "sd": 7.3, "marks": 50},
    "Maths": {"mean": 106.7, "sd": 6.9, "marks": 110},
    "GPS": {"mean": 108.0, "sd": 8.6, "marks": 70},
}
SUBJECT_CORRELATION = 0.88
EXPECTED_SCORE, LOWEST_SCORE, HIGHEST_SCORE = 100, 80, 120
# Writing teacher assessment from the latent score with writing's own noise: greater depth
# above the first cut, expected standard above the second, working towards below it.
WRITING_CUTS = {"GDS": 0.95, "EXS": -1.0}
# Pupils working below the standard of the tests (latent score under this) are not entered:
# their tests are coded B and their teachers assess them against the pre-key stage standards,
# or the engagement model at the very lowest.
BELOW_TEST_STANDARD = -3.0
PRE_KEY_STAGE = (("PK6", -3.4), ("PK5", -3.8), ("PK4", -4.2), ("PK3", -4.6), ("PK2", -5.0))
# Pupils (not tests) with a code instead of results: absent in test week, recently arrived from
# abroad with little English (only families who arrived in the year), unable to access.
ABSENT_SHARE = 0.007
JUST_ARRIVED_SHARE_OF_NEW_ARRIVALS = 0.35
UNABLE_TO_ACCESS_SHARE = 0.002
ENGLISH = ("ENG", "ENB")


def ks2_test_week(year: CollectionYear) -> date:
    """Monday of the Key Stage 2 test week: the second Monday of May after the year."""
    return nth_weekday(year.start_year + 1, 5, 0, 2)


def ks2_file(landing_dir: Path, year: CollectionYear) -> Path:
    """``landing/ks2/2024-25/ks2_results_2025.csv``."""
    return landing_dir / SOURCE / year.label / f"ks2_results_{year.start_year + 1}.csv"


def write_ks2(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the Key Stage 2 results of ``year``'s Year 6 (``months`` is ignored) and return
    the file with one truth row per pupil."""
    cohort = end_of_key_stage_cohort(population, year, NC_YEAR, rng)
    # As the portal lists them: school by school, then by name.
    cohort.sort(key=lambda p: (p.child.school.estab, p.child.surname, p.child.forename))
    chance = random.Random(int(rng.integers(1 << 62)))
    scores = subject_draws(cohort, len(TESTS) + 1, rng, SUBJECT_CORRELATION)
    codes = rng.random(len(cohort))
    candidates = draw_candidate_errors(SOURCE, len(cohort), rng)
    test_week = ks2_test_week(year)
    period = year.label
    rows, truth = [], []
    for index, (pupil, draws, code_draw, wanted) in enumerate(
        zip(cohort, scores.tolist(), codes.tolist(), candidates, strict=True)
    ):
        child = pupil.child
        person, upn, applied = recorded_pupil(child, wanted, chance, not_after=test_week)
        values = {
            "UPN": upn,
            "Surname": person.surname,
            "Forename": person.forename,
            "DOB": dmy(person.date_of_birth),
            "Gender": child.sex,
            "LAEstab": school_dfe_number(child),
            "URN": school_urn(child.school),
            **_results(pupil, draws, code_draw),
        }
        rows.append([values.get(column, "") for column in COLUMNS])
        row_number = index + 2  # the header is row 1
        truth.append(
            TruthRecord(SOURCE, period, row_number, child.child_id, joined_errors(SOURCE, applied))
        )
    path = ks2_file(landing_dir, year)
    remove_csv_files(path.parent)
    write_csv(path, COLUMNS, rows)
    return [path], truth


def _results(pupil: CohortPupil, draws: list[float], code_draw: float) -> dict[str, str]:
    """The pupil's test results and teacher assessments, by column."""
    code = _pupil_code(pupil, code_draw)
    writing_draw = draws[-1]
    if code == "B":
        standard = _pre_key_stage(pupil.attainment)
        results = {f"{test}Outcome": "B" for test in TESTS}
        return {**results, "WritingTA": standard, "ReadingTA": standard, "MathsTA": standard}
    if code is not None:
        results = {f"{test}Outcome": code for test in TESTS}
        # A teacher still judges the writing of a pupil absent in test week.
        writing = _writing(writing_draw) if code in ("A", "U") else "A"
        return {**results, "WritingTA": writing}
    results = {"WritingTA": _writing(writing_draw)}
    for (test, spec), draw in zip(TESTS.items(), draws[: len(TESTS)], strict=True):
        score = round(spec["mean"] + spec["sd"] * draw)
        score = min(HIGHEST_SCORE, max(LOWEST_SCORE, score))
        share = (score - LOWEST_SCORE + 2) / (HIGHEST_SCORE - LOWEST_SCORE + 2)
        results[f"{test}RawScore"] = str(round(spec["marks"] * share**1.4))
        results[f"{test}ScaledScore"] = str(score)
        results[f"{test}Outcome"] = "AS" if score >= EXPECTED_SCORE else "NS"
    return results


def _pupil_code(pupil: CohortPupil, draw: float) -> str | None:
    """The results code a pupil has for every test instead of results, if any."""
    if pupil.attainment < BELOW_TEST_STANDARD and pupil.sen_provision != "N":
        return "B"
    household = pupil.child.household
    arrived = household.arrived_on is not None and household.language not in ENGLISH
    if arrived and draw < JUST_ARRIVED_SHARE_OF_NEW_ARRIVALS:
        return "J"
    if draw < ABSENT_SHARE:
        return "A"
    if draw > 1 - UNABLE_TO_ACCESS_SHARE:
        return "U"
    return None


def _writing(draw: float) -> str:
    if draw >= WRITING_CUTS["GDS"]:
        return "GDS"
    return "EXS" if draw >= WRITING_CUTS["EXS"] else "WTS"


def _pre_key_stage(attainment: float) -> str:
    """The pre-key stage standard of a pupil working below the tests (EM at the lowest)."""
    for standard, floor in PRE_KEY_STAGE:
        if attainment >= floor:
            return standard
    return "EM"
