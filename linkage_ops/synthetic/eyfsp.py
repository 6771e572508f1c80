"""The Early Years Foundation Stage Profile as the authority collects it from its schools at the
end of the summer term: one CSV of the year's Reception children, each early learning goal (ELG)
1 emerging or 2 expected (``linkage_ops/schemas/eyfsp.yaml``), in the layout of the authority's
collection system's supplier (``school_results``).

Outcomes follow each child's latent attainment (``pupil_attainment``: lower with SEN
provision, free school meals and social care involvement). Each goal is the latent score with
the goal's own noise; a child is at the expected level where that draw clears the goal's cut,
set so that the share at the expected level is England's (``EXPECTED_SHARES``). Teachers'
judgements across goals go together closely (``GOAL_CORRELATION``), which puts about 68% of
children at a good level of development, as in England in 2023-24 (67.7%).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from linkage_ops.census_calendar import source_period_end
from linkage_ops.synthetic.health import dmy, school_urn
from linkage_ops.synthetic.population import LA_NUMBER, Population
from linkage_ops.synthetic.pupil_attainment import (
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

SOURCE = "eyfsp"
NC_YEAR = 0  # Reception
# Share of children at the expected level in each goal: roughly England's in 2022-23 and
# 2023-24 (EYFSP statistics), lowest in writing.
EXPECTED_SHARES = {
    "COM_E01": 0.832,  # listening, attention and understanding
    "COM_E02": 0.839,  # speaking
    "PSE_E03": 0.848,  # self-regulation
    "PSE_E04": 0.874,  # managing self
    "PSE_E05": 0.886,  # building relationships
    "PHY_E06": 0.914,  # gross motor skills
    "PHY_E07": 0.841,  # fine motor skills
    "LIT_E08": 0.816,  # comprehension
    "LIT_E09": 0.768,  # word reading
    "LIT_E10": 0.713,  # writing
    "MAT_E11": 0.787,  # number
    "MAT_E12": 0.779,  # numerical patterns
    "UTW_E13": 0.829,  # past and present
    "UTW_E14": 0.832,  # people, culture and communities
    "UTW_E15": 0.848,  # the natural world
    "EXP_E16": 0.862,  # creating with materials
    "EXP_E17": 0.859,  # being imaginative and expressive
}
GOAL_CORRELATION = 0.97
EMERGING, EXPECTED, NOT_ASSESSED = "1", "2", "A"
# Children with an exemption (every goal A): very rare.
EXEMPT_SHARE = 0.002
LAYOUTS = (
    SupplierLayout(
        "dfe",
        0.4,
        (
            ("LA", "LA"),
            ("ESTAB", "ESTAB"),
            ("UPN", "UPN"),
            ("SURNAME", "SURNAME"),
            ("FORENAME", "FORENAME"),
            ("DOB", "DOB"),
            ("SEX", "SEX"),
            *((goal, goal) for goal in EXPECTED_SHARES),
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
            ("Legal Forename", "FORENAME"),
            ("Date of Birth", "DOB"),
            ("Gender", "SEX"),
            ("Postcode", "POSTCODE"),
            ("Reg Group", "REG_GROUP"),
            ("Listening, Attention and Understanding", "COM_E01"),
            ("Speaking", "COM_E02"),
            ("Self-Regulation", "PSE_E03"),
            ("Managing Self", "PSE_E04"),
            ("Building Relationships", "PSE_E05"),
            ("Gross Motor Skills", "PHY_E06"),
            ("Fine Motor Skills", "PHY_E07"),
            ("Comprehension", "LIT_E08"),
            ("Word Reading", "LIT_E09"),
            ("Writing", "LIT_E10"),
            ("Number", "MAT_E11"),
            ("Numerical Patterns", "MAT_E12"),
            ("Past and Present", "UTW_E13"),
            ("People, Culture and Communities", "UTW_E14"),
            ("The Natural World", "UTW_E15"),
            ("Creating with Materials", "EXP_E16"),
            ("Being Imaginative and Expressive", "EXP_E17"),
        ),
    ),
)


def eyfsp_file(landing_dir: Path, year: CollectionYear) -> Path:
    """``landing/eyfsp/2024-25/EYFSP_884_2025.csv`` (the name is only a hint to the loader)."""
    return landing_dir / SOURCE / year.label / f"EYFSP_{LA_NUMBER:03d}_{year.start_year + 1}.csv"


def write_eyfsp(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the EYFS profiles of ``year``'s Reception children, school by school (``months``
    is ignored), and return the file with one truth row per child."""
    period = year.label
    cohort = end_of_key_stage_cohort(population, year, NC_YEAR, rng)
    # Schools list their children by name.
    cohort.sort(key=lambda p: (p.child.school.estab, p.child.surname, p.child.forename))
    draws = subject_draws(cohort, len(EXPECTED_SHARES), rng, GOAL_CORRELATION)
    # Each goal's cut: the share at the expected level is England's.
    cuts = (
        np.quantile(draws, [1 - share for share in EXPECTED_SHARES.values()], axis=0).diagonal()
        if cohort
        else np.zeros(len(EXPECTED_SHARES))
    )
    exempt = rng.random(len(cohort)) < EXEMPT_SHARE
    candidates = draw_candidate_errors(SOURCE, len(cohort), rng)
    layout = pick_layout(LAYOUTS, rng)
    chance = random.Random(int(rng.integers(1 << 62)))
    assessed_by = source_period_end(SOURCE, period)
    records = []
    for pupil, goal_draws, is_exempt, wanted in zip(
        cohort, draws.tolist(), exempt.tolist(), candidates, strict=True
    ):
        child = pupil.child
        person, upn, applied = recorded_pupil(child, wanted, chance, not_after=assessed_by)
        outcomes = {
            goal: NOT_ASSESSED if is_exempt else EXPECTED if draw >= cut else EMERGING
            for goal, draw, cut in zip(EXPECTED_SHARES, goal_draws, cuts.tolist(), strict=True)
        }
        values = {
            "LA": f"{LA_NUMBER:03d}",
            "ESTAB": f"{child.school.estab:04d}",
            "LAESTAB": school_dfe_number(child),
            "URN": school_urn(child.school),
            "UPN": upn,
            "SURNAME": person.surname,
            "FORENAME": person.forename,
            "DOB": dmy(person.date_of_birth),
            "SEX": child.sex,
            "POSTCODE": child.household.address.postcode,
            "REG_GROUP": registration_group(child, "R"),
            **outcomes,
        }
        records.append(SchoolRecord(child, values, joined_errors(SOURCE, applied)))
    return write_results_file(SOURCE, period, eyfsp_file(landing_dir, year), layout, records)
