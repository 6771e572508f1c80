"""Child Health Information System (CHIS): one row per event on a child's record that month.

Events are immunisations, development reviews and new entries (a birth notification, or a
family moving into the area). Each row repeats the child's identifying fields, the GP
practice and the school, so each row is a person record.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import HealthYear, RecordingBook, dmy, school_urn, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "child_health"
COLUMNS = load_schema(SOURCE).tables["events"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "0")
LAYOUTS = {"plain": 0.6, "spaces": 0.4}


def write_child_health(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``chis_<YYYY-MM>.csv`` for each month and a truth row per event row.

    ``EVENT_ID`` numbers the year's events in date order.
    """
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
    numbered = list(enumerate(health.child_health_events, start=1))
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        rows = []
        for event_id, event in numbered:
            if not first <= event.day <= last:
                continue
            child = event.child
            identity, postcode, errors = book.record(child, event.day)
            rows.append(
                (
                    event_id,
                    identity.nhs_number,
                    identity.forename,
                    identity.surname,
                    dmy(identity.date_of_birth),
                    identity.sex,
                    postcode,
                    health.practice_codes[child.household.household_id],
                    school_urn(child.school) if child.school is not None else "",
                    event.event_type,
                    event.event_code,
                    dmy(event.day),
                )
            )
            truth.append(TruthRecord(SOURCE, period, event_id, child.child_id, errors))
        paths += write_month(landing_dir, SOURCE, period, [("chis", COLUMNS, rows)])
    return paths, truth
