"""Child deaths: one row per child whose date of death falls in the month."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import HealthYear, RecordingBook, iso, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "deaths"
COLUMNS = load_schema(SOURCE).tables["deaths"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9",)
LAYOUTS = {"plain": 0.9, "spaces": 0.1}


def write_deaths(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``deaths_<YYYY-MM>.csv`` for each month in ``months`` and one truth row per death.

    ``DEATH_ID`` numbers the year's deaths in date order.
    """
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
    died = sorted(
        (c for c in health.population.children if c.child_id in health.death_causes),
        key=lambda c: (c.died_on, c.index),
    )
    numbered = list(enumerate(died, start=1))
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        rows = []
        for death_id, child in numbered:
            if not first <= child.died_on <= last:
                continue
            identity, postcode, errors = book.record(child, child.died_on)
            rows.append(
                (
                    death_id,
                    identity.nhs_number,
                    identity.forename,
                    identity.surname,
                    iso(identity.date_of_birth),
                    iso(child.died_on),
                    identity.sex,
                    postcode,
                    health.death_causes[child.child_id],
                )
            )
            truth.append(TruthRecord(SOURCE, period, death_id, child.child_id, errors))
        paths += write_month(landing_dir, SOURCE, period, [("deaths", COLUMNS, rows)])
    return paths, truth
