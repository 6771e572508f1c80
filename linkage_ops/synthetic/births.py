"""Birth notifications: one row per baby born in the month, with the mother's details.

The baby is the person record (one truth row each); the mother is not a child of the
authority and is never linked, so she gets no truth row.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import HealthYear, RecordingBook, iso, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "births"
COLUMNS = load_schema(SOURCE).tables["births"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9",)
# Maternity systems take the number straight from the NHS number allocation: always plain.
LAYOUTS = {"plain": 1.0}


def write_births(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``births_<YYYY-MM>.csv`` for each month in ``months`` and the babies' truth rows.

    ``BIRTH_ID`` numbers the year's births in date order, so a baby keeps its id whichever
    months are written.
    """
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
    numbered = list(enumerate(health.births, start=1))
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        rows = []
        for birth_id, birth in numbered:
            baby = birth.child
            if not first <= baby.date_of_birth <= last:
                continue
            identity, postcode, errors = book.record(baby, baby.date_of_birth)
            rows.append(
                (
                    birth_id,
                    identity.nhs_number,
                    iso(baby.date_of_birth),  # the notification's own date is never wrong
                    identity.sex,
                    birth.birth_weight_grams,
                    birth.gestation_weeks,
                    birth.mother_nhs_number,
                    iso(birth.mother_date_of_birth),
                    postcode,
                )
            )
            truth.append(TruthRecord(SOURCE, period, birth_id, baby.child_id, errors))
        paths += write_month(landing_dir, SOURCE, period, [("births", COLUMNS, rows)])
    return paths, truth
