"""Key Stage 4 results: the authority's pupil-level GCSE results file for its schools' Year 11
(``linkage_ops/schemas/ks4.yaml``), one row per pupil with Attainment 8, Progress 8 where DfE
calculates it, EBacc entry and average point score, and the English language, English
literature and maths grades.

Attainment 8 is worked out from the pupil's slots as DfE's secondary accountability measures
guide does: the English slot (the better of language and literature, counted twice only when
the pupil took both) and maths counted twice, three EBacc slots and three open slots, points 9
to 1 for grades 9 to 1 and none for U. Grades follow the pupil's latent attainment
(``pupil_attainment``): on average about 46 points of Attainment 8, about 65% with grade 4 or
above in English and maths and about 45% grade 5 or above, as in England in 2024; children in
need and looked after far lower.

Record ids are ``<period>/<row number in the file>``: the file has no id of its own (candidate
numbers repeat between schools).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import dmy, school_urn
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.pupil_attainment import (
    ATTAINMENT_GAPS,
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
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "ks4"
COLUMNS = load_schema(SOURCE).tables["results"].column_names
NC_YEAR = 11
# By 16 the gaps have widened: children in need and looked after have missed more school
# (DfE's outcomes for children in need: Attainment 8 about half the average).
KS4_GAPS = {**ATTAINMENT_GAPS, "ehc_plan": -2.3, "child_in_need": -0.95, "looked_after": -0.6}
# Grade points for a pupil with no attainment gap: mean and spread of each subject's points
# before rounding to a grade (under 0.5 is a U).
GRADE_MEAN, GRADE_SD = 5.25, 1.9
SUBJECT_CORRELATION = 0.88
# The subjects drawn per pupil: English language, English literature, maths, three EBacc slots
# (sciences, humanities, languages) and three open slots.
ENGLISH_LANGUAGE, ENGLISH_LITERATURE, MATHS = 0, 1, 2
EBACC_SLOTS, OPEN_SLOTS = (3, 4, 5), (6, 7, 8)
SUBJECTS = 9
# Pupils who take no English literature GCSE, and pupils who fill fewer EBacc or open slots
# (each missing slot scores nothing): more often the lower attaining.
NO_LITERATURE_SHARE = 0.04
UNFILLED_SLOT_SHARE = 0.08
# Entered for every EBacc pillar (English, maths, two sciences, a humanity and a language):
# about 40% of pupils, the higher attaining more often.
EBACC_ENTRY_CUT = -0.25
# Pupils entered for no GCSEs (working well below, most with an EHC plan); pupils with no
# result in a subject (X, absent from every paper), more often children in need; results
# still pending (Q).
NO_GCSES_BELOW = -3.2
ABSENT_SHARE = {"child_in_need": 0.06, "other": 0.008}
PENDING_SHARE = 0.002
# DfE calculates no Progress 8 for these years: their pupils sat no Key Stage 2 tests (2020
# and 2021 were cancelled).
NO_PROGRESS_8 = frozenset({"2024-25", "2025-26"})


@dataclass(frozen=True, slots=True)
class Grades:
    """A pupil's GCSE grades by slot ('' not entered, U, X, Q or 9-1) and their measures."""

    grades: list[str]
    attainment_8: float
    ebacc_entered: bool
    ebacc_aps: float


def ks4_file(landing_dir: Path, year: CollectionYear) -> Path:
    """``landing/ks4/2024-25/ks4_results_2025.csv``."""
    return landing_dir / SOURCE / year.label / f"ks4_results_{year.start_year + 1}.csv"


