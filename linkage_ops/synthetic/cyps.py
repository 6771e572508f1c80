"""Children and Young People's Service: one row per referral open in the month.

A referral reappears every month until it is closed; each row carries the child's
identifying fields, so each row is a person record.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.health import HealthYear, RecordingBook, dmy, write_month
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "cyps"
COLUMNS = load_schema(SOURCE).tables["referrals"].column_names
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "0")


def write_cyps(
    health: HealthYear, months: Iterable[str], landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write ``cyps_referrals_<YYYY-MM>.csv`` for each month and a truth row per row."""
    book = RecordingBook(SOURCE, health, rng, SEX_CODES, SEX_NOT_KNOWN_CODES)
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        first, last = health.check_month(period)
        rows = []
        for referral in health.cyps_referrals:
            if referral.received > last or (
                referral.closed is not None and referral.closed < first
            ):
                continue
            child = referral.child
            identity, postcode, errors = book.record(child, min(last, referral.closed or last))
            contact = referral.first_contact
            rows.append(
                (
                    referral.referral_id,
                    identity.nhs_number,
                    identity.forename,
                    identity.surname,
                    dmy(identity.date_of_birth),
                    identity.sex,
                    postcode,
                    dmy(referral.received),
                    referral.reason,
                    dmy(contact) if contact is not None and contact <= last else "",
                    dmy(referral.closed)
                    if referral.closed is not None and referral.closed <= last
                    else "",
                )
            )
            truth.append(TruthRecord(SOURCE, period, referral.referral_id, child.child_id, errors))
        paths += write_month(landing_dir, SOURCE, period, [("cyps_referrals", COLUMNS, rows)])
    return paths, truth
