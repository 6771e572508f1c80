"""The School Census returns as the authority receives them: Blade CSV tables per term.

The collection year holds two census terms, autumn and spring (summer falls after 31 March).
Each term has ``schoolcensus`` (one row per school), ``pupilonroll`` (one row per pupil on roll
on census day), ``addresses`` (one per pupil) and ``fsmperiod`` (free school meal periods);
spring adds ``senneeds`` (types of need of pupils with SEN provision) and
``pupilnolongeronroll`` (pupils on roll in autumn who left before spring).

A school's record of a pupil is persistent: the same UPN, names and birth date, with the same
recording errors, in both terms. Table ids are numbered afresh in each term's export.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import LA_NUMBER, Child, Population
from linkage_ops.synthetic.recording_errors import (
    RecordedPerson,
    draw_candidate_errors,
    joined_errors,
    record_person,
    wrong_check_letter,
)
from linkage_ops.synthetic.school_year import CensusPeriod, CollectionYear, nc_year_label
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "school_census"
UK_COUNTRY = "ENG"
# Month abbreviations written out so the output does not depend on the machine's locale.
BLADE_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Tables only the spring return carries.
SPRING_ONLY_TABLES = frozenset({"senneeds", "pupilnolongeronroll"})
# A leaver's record id within its period, so it never collides with a pupil on roll's.
LEAVER_RECORD_PREFIX = "leaver-"

# The columns are the loader's own schema, so the writer and the reader cannot drift apart.
TABLE_COLUMNS: dict[str, list[str]] = load_schema(SOURCE).columns_by_table


@dataclass(slots=True)
class PupilRecord:
    """A school's record of one pupil: the same in every term's return."""

    child: Child
    person: RecordedPerson
    upn: str
    errors: list[str]


def blade_date(day: date | None) -> str:
    """Blade's date format, ``2024-Oct-03 00:00:00``; blank for no date."""
    if day is None:
        return ""
    return f"{day.year:04d}-{BLADE_MONTHS[day.month - 1]}-{day.day:02d} 00:00:00"


def blade_bool(value: bool) -> str:
    """Blade's booleans, ``True``/``False``."""
    return "True" if value else "False"


def census_folder(landing_dir: Path, period: CensusPeriod) -> Path:
    """``landing/school_census/<period>``."""
    return landing_dir / SOURCE / period.label


def census_file(landing_dir: Path, period: CensusPeriod, table: str) -> Path:
    """``landing/school_census/2024-autumn/2024_autumn_pupilonroll.csv``."""
    return census_folder(landing_dir, period) / f"{period.year}_{period.term}_{table}.csv"


def leaving_date(child: Child, after: date) -> date | None:
    """The day a pupil on roll on ``after`` stopped being on roll (died, family moved out of
    the authority, or moved to a school outside it), if that happened later."""
    endings = [
        day
        for day in (child.died_on, child.household.left_on, child.left_school_on)
        if day is not None and day > after
    ]
    return min(endings) if endings else None


