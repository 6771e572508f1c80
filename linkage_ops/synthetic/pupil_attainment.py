"""What the end-of-key-stage results files (Key Stage 2, Key Stage 4) share: who is in a
cohort, how well each pupil does given what the population knows about them, and how a school's
record of the pupil carries their identity.

Attainment is one latent score per pupil: standard normal for a pupil with no recorded
disadvantage, lowered by SEN provision, free school meals and social care involvement in the
year (``ATTAINMENT_GAPS``, in standard deviations). Each subject's result is the latent score
plus the subject's own noise, so a pupil who does well in reading tends to do well in maths.
The gaps are set so that the groups land near DfE's published outcomes: about 61% of all pupils
reach the expected standard in reading, writing and maths and about a third of children in need
do (KS2 attainment 2024; Outcomes for children in need, including children looked after), and
Key Stage 4 follows the same ordering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage_ops.synthetic.population import LA_NUMBER, Child, Population
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.social_care import social_care_events

# Lower attainment, in standard deviations of the latent score; the gaps of a pupil's groups add
# up (a looked-after child is also a child in need).
ATTAINMENT_GAPS = {
    "sen_support": -1.0,
    "ehc_plan": -2.0,
    "free_school_meals": -0.45,
    "child_in_need": -0.55,
    "looked_after": -0.35,
}


@dataclass(frozen=True, slots=True)
class CohortPupil:
    """A pupil at the end of a key stage and what the population knows about them."""

    child: Child
    sen_provision: str
    free_school_meals: bool
    child_in_need: bool
    looked_after: bool
    attainment: float


def end_of_key_stage_cohort(
    population: Population,
    year: CollectionYear,
    nc_year: int,
    rng: np.random.Generator,
    gaps: dict[str, float] = ATTAINMENT_GAPS,
) -> list[CohortPupil]:
    """The pupils in national curriculum ``nc_year`` on the roll of an authority school at the
    end of the collection year (the last day the population knows: they sit the tests or exams
    that summer), each with their latent attainment, lowered by the ``gaps`` of their groups."""
    population.require_year(year)
    pupils = [
        child
        for child in population.children
        if child.nc_year == nc_year and child.on_roll_on(year.last_day)
    ]
    events = social_care_events(population, year)
    known = {
        record.child.child_id: record
        for record in events.children
        if record.open_between(year.first_day, year.last_day)
    }
    draws = rng.standard_normal(len(pupils))
    cohort = []
    for child, draw in zip(pupils, draws.tolist(), strict=True):
        record = known.get(child.child_id)
        pupil = CohortPupil(
            child=child,
            sen_provision=child.sen_provision,
            free_school_meals=bool(child.fsm_periods),
            child_in_need=record is not None,
            looked_after=record is not None and record.care is not None,
            attainment=draw,
        )
        cohort.append(_with_gaps(pupil, gaps))
    return cohort


def _with_gaps(pupil: CohortPupil, gaps: dict[str, float]) -> CohortPupil:
    gap = 0.0
    if pupil.sen_provision == "K":
        gap += gaps["sen_support"]
    elif pupil.sen_provision == "E":
        gap += gaps["ehc_plan"]
    if pupil.free_school_meals:
        gap += gaps["free_school_meals"]
    if pupil.child_in_need:
        gap += gaps["child_in_need"]
    if pupil.looked_after:
        gap += gaps["looked_after"]
    return CohortPupil(
        pupil.child,
        pupil.sen_provision,
        pupil.free_school_meals,
        pupil.child_in_need,
        pupil.looked_after,
        pupil.attainment + gap,
    )


def subject_draws(
    cohort: list[CohortPupil], subjects: int, rng: np.random.Generator, r: float
) -> np.ndarray:
    """Per pupil and subject, the latent score with the subject's own noise mixed in so that
    each draw is standard normal for a pupil with no gap and two subjects correlate at r^2."""
    latent = np.array([pupil.attainment for pupil in cohort]).reshape(-1, 1)
    noise = rng.standard_normal((len(cohort), subjects))
    return r * latent + np.sqrt(1 - r * r) * noise


def school_dfe_number(child: Child) -> str:
    """The pupil's school as DfE numbers it: LA number and establishment number (``8842001``)."""
    return f"{LA_NUMBER:03d}{child.school.estab:04d}"
