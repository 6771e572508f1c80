"""SUS / HES admitted patient care: one row per episode admitted in the month.

A fifth of children's episodes reach the authority pseudonymised (``NEWNHSNO`` blank); the
share is persistent per child, like the recording errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import ACUTE_TRUST, HealthYear, RecordingBook, iso, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "admitted_care"
COLUMNS = load_schema(SOURCE).tables["episodes"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "0")
LAYOUTS = {"plain": 1.0}
DIAGNOSIS_COLUMNS = 3


def write_admitted_care(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``sus_apc_<YYYY-MM>.csv`` for each month and a truth row per episode.

    ``DISDATE`` is blank while the child is still in hospital at the end of the month.
    """
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        rows = []
        for episode in health.admissions:
            if not first <= episode.admitted <= last:
                continue
            child = episode.child
            identity, postcode, errors = book.record(child, episode.admitted)
            diagnoses = list(episode.diagnoses[:DIAGNOSIS_COLUMNS])
            diagnoses += [""] * (DIAGNOSIS_COLUMNS - len(diagnoses))
            rows.append(
                (
                    episode.episode_key,
                    ACUTE_TRUST,
                    identity.nhs_number,
                    iso(identity.date_of_birth),
                    identity.sex,
                    identity.ethnic_category,
                    postcode,
                    iso(episode.admitted),
                    iso(episode.discharged) if episode.discharged <= last else "",
                    *diagnoses,
                )
            )
            truth.append(TruthRecord(SOURCE, period, episode.episode_key, child.child_id, errors))
        paths += write_month(landing_dir, SOURCE, period, [("sus_apc", COLUMNS, rows)])
    return paths, truth
