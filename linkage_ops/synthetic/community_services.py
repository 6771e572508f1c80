"""Community Services Data Set: CYP001MPI patients and CYP201CareContact contacts.

Each provider sends its own MPI: one row per patient with a care contact that month, keyed
by that provider's LocalPatientId (the same in every month). A child seen by both providers
in a month is two person records. Each provider records a child its own way, so recording
errors are drawn per provider and child.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import (
    COMMUNITY_PROVIDERS,
    HealthYear,
    RecordingBook,
    iso,
    school_urn,
    write_month,
)
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "community_services"
SCHEMA = load_schema(SOURCE)
MPI_COLUMNS = SCHEMA.tables["mpi"].column_names
CONTACT_COLUMNS = SCHEMA.tables["care_contacts"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "X")
LAYOUTS = {"plain": 1.0}


def write_community_services(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``CYP001MPI_<YYYY-MM>.csv`` and ``CYP201CareContact_<YYYY-MM>.csv`` per month.

    One truth row per MPI row (record id ``<period>/<LocalPatientId>``); contacts get none.
    """
    providers = sorted(set(COMMUNITY_PROVIDERS.values()))
    books = {
        provider: RecordingBook(SOURCE, health, stream, SEX_CODES, SEX_NOT_KNOWN_CODES, LAYOUTS)
        for provider, stream in zip(providers, rng.spawn(len(providers)), strict=True)
    }
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        contact_rows = []
        patients = {}
        for contact in health.community_contacts:
            if not first <= contact.day <= last:
                continue
            patient_id = health.local_patient_id(contact.provider, contact.child)
            patients.setdefault(patient_id, (contact.provider, contact.child))
            contact_rows.append(
                (
                    contact.contact_id,
                    patient_id,
                    contact.provider,
                    iso(contact.day),
                    contact.service,
                    contact.outcome,
                )
            )
        mpi_rows = []
        for patient_id in sorted(patients):
            provider, child = patients[patient_id]
            day = min(last, child.died_on or last)
            identity, postcode, errors = books[provider].record(child, day)
            mpi_rows.append(
                (
                    patient_id,
                    provider,
                    identity.nhs_number,
                    identity.nhs_number_status,
                    iso(identity.date_of_birth),
                    identity.sex,
                    identity.ethnic_category,
                    postcode,
                    school_urn(child.school) if child.school is not None else "",
                )
            )
            truth.append(TruthRecord(SOURCE, period, patient_id, child.child_id, errors))
        paths += write_month(
            landing_dir,
            SOURCE,
            period,
            [
                ("CYP001MPI", MPI_COLUMNS, mpi_rows),
                ("CYP201CareContact", CONTACT_COLUMNS, contact_rows),
            ],
        )
    return paths, truth
