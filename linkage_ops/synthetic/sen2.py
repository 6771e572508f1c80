"""The SEN2 return (EHC plans) as the authority submits it: Blade CSV, one file per module.

``person`` holds every child with an EHC plan on the January census day or a request for an
EHC needs assessment in the calendar year before it. Each module row carries its own table
id and its parent's, as the DfE COLLECT Blade export does.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.recording_errors import (
    draw_candidate_errors,
    joined_errors,
    postcode_typo,
    record_person,
)
from linkage_ops.synthetic.school_census import blade_bool, blade_date
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.social_care import (
    SendChild,
    postcode_on,
    recorded_upn,
    sen2_census_day,
    social_care_events,
)
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "sen2"
# The loader's own schema, so the writer and the reader cannot drift apart.
TABLE_COLUMNS: dict[str, list[str]] = load_schema(SOURCE).columns_by_table
REVIEWED_SHARE = 0.9


def sen2_period(year: CollectionYear) -> str:
    """The SEN2 period inside a collection year: the January census, ``2025`` for 2024-25."""
    return str(sen2_census_day(year).year)


def sen2_file(landing_dir: Path, year: CollectionYear, module: str) -> Path:
    """``landing/sen2/2025/Blade-Export_16-01-2025_person.csv``."""
    day = sen2_census_day(year)
    stamp = f"{day.day:02d}-{day.month:02d}-{day.year:04d}"
    return landing_dir / SOURCE / sen2_period(year) / f"Blade-Export_{stamp}_{module}.csv"


def write_sen2(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the SEN2 modules for the January census in ``year`` (``months`` is ignored)."""
    chance = random.Random(int(rng.integers(1 << 62)))
    events = social_care_events(population, year)
    census = events.sen2_census_day
    period = sen2_period(year)
    # The return lists people by surname and forename, as the case system exports them.
    people = sorted(events.send, key=lambda s: (s.child.surname, s.child.forename, s.child.index))
    candidates = draw_candidate_errors(SOURCE, len(people), rng)

    rows: dict[str, list[tuple]] = {module: [] for module in TABLE_COLUMNS}
    truth: list[TruthRecord] = []
    for person_id, (send, wanted) in enumerate(zip(people, candidates, strict=True), start=1):
        child = send.child
        person, applied = record_person(child, wanted, chance, not_after=census)
        upn, unknown, upn_errors = recorded_upn(child, wanted, chance, census)
        applied += upn_errors
        postcode = postcode_on(child, census)
        if "postcode_typo" in wanted:
            postcode = postcode_typo(postcode, chance)
            applied.append("postcode_typo")
        rows["person"].append(
            (*_ids(person_id), person.surname, person.forename,
             blade_date(person.date_of_birth), child.sex, child.ethnicity, postcode, upn,
             child.uln, unknown)
        )  # fmt: skip
        truth.append(TruthRecord(SOURCE, period, person_id, child.child_id,
                                 joined_errors(SOURCE, applied)))  # fmt: skip
        _module_rows(send, person_id, census, rows, chance)

    folder = landing_dir / SOURCE / period
    remove_csv_files(folder)
    paths = []
    for module, columns in TABLE_COLUMNS.items():
        path = sen2_file(landing_dir, year, module)
        write_csv(path, columns, rows[module])
        paths.append(path)
    return paths, truth


def _ids(table_id: int) -> tuple[int, int, int, int]:
    """``<module>tableid``, ``NativeId``, ``<module>orderseqcolumn``, ``sourceid``."""
    return table_id, table_id, table_id, table_id


def _next_id(rows: list[tuple]) -> int:
    return len(rows) + 1


def _module_rows(
    send: SendChild,
    person_id: int,
    census: date,
    rows: dict[str, list[tuple]],
    chance: random.Random,
) -> None:
    """Requests, assessments, named plans and the active plan of one person."""
    plan = send.plan
    for request in send.requests:
        request_id = _next_id(rows["requests"])
        rows["requests"].append(
            (*_ids(request_id), blade_date(request.received), request.outcome,
             blade_date(request.outcome_date), person_id)
        )  # fmt: skip
        if request.outcome != "A":
            continue
        assessment_id = _next_id(rows["assessment"])
        week20 = "" if request.week20 is None else blade_bool(request.week20)
        rows["assessment"].append(
            (*_ids(assessment_id), request.assessment_outcome,
             blade_date(request.assessment_outcome_date), week20, request_id)
        )  # fmt: skip
        if request.assessment_outcome == "Y" and plan is not None:
            plan_id = _next_id(rows["namedplan"])
            rows["namedplan"].append(
                (*_ids(plan_id), blade_date(plan.start), blade_date(plan.cease_date),
                 plan.cease_reason, assessment_id)
            )  # fmt: skip
            detail_id = _next_id(rows["plandetail"])
            rows["plandetail"].append(
                (*_ids(detail_id), plan.urn, plan.setting, 1, plan_id)
            )  # fmt: skip
    if plan is None or plan.cease_date is not None:
        return
    active_id = _next_id(rows["activeplans"])
    review = _last_annual_review(plan.start, census) if chance.random() < REVIEWED_SHARE else None
    rows["activeplans"].append(
        (*_ids(active_id), blade_bool(False), blade_date(review), "Y" if review else "",
         person_id)
    )  # fmt: skip
    placement_id = _next_id(rows["placementdetail"])
    rows["placementdetail"].append(
        (*_ids(placement_id), plan.urn, plan.setting, 1, blade_date(plan.start), active_id)
    )  # fmt: skip
    for rank, need in enumerate(plan.needs, start=1):
        need_id = _next_id(rows["senneed"])
        rows["senneed"].append((*_ids(need_id), need, rank, active_id))


def _last_annual_review(start: date, census: date) -> date | None:
    """The plan's latest anniversary before the census day (plans are reviewed yearly)."""
    years = census.year - start.year - ((census.month, census.day) < (start.month, start.day))
    if years < 1:
        return None
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)
