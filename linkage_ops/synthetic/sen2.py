"""The SEN2 return (EHC plans) as an authority downloads it from DfE COLLECT: the Blade CSV
export, one file per module, ``Blade-Export_<dd-mm-yyyy>_<module>.csv``.

The module tree is the return's own: the header ``sen2``; ``person`` under it; ``requests``
under the person; ``assessment`` -> ``namedplan`` -> ``plandetail`` under a request; and
``activeplans`` (with ``placementdetail`` and ``senneed``) under the request that led to the
plan. ``person`` holds every child with an EHC plan on the January census day, a plan that
ceased in the calendar year before it, or a request for an assessment in that year. Each row
carries its own table id and its parent's (text, as Blade writes them), and the files have the
columns of the census year's layout (``linkage_ops/schemas/sen2.yaml``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import SourceSchema, load_schema
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import LA_NUMBER, Child, Population
from linkage_ops.synthetic.recording_errors import (
    draw_candidate_errors,
    joined_errors,
    postcode_typo,
    record_person,
)
from linkage_ops.synthetic.school_census import blade_bool, blade_date
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.social_care import (
    EhcPlan,
    EhcRequest,
    SendChild,
    postcode_on,
    recorded_upn,
    sen2_census_day,
    social_care_events,
)
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "sen2"
REVIEWED_SHARE = 0.9
# A plan issued before the calendar year still has its request in the return: the request was
# received about 20 weeks before the plan started and agreed six weeks after it arrived.
REQUEST_WEEKS_BEFORE_PLAN = 20
REQUEST_DECIDED_AFTER_DAYS = 42
REVIEW_DECISION_AFTER_DAYS = 14
# Phase transfers: the amended plan is due by 15 February (31 March into post-16).
PHASE_TRANSFER_DUE = {6: (2, 15), 11: (3, 31)}
GENDER_CURRENT = {"M": "1", "F": "2"}  # the layouts before 2025; "0" not known


def sen2_period(year: CollectionYear) -> str:
    """The SEN2 period inside a collection year: the January census, ``2025`` for 2024-25."""
    return str(sen2_census_day(year).year)


def sen2_file(landing_dir: Path, year: CollectionYear, module: str) -> Path:
    """``landing/sen2/2025/Blade-Export_16-01-2025_person.csv``."""
    day = sen2_census_day(year)
    stamp = f"{day.day:02d}-{day.month:02d}-{day.year:04d}"
    return landing_dir / SOURCE / sen2_period(year) / f"Blade-Export_{stamp}_{module}.csv"


def blade_datetime(day: date, hour: int, minute: int) -> str:
    """Blade's timestamps, ``2025-Jan-24 10:30:00``."""
    return blade_date(day).replace("00:00:00", f"{hour:02d}:{minute:02d}:00")


@dataclass
class _Return:
    """The rows of one return, module by module, each with Blade's four id columns."""

    layout: SourceSchema
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def add(self, module: str, **values: object) -> str:
        """Append a row to ``module`` and return its table id (text, numbered per module)."""
        rows = self.rows.setdefault(module, [])
        table_id = str(len(rows) + 1)
        rows.append(
            {
                f"{module}tableid": table_id,
                "NativeId": str(LA_NUMBER),
                f"{module}orderseqcolumn": str(len(rows) + 1),
                "sourceid": table_id,
                **{name: "" if value is None else str(value) for name, value in values.items()},
            }
        )
        return table_id

    def has(self, module: str, column: str) -> bool:
        return column in self.layout.tables[module].column_names

    def codes(self, module: str, column: str) -> frozenset[str]:
        return next(r.codes for r in self.layout.tables[module].columns if r.name == column)

    def files(self) -> Iterator[tuple[str, list[str], list[list[str]]]]:
        """(module, header, rows) for every module of the layout, empty ones included."""
        for module, columns in self.layout.columns_by_table.items():
            rows = self.rows.get(module, [])
            unknown = {name for row in rows for name in row} - set(columns)
            if unknown:  # the writer and the year's layout have drifted apart
                raise ValueError(f"sen2 {module}: columns not in the layout: {sorted(unknown)}")
            yield module, columns, [[row.get(name, "") for name in columns] for row in rows]


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
    # The loader's own schema for the census year, so the writer and the reader agree.
    sen2 = _Return(load_schema(SOURCE).for_period(period))
    header_id = sen2.add(
        "sen2",
        collection="SEN2",
        year=period,
        referencedate=blade_date(census),
        sourcelevel="L",
        lea=f"{LA_NUMBER:03d}",
        softwarecode="SYNTHETIC-LA",
        release="1.0",
        serialno=1,
        datetime=blade_datetime(census + timedelta(days=8), 10, 30),
    )
    # The return lists people by surname and forename, as the case system exports them.
    people = sorted(events.send, key=lambda s: (s.child.surname, s.child.forename, s.child.index))
    candidates = draw_candidate_errors(SOURCE, len(people), rng)
    truth: list[TruthRecord] = []
    for send, wanted in zip(people, candidates, strict=True):
        child = send.child
        person, applied = record_person(child, wanted, chance, not_after=census)
        upn, unknown, upn_errors = recorded_upn(child, wanted, chance, census)
        applied += upn_errors
        postcode = postcode_on(child, census)
        if "postcode_typo" in wanted:
            postcode = postcode_typo(postcode, chance)
            applied.append("postcode_typo")
        sex = (
            {"sex": child.sex}
            if sen2.has("person", "sex")
            else {"gendercurrent": GENDER_CURRENT.get(child.sex, "0")}
        )
        person_id = sen2.add(
            "person",
            sen2tableid=header_id,
            surname=person.surname,
            forename=person.forename,
            personbirthdate=blade_date(person.date_of_birth),
            **sex,
            ethnicity=child.ethnicity,
            postcode=postcode,
            upn=upn,
            uniquelearnernumber=child.uln,
            upnunknown=unknown,
        )
        truth.append(
            TruthRecord(SOURCE, period, person_id, child.child_id, joined_errors(SOURCE, applied))
        )
        _plan_modules(send, person_id, census, sen2, chance)

    folder = landing_dir / SOURCE / period
    remove_csv_files(folder)
    paths = []
    for module, columns, rows in sen2.files():
        path = sen2_file(landing_dir, year, module)
        write_csv(path, columns, rows)
        paths.append(path)
    return paths, truth


