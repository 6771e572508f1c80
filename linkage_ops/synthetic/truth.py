"""The ground truth: who each child really is and which child each source record belongs to.

Only evaluation reads these files; no pipeline asset may use them to link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from linkage_ops.synthetic.output import write_csv
from linkage_ops.synthetic.population import Population

CHILDREN_COLUMNS = (
    "child_id",
    "household_id",
    "forename",
    "middle_names",
    "surname",
    "date_of_birth",
    "sex",
    "ethnicity",
    "upn",
    "nhs_number",
    "postcode",
    "previous_postcode",
    "moved_on",
    "twin_of",
    # The year of life: a death, a family moving into or out of the authority, and a pupil
    # leaving for a school outside it.
    "died_on",
    "moved_into_authority_on",
    "moved_out_of_authority_on",
    "left_la_school_on",
)
RECORDS_COLUMNS = ("source", "period", "source_record_id", "child_id", "errors")


@dataclass(frozen=True, slots=True)
class TruthRecord:
    """One landing record and the child it belongs to.

    ``record_id`` is the record's id within its period (a table id, which may be opaque text,
    or a string such as ``leaver-<id>``); ``source_record_id`` is ``<period>/<record_id>``,
    exactly as the source's staging model builds it.
    """

    source: str
    period: str
    record_id: int | str
    child_id: str
    errors: str

    @property
    def source_record_id(self) -> str:
        return f"{self.period}/{self.record_id}"


def write_truth_children(populations: list[Population], path: Path) -> int:
    """``truth/children.csv``: one row per child of any of the years (``populations``, oldest
    first), as they really are at the end of the last year they were in."""
    latest = {c.child_id: c for population in populations for c in population.children}

    def iso(day: date | None) -> str:
        return day.isoformat() if day else ""

    def rows():
        for child in latest.values():
            household = child.household
            previous = household.previous_address
            yield (
                child.child_id,
                household.household_id,
                child.forename,
                child.middle_names,
                child.surname,
                child.date_of_birth.isoformat(),
                child.sex,
                child.ethnicity,
                child.upn,
                child.nhs_number,
                household.address.postcode,
                previous.postcode if previous else "",
                iso(household.moved_on),
                child.twin_of,
                iso(child.died_on),
                iso(household.arrived_on),
                iso(household.left_on),
                iso(child.left_school_on),
            )

    return write_csv(path, CHILDREN_COLUMNS, rows())


def write_truth_records(records: list[TruthRecord], path: Path) -> int:
    """``truth/records.csv``: one row per landing record, naming its child and its errors."""
    return write_csv(
        path,
        RECORDS_COLUMNS,
        ((r.source, r.period, r.source_record_id, r.child_id, r.errors) for r in records),
    )
