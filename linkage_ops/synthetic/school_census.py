"""The School Census return as the authority receives it: Blade CSV tables per term.

Four tables are written: ``schoolcensus`` (one row per school), ``pupilonroll`` (one row per
pupil), ``addresses`` (one per pupil) and ``fsmperiod`` (free school meal periods).
"""

from __future__ import annotations

import random
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
from linkage_ops.synthetic.school_year import CensusPeriod, nc_year_label
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "school_census"
UK_COUNTRY = "ENG"
# Month abbreviations written out so the output does not depend on the machine's locale.
BLADE_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The columns are the loader's own schema, so the writer and the reader cannot drift apart.
TABLE_COLUMNS: dict[str, list[str]] = {
    name: table.column_names for name, table in load_schema(SOURCE).tables.items()
}


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


def write_school_census(
    population: Population, period: CensusPeriod, landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the four census tables for ``period`` and return them with their truth rows."""
    chance = random.Random(int(rng.integers(1 << 62)))
    census_day = period.census_day
    pupils = [c for c in population.children if c.is_pupil]
    candidates = draw_candidate_errors(SOURCE, len(pupils), rng)

    recorded: list[tuple[Child, RecordedPerson, str, list[str]]] = []
    for child, wanted in zip(pupils, candidates, strict=True):
        person, applied = record_person(child, wanted, chance, not_after=census_day)
        upn = child.upn
        if "missing_upn" in wanted:
            upn = ""
            applied.append("missing_upn")
        elif "upn_wrong_check_letter" in wanted:
            upn = wrong_check_letter(child.upn, chance)
            applied.append("upn_wrong_check_letter")
        recorded.append((child, person, upn, applied))
    # Schools export their pupils by year group and name.
    recorded.sort(
        key=lambda r: (r[0].school.table_id, r[0].nc_year, r[1].surname, r[1].forename, r[0].index)
    )

    folder = census_folder(landing_dir, period)
    remove_csv_files(folder)
    paths = {table: census_file(landing_dir, period, table) for table in TABLE_COLUMNS}
    write_csv(
        paths["schoolcensus"],
        TABLE_COLUMNS["schoolcensus"],
        (
            (
                s.table_id,
                s.table_id,
                s.table_id,
                s.table_id,
                period.term_code,
                period.year,
                blade_date(census_day),
                s.estab,
                LA_NUMBER,
            )
            for s in population.schools
        ),
    )
    write_csv(
        paths["pupilonroll"],
        TABLE_COLUMNS["pupilonroll"],
        (
            _pupil_row(i, child, person, upn)
            for i, (child, person, upn, _) in enumerate(recorded, 1)
        ),
    )
    write_csv(
        paths["addresses"],
        TABLE_COLUMNS["addresses"],
        (_address_row(i, child) for i, (child, _, _, _) in enumerate(recorded, 1)),
    )
    write_csv(paths["fsmperiod"], TABLE_COLUMNS["fsmperiod"], _fsm_rows(recorded))

    truth = [
        TruthRecord(SOURCE, period.label, i, child.child_id, joined_errors(SOURCE, applied))
        for i, (child, _, _, applied) in enumerate(recorded, 1)
    ]
    return [paths[table] for table in TABLE_COLUMNS], truth


def _pupil_row(table_id: int, child: Child, person: RecordedPerson, upn: str) -> tuple:
    school_id = child.school.table_id
    return (
        table_id,
        table_id,
        table_id,
        school_id,
        upn,
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
        school_id,
    )


def _address_row(table_id: int, child: Child) -> tuple:
    address = child.address
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


def _fsm_rows(recorded: list[tuple[Child, RecordedPerson, str, list[str]]]):
    row_id = 0
    for pupil_id, (child, _, _, _) in enumerate(recorded, 1):
        for start, end in child.fsm_periods:
            row_id += 1
            yield (
                row_id,
                row_id,
                row_id,
                child.school.table_id,
                blade_date(start),
                blade_date(end),
                UK_COUNTRY,
                pupil_id,
            )