def write_school_census(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the autumn and spring returns of ``year`` and return the files with their truth.

    ``months`` is ignored (the census is termly). Truth ids are ``<period>/<pupilonrolltableid>``
    for pupils on roll and ``<period>/leaver-<pupilnolongeronrolltableid>`` for leavers.
    """
    population.require_year(year)
    records = _pupil_records(population, rng)
    autumn, spring = year.census_periods
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    on_roll_in_autumn: list[PupilRecord] = []
    for period in (autumn, spring):
        day = period.census_day
        on_roll = [r for r in records if r.child.on_roll_on(day)]
        tables = [
            t for t in TABLE_COLUMNS if period.term == "spring" or t not in SPRING_ONLY_TABLES
        ]
        folder = census_folder(landing_dir, period)
        remove_csv_files(folder)
        files = {table: census_file(landing_dir, period, table) for table in tables}
        _write_term(population, period, on_roll, files)
        truth += [
            TruthRecord(SOURCE, period.label, i, r.child.child_id, joined_errors(SOURCE, r.errors))
            for i, r in enumerate(on_roll, 1)
        ]
        if period.term == "spring":
            leavers = [r for r in on_roll_in_autumn if not r.child.on_roll_on(day)]
            write_csv(
                files["pupilnolongeronroll"],
                TABLE_COLUMNS["pupilnolongeronroll"],
                (_leaver_row(i, r, autumn.census_day) for i, r in enumerate(leavers, 1)),
            )
            write_csv(files["senneeds"], TABLE_COLUMNS["senneeds"], _sen_need_rows(on_roll))
            truth += [
                TruthRecord(
                    SOURCE,
                    period.label,
                    f"{LEAVER_RECORD_PREFIX}{i}",
                    r.child.child_id,
                    joined_errors(SOURCE, r.errors),
                )
                for i, r in enumerate(leavers, 1)
            ]
        on_roll_in_autumn = on_roll
        paths += [files[table] for table in tables]
    return paths, truth


def _pupil_records(population: Population, rng: np.random.Generator) -> list[PupilRecord]:
    """Each pupil's record as their school keeps it, errors drawn once per pupil, in the order
    schools export pupils: by school, year group and name."""
    chance = random.Random(int(rng.integers(1 << 62)))
    pupils = [c for c in population.children if c.is_pupil]
    candidates = draw_candidate_errors(SOURCE, len(pupils), rng)
    records = []
    for child, wanted in zip(pupils, candidates, strict=True):
        # The school took the birth date down when the pupil joined.
        person, applied = record_person(child, wanted, chance, not_after=child.entry_date)
        upn = child.upn
        if "missing_upn" in wanted:
            upn = ""
            applied.append("missing_upn")
        elif "upn_wrong_check_letter" in wanted:
            upn = wrong_check_letter(child.upn, chance)
            applied.append("upn_wrong_check_letter")
        records.append(PupilRecord(child, person, upn, applied))
    records.sort(
        key=lambda r: (
            r.child.school.table_id,
            r.child.nc_year,
            r.person.surname,
            r.person.forename,
            r.child.index,
        )
    )
    return records


def _write_term(
    population: Population,
    period: CensusPeriod,
    on_roll: list[PupilRecord],
    files: dict[str, Path],
) -> None:
    day = period.census_day
    write_csv(
        files["schoolcensus"],
        TABLE_COLUMNS["schoolcensus"],
        (
            (
                s.table_id,
                s.table_id,
                s.table_id,
                s.table_id,
                period.term_code,
                period.year,
                blade_date(day),
                s.estab,
                LA_NUMBER,
            )
            for s in population.schools
        ),
    )
    write_csv(
        files["pupilonroll"],
        TABLE_COLUMNS["pupilonroll"],
        (_pupil_row(i, r) for i, r in enumerate(on_roll, 1)),
    )
    write_csv(
        files["addresses"],
        TABLE_COLUMNS["addresses"],
        (_address_row(i, r.child, day) for i, r in enumerate(on_roll, 1)),
    )
    write_csv(files["fsmperiod"], TABLE_COLUMNS["fsmperiod"], _fsm_rows(on_roll, day))


def _pupil_fields(record: PupilRecord) -> tuple:
    """The pupil columns between the table's four id columns and ``schoolcensustableid``."""
    child, person = record.child, record.person
    return (
        record.upn,
        child.former_upn,
        child.uln,
        person.surname,
        person.forename,
        person.middle_names,
        person.preferred_surname,
        person.former_surname,
        blade_date(person.date_of_birth),
        child.sex,
        child.ethnicity,
        child.language,
        child.enrol_status,
        child.sen_provision,
        nc_year_label(child.nc_year),
        blade_date(child.entry_date),
        blade_bool(child.part_time),
        child.plaa,
        blade_bool(child.young_carer),
        blade_bool(child.household.service_family),
    )


def _pupil_row(table_id: int, record: PupilRecord) -> tuple:
    school_id = record.child.school.table_id
    return (table_id, table_id, table_id, school_id, *_pupil_fields(record), school_id)


def _leaver_row(table_id: int, record: PupilRecord, autumn_census_day: date) -> tuple:
    school_id = record.child.school.table_id
    return (
        table_id,
        table_id,
        table_id,
        school_id,
        *_pupil_fields(record),
        blade_date(leaving_date(record.child, autumn_census_day)),
        nc_year_label(record.child.nc_year),
        school_id,
    )


def _address_row(table_id: int, child: Child, day: date) -> tuple:
    address = child.household.address_on(day)
    return (
        table_id,
        table_id,
        table_id,
        child.school.table_id,
        address.postcode,
        address.uprn,
        address.saon,
        address.paon,
        address.street,
        address.locality,
        address.town,
        address.posttown,
        address.administrative_area,
        table_id,
    )


def _fsm_rows(on_roll: list[PupilRecord], day: date):
    """Periods begun by census day; an end date not yet reached is not known, so blank."""
    row_id = 0
    for pupil_id, record in enumerate(on_roll, 1):
        for start, end in record.child.fsm_periods:
            if start > day:
                continue
            row_id += 1
            yield (
                row_id,
                row_id,
                row_id,
                record.child.school.table_id,
                blade_date(start),
                blade_date(end if end is not None and end <= day else None),
                UK_COUNTRY,
                pupil_id,
            )


def _sen_need_rows(on_roll: list[PupilRecord]):
    row_id = 0
    for pupil_id, record in enumerate(on_roll, 1):
        child = record.child
        if child.sen_provision not in ("K", "E"):
            continue
        for rank, need in enumerate(child.sen_needs, 1):
            row_id += 1
            yield (row_id, row_id, row_id, child.school.table_id, need, rank, pupil_id)