def _plan_modules(
    send: SendChild, person_id: str, census: date, sen2: _Return, chance: random.Random
) -> None:
    """Requests, assessments and named plans of one person, and the plan active on census
    day under the request that led to it."""
    plan = send.plan
    plan_request_id = None
    for request in send.requests:
        request_id = _request(sen2, person_id, request)
        if request.outcome != "A":
            continue
        week20 = "" if request.week20 is None else blade_bool(request.week20)
        assessment_id = sen2.add(
            "assessment",
            requeststableid=request_id,
            assessmentoutcome=request.assessment_outcome,
            assessmentoutcomedate=blade_date(request.assessment_outcome_date),
            week20=week20,
        )
        if request.assessment_outcome == "Y" and plan is not None:
            plan_request_id = request_id
            _named_plan(sen2, assessment_id, plan)
    if plan is None:
        return
    if plan_request_id is None:
        # A plan issued before the calendar year: the request behind it, and for a plan that
        # ceased in the year the assessment and named plan that record its end.
        received = plan.start - timedelta(weeks=REQUEST_WEEKS_BEFORE_PLAN)
        decided = received + timedelta(days=REQUEST_DECIDED_AFTER_DAYS)
        plan_request_id = _request(sen2, person_id, EhcRequest(received, "A", decided))
        if plan.cease_date is not None:
            assessment_id = sen2.add(
                "assessment",
                requeststableid=plan_request_id,
                assessmentoutcome="Y",
                assessmentoutcomedate=blade_date(plan.start - timedelta(days=7)),
            )
            _named_plan(sen2, assessment_id, plan)
    if plan.cease_date is not None:
        return
    meeting = _last_annual_review(plan.start, census) if chance.random() < REVIEWED_SHARE else None
    decision = meeting + timedelta(days=REVIEW_DECISION_AFTER_DAYS) if meeting else None
    phase_transfer = {}
    transfer_day = PHASE_TRANSFER_DUE.get(send.child.nc_year or 0)
    if transfer_day and send.child.is_pupil and sen2.has("activeplans", "phasetransferduedate"):
        phase_transfer["phasetransferduedate"] = blade_date(date(census.year, *transfer_day))
    active_id = sen2.add(
        "activeplans",
        requeststableid=plan_request_id,
        reviewmeeting=blade_date(meeting),
        lastreview=blade_date(decision if decision and decision < census else None),
        **phase_transfer,
    )
    sen2.add(
        "placementdetail",
        activeplanstableid=active_id,
        **_setting(plan),
        placementrank=1,
        entrydate=blade_date(_entry_date(send.child, plan, census)),
        senunitindicator=blade_bool(False),
        resourcedprovisionindicator=blade_bool(False),
    )
    # A need the census year's list does not have yet (DS before 2025) was recorded as OTH.
    valid = sen2.codes("senneed", "sentype")
    needs = dict.fromkeys(need if need in valid else "OTH" for need in plan.needs)
    for rank, need in enumerate(needs, start=1):
        sen2.add("senneed", activeplanstableid=active_id, sentype=need, sentyperank=rank)


def _request(sen2: _Return, person_id: str, request: EhcRequest) -> str:
    return sen2.add(
        "requests",
        persontableid=person_id,
        receiveddate=blade_date(request.received),
        rya=blade_bool(False),
        requestoutcomedate=blade_date(request.outcome_date),
        requestoutcome=request.outcome,
        requestmediation=blade_bool(False),
        requesttribunal=blade_bool(False),
    )


def _named_plan(sen2: _Return, assessment_id: str, plan: EhcPlan) -> None:
    plan_id = sen2.add(
        "namedplan",
        assessmenttableid=assessment_id,
        startdate=blade_date(plan.start),
        pb=blade_bool(False),
        oa=blade_bool(False),
        ceasedate=blade_date(plan.cease_date),
        ceasereason=plan.cease_reason,
    )
    sen2.add(
        "plandetail",
        namedplantableid=plan_id,
        **_setting(plan),
        placementrank=1,
        senunitindicator=blade_bool(False),
        resourcedprovisionindicator=blade_bool(False),
    )


def _setting(plan: EhcPlan) -> dict[str, str]:
    """A school by URN, a college by UKPRN, otherwise the SEN setting code."""
    return {"urn": plan.urn, "ukprn": plan.ukprn, "sensetting": plan.setting}


def _entry_date(child: Child, plan: EhcPlan, census: date) -> date:
    """A pupil entered the school named on their roll (by census day; a pupil who joins it
    later in the year is placed from the plan's start); anyone else the setting at the plan's
    start."""
    if plan.urn and child.entry_date is not None and child.entry_date <= census:
        return child.entry_date
    return plan.start


def _last_annual_review(start: date, census: date) -> date | None:
    """The plan's latest anniversary before the census day (plans are reviewed yearly)."""
    years = census.year - start.year - ((census.month, census.day) < (start.month, start.day))
    if years < 1:
        return None
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)
