"""CAMHS (Mental Health Services Data Set): MHS001MPI patients and MHS101Referral referrals.

A referral appears in every monthly extract from the month it is received until the month
it is discharged; the MPI holds one row per patient with such a referral, keyed by the
provider's LocalPatientId, which never changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import CAMHS_PROVIDER, HealthYear, RecordingBook, iso, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "camhs"
SCHEMA = load_schema(SOURCE)
MPI_COLUMNS = SCHEMA.tables["mpi"].column_names
REFERRAL_COLUMNS = SCHEMA.tables["referrals"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "X")
LAYOUTS = {"plain": 1.0}


def write_camhs(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``MHS001MPI_<YYYY-MM>.csv`` and ``MHS101Referral_<YYYY-MM>.csv`` for each month.

    One truth row per MPI row (record id ``<period>/<LocalPatientId>``); referrals are events
    and get none.
    """
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
    provider = CAMHS_PROVIDER
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        referral_rows = []
        patients = {}
        for referral in health.camhs_referrals:
            discharged = referral.discharged
            if referral.received > last or (discharged is not None and discharged < first):
                continue
            child = referral.child
            patient_id = health.local_patient_id(provider, child)
            patients.setdefault(patient_id, child)
            contact = referral.first_contact
            referral_rows.append(
                (
                    f"{provider}SR{referral.referral_id:06d}",
                    provider,
                    patient_id,
                    iso(referral.received),
                    referral.source,
                    referral.team_type,
                    iso(contact) if contact is not None and contact <= last else "",
                    iso(discharged) if discharged is not None and discharged <= last else "",
                )
            )
        mpi_rows = []
        for patient_id in sorted(patients):
            child = patients[patient_id]
            day = min(last, child.died_on or last)
            identity, postcode, errors = book.record(child, day)
            mpi_rows.append(
                (
                    patient_id,
                    provider,
                    identity.nhs_number,
                    iso(identity.date_of_birth),
                    identity.sex,
                    identity.ethnic_category,
                    postcode,
                )
            )
            truth.append(TruthRecord(SOURCE, period, patient_id, child.child_id, errors))
        paths += write_month(
            landing_dir,
            SOURCE,
            period,
            [
                ("MHS001MPI", MPI_COLUMNS, mpi_rows),
                ("MHS101Referral", REFERRAL_COLUMNS, referral_rows),
            ],
        )
    return paths, truth