def write_ks4(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the Key Stage 4 results of ``year``'s Year 11 (``months`` is ignored) and return
    the file with one truth row per pupil."""
    cohort = end_of_key_stage_cohort(population, year, NC_YEAR, rng, KS4_GAPS)
    cohort.sort(key=lambda p: (p.child.school.estab, p.child.surname, p.child.forename))
    chance = random.Random(int(rng.integers(1 << 62)))
    draws = subject_draws(cohort, SUBJECTS, rng, SUBJECT_CORRELATION)
    chances = rng.random((len(cohort), SUBJECTS + 1))
    prior = rng.standard_normal(len(cohort))
    candidates = draw_candidate_errors(SOURCE, len(cohort), rng)
    period = year.label
    # The last GCSE exams are in late June: no record may give a later birth date.
    exam_end = date(year.start_year + 1, 6, 30)
    candidate_numbers: dict[int, int] = {}
    rows, truth = [], []
    for index, pupil in enumerate(cohort):
        child = pupil.child
        person, upn, applied = recorded_pupil(child, candidates[index], chance, exam_end)
        result = _grades(pupil, draws[index].tolist(), chances[index].tolist())
        number = candidate_numbers.get(child.school.estab, 0) + 1
        candidate_numbers[child.school.estab] = number
        progress_8 = ""
        if period not in NO_PROGRESS_8 and result.grades[MATHS]:
            # Against pupils nationally with the same Key Stage 2 results (an estimate of the
            # pupil's prior attainment from the latent score), a tenth of the difference.
            estimate = 46 + 13 * (0.8 * pupil.attainment + 0.6 * float(prior[index]))
            progress_8 = f"{(result.attainment_8 - estimate) / 10:.2f}"
        values = {
            "UPN": upn,
            "ULN": child.uln,
            "CandidateNumber": f"{number:04d}",
            "Surname": person.surname,
            "Forename": person.forename,
            "DOB": dmy(person.date_of_birth),
            "Gender": child.sex,
            "LAEstab": school_dfe_number(child),
            "URN": school_urn(child.school),
            "Attainment8": _points(result.attainment_8),
            "Progress8": progress_8,
            "EBaccEntered": "1" if result.ebacc_entered else "0",
            "EBaccAPS": f"{result.ebacc_aps:.2f}",
            "EnglishLanguageGrade": result.grades[ENGLISH_LANGUAGE],
            "EnglishLiteratureGrade": result.grades[ENGLISH_LITERATURE],
            "MathsGrade": result.grades[MATHS],
        }
        rows.append([values.get(column, "") for column in COLUMNS])
        truth.append(
            TruthRecord(SOURCE, period, index + 2, child.child_id, joined_errors(SOURCE, applied))
        )
    path = ks4_file(landing_dir, year)
    remove_csv_files(path.parent)
    write_csv(path, COLUMNS, rows)
    return [path], truth


def _grades(pupil: CohortPupil, draws: list[float], chances: list[float]) -> Grades:
    """The pupil's grade in each slot and their Attainment 8, EBacc entry and EBacc APS."""
    if pupil.attainment < NO_GCSES_BELOW:
        return Grades([""] * SUBJECTS, 0.0, False, 0.0)
    absent = ABSENT_SHARE["child_in_need" if pupil.child_in_need else "other"]
    grades = []
    for slot, (draw, roll) in enumerate(zip(draws, chances[:SUBJECTS], strict=True)):
        unfilled = NO_LITERATURE_SHARE if slot == ENGLISH_LITERATURE else UNFILLED_SLOT_SHARE
        if slot not in (ENGLISH_LANGUAGE, MATHS) and roll < unfilled * (1 - min(draw, 1.0)):
            grades.append("")
        elif roll > 1 - absent:
            grades.append("X")
        elif roll > 1 - absent - PENDING_SHARE:
            grades.append("Q")
        else:
            points = GRADE_MEAN + GRADE_SD * draw
            grades.append("U" if points < 0.5 else str(min(9, max(1, round(points)))))
    points = [_grade_points(grade) for grade in grades]
    english = max(points[ENGLISH_LANGUAGE], points[ENGLISH_LITERATURE])
    both_english = all(_taken(grades[s]) for s in (ENGLISH_LANGUAGE, ENGLISH_LITERATURE))
    attainment_8 = (
        english * (2 if both_english else 1)
        + 2 * points[MATHS]
        + sum(points[s] for s in EBACC_SLOTS)
        # The English subject not counted in the English slot may fill an open slot.
        + sum(
            sorted(
                [points[s] for s in OPEN_SLOTS]
                + [min(points[ENGLISH_LANGUAGE], points[ENGLISH_LITERATURE])],
                reverse=True,
            )[:3]
        )
    )
    entered = pupil.attainment + chances[SUBJECTS] - 0.5 > EBACC_ENTRY_CUT and all(
        _taken(grades[s]) for s in (ENGLISH_LANGUAGE, MATHS, *EBACC_SLOTS)
    )
    # The five pillars: English, maths, science, humanities, languages (absent ones count 0).
    ebacc_aps = (english + points[MATHS] + sum(points[s] for s in EBACC_SLOTS)) / 5
    return Grades(grades, attainment_8, entered, ebacc_aps)


def _taken(grade: str) -> bool:
    """Sat and graded (a U is a result; X, Q and no entry are not)."""
    return grade not in ("", "X", "Q")


def _grade_points(grade: str) -> float:
    return float(grade) if grade.isdigit() else 0.0


def _points(value: float) -> str:
    """``47.5``, ``48``, ``0``: two decimal places at most, no trailing zeros."""
    return f"{round(value, 2):g}"
