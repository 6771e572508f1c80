"""Emergency Care Data Set (A&E): one row per attendance, each a person record."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import ACUTE_TRUST, HealthYear, RecordingBook, iso, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "emergency_care"
COLUMNS = load_schema(SOURCE).tables["attendances"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "X")
LAYOUTS = {"plain": 1.0}


def write_emergency_care(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``ecds_<YYYY-MM>.csv`` (attendances arriving in the month) and a truth row each."""
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        rows = []
        for attendance in health.attendances:
            if not first <= attendance.arrival_date <= last:
                continue
            child = attendance.child
            identity, postcode, errors = book.record(child, attendance.arrival_date)
            rows.append(
                (
                    attendance.attendance_id,
                    ACUTE_TRUST,
                    identity.nhs_number,
                    iso(identity.date_of_birth),
                    identity.sex,
                    identity.ethnic_category,
                    postcode,
                    iso(attendance.arrival_date),
                    attendance.arrival_time,
                    attendance.chief_complaint,
                    attendance.diagnosis,
                    "Y" if attendance.safeguarding_concern else "N",
                )
            )
            truth.append(
                TruthRecord(SOURCE, period, attendance.attendance_id, child.child_id, errors)
            )
        paths += write_month(landing_dir, SOURCE, period, [("ecds", COLUMNS, rows)])
    return paths, truth
