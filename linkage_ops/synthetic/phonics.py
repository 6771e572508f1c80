"""The phonics screening check as the authority collects it from its schools in June: one CSV of
the year's Year 1 pupils, each with their mark (0-40) and outcome, Wa (met the expected
standard) or Wt, or a code instead of a mark: A absent, D did not take the check
(``linkage_ops/schemas/phonics.yaml``), in the layout of the authority's collection system's
supplier (``school_results``).

Marks follow each pupil's latent attainment (``pupil_attainment``) with the check's own noise.
Ranked by that draw, pupils' marks follow a curve bunched towards 40, with the share at or above
the year's threshold mark (the dbt seed ``phonics_threshold_marks``, 32) about England's: 80% of
all Year 1 pupils met the standard in 2024, counting those absent or not checked.
"""

from __future__ import annotations

import csv
import random
from functools import cache
from pathlib import Path

import numpy as np

from linkage_ops.census_calendar import source_period_end
from linkage_ops.ingest.collection_year import parse_year_label
from linkage_ops.synthetic.health import dmy, school_urn
from linkage_ops.synthetic.population import LA_NUMBER, Population
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
from linkage_ops.synthetic.school_results import (
    SchoolRecord,
    SupplierLayout,
    pick_layout,
    registration_group,
    write_results_file,
)
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "phonics"
NC_YEAR = 1
# The threshold marks are data, kept once, where the warehouse's staging reads them.
THRESHOLD_MARKS = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "phonics_threshold_marks.csv"
)
HIGHEST_MARK = 40
# Of pupils with a mark, the share at or above the threshold (about 80% of all pupils).
MET_SHARE_OF_MARKED = 0.825
CHECK_CORRELATION = 0.8
# Pupils with a code instead of a mark: absent in the check week (and the week after), and
# pupils with SEN working far below the check whom the headteacher decides not to check.
ABSENT_SHARE = 0.012
NOT_CHECKED_BELOW = -2.8
LAYOUTS = (
    SupplierLayout(
        "dfe",
        0.4,
        (
            ("LA", "LA"),
            ("ESTAB", "ESTAB"),
            ("UPN", "UPN"),
            ("SURNAME", "SURNAME"),
            ("FORENAMES", "FORENAMES"),
            ("DOB", "DOB"),
            ("SEX", "SEX"),
            ("NCYEARACTUAL", "NCYEARACTUAL"),
            ("PHONICS_MARK", "PHONICS_MARK"),
            ("PHONICS_OUTCOME", "PHONICS_OUTCOME"),
        ),
    ),
    SupplierLayout(
        "mis",
        0.6,
        (
            ("DfE Number", "LAESTAB"),
            ("URN", "URN"),
            ("UPN", "UPN"),
            ("Legal Surname", "SURNAME"),
            ("Legal Forename", "FORENAMES"),
            ("Date of Birth", "DOB"),
            ("Gender", "SEX"),
            ("Reg Group", "REG_GROUP"),
            ("NC Year", "NCYEARACTUAL"),
            ("Phonics Mark", "PHONICS_MARK"),
            ("Phonics Outcome", "PHONICS_OUTCOME"),
        ),
    ),
)


@cache
def threshold_marks() -> dict[str, int]:
    """The threshold mark of each academic year (``2024-25``: 32)."""
    with THRESHOLD_MARKS.open(encoding="utf-8", newline="") as handle:
        return {row["academic_year"]: int(row["threshold_mark"]) for row in csv.DictReader(handle)}


def threshold_mark(period: str) -> int:
    """The year's threshold mark; before DfE publishes it, the latest earlier year's."""
    marks = threshold_marks()
    known = [year for year in marks if parse_year_label(year) <= parse_year_label(period)]
    if not known:
        raise ValueError(f"no phonics threshold mark for {period} or any year before it")
    return marks[max(known, key=parse_year_label)]


def mark_at(rank_share: float, threshold: int) -> int:
    """The mark of a pupil ranked at ``rank_share`` (0 lowest, 1 highest) among those checked:
    the top ``MET_SHARE_OF_MARKED`` at or above the threshold, bunched towards full marks."""
    lowest_met = 1 - MET_SHARE_OF_MARKED
    if rank_share >= lowest_met:
        above = (rank_share - lowest_met) / MET_SHARE_OF_MARKED
        return min(HIGHEST_MARK, threshold + int((HIGHEST_MARK + 1 - threshold) * above**0.8))
    return int(threshold * (rank_share / lowest_met) ** 0.5)


def phonics_file(landing_dir: Path, year: CollectionYear) -> Path:
    """``landing/phonics/2024-25/phonics_884_2025.csv`` (the name is only a hint)."""
    return landing_dir / SOURCE / year.label / f"phonics_{LA_NUMBER:03d}_{year.start_year + 1}.csv"


def write_phonics(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the phonics screening check results of ``year``'s Year 1, school by school
    (``months`` is ignored), and return the file with one truth row per pupil."""
    period = year.label
    threshold = threshold_mark(period)
    cohort = end_of_key_stage_cohort(population, year, NC_YEAR, rng)
    cohort.sort(key=lambda p: (p.child.school.estab, p.child.surname, p.child.forename))
    draws = subject_draws(cohort, 1, rng, CHECK_CORRELATION)[:, 0].tolist()
    absent = (rng.random(len(cohort)) < ABSENT_SHARE).tolist()
    codes = [_code(pupil, is_absent) for pupil, is_absent in zip(cohort, absent, strict=True)]
    checked = sorted(
        (draw, i) for i, (draw, code) in enumerate(zip(draws, codes, strict=True)) if not code
    )
    rank_shares = {i: (rank + 0.5) / len(checked) for rank, (_, i) in enumerate(checked)}
    candidates = draw_candidate_errors(SOURCE, len(cohort), rng)
    layout = pick_layout(LAYOUTS, rng)
    chance = random.Random(int(rng.integers(1 << 62)))
    checked_by = source_period_end(SOURCE, period)
    records = []
    for index, (pupil, code, wanted) in enumerate(zip(cohort, codes, candidates, strict=True)):
        child = pupil.child
        person, upn, applied = recorded_pupil(child, wanted, chance, not_after=checked_by)
        mark = "" if code else mark_at(rank_shares[index], threshold)
        outcome = code or ("Wa" if mark >= threshold else "Wt")
        values = {
            "LA": f"{LA_NUMBER:03d}",
            "ESTAB": f"{child.school.estab:04d}",
            "LAESTAB": school_dfe_number(child),
            "URN": school_urn(child.school),
            "UPN": upn,
            "SURNAME": person.surname,
            "FORENAMES": person.forename,
            "DOB": dmy(person.date_of_birth),
            "SEX": child.sex,
            "REG_GROUP": registration_group(child, str(NC_YEAR)),
            "NCYEARACTUAL": str(NC_YEAR),
            "PHONICS_MARK": str(mark),
            "PHONICS_OUTCOME": outcome,
        }
        records.append(SchoolRecord(child, values, joined_errors(SOURCE, applied)))
    return write_results_file(SOURCE, period, phonics_file(landing_dir, year), layout, records)


def _code(pupil: CohortPupil, absent: bool) -> str:
    """The outcome code of a pupil with no mark (blank for a pupil checked)."""
    if pupil.sen_provision != "N" and pupil.attainment < NOT_CHECKED_BELOW:
        return "D"
    return "A" if absent else ""
