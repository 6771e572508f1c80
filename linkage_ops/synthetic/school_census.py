"""The School Census returns as the authority receives them: DfE COLLECT "Blade" CSV tables per
term, each term with its own table names and column sets (``TERM_LAYOUTS``).

The collection year holds two census terms, autumn and spring (summer falls after 31 March).

- Autumn: ``schoolcensus`` (one row per school), ``pupilonroll`` (no ethnicity or young carer;
  summer-term session totals and post-16 hours), ``pupilnolongeronroll`` (pupils on roll in
  the summer term who are not on roll now: moved on to secondary school or out of school after
  Year 11, moved away or died), ``addressesonroll`` and ``addressesoffroll``,
  ``fsmperiodsonroll``, ``senneeds``, attendance of the first and second halves of the summer
  term on and off roll (``termlysessiondetails...``, ``summerhalfterm2sessiondetails...``) and
  the summer term's suspensions (``termlyexclusions...``), registered with the attendance
  codes in force before 19 August 2024.
- Spring: the same with spring's names (``addresses``, ``fsmperiod``), ethnicity and young
  carer on ``pupilonroll``, leavers since autumn (no off-roll addresses), and the autumn
  term's attendance and suspensions, registered with the codes of August 2024.

A school's record of a pupil is persistent: the same UPN, names and birth date, with the same
recording errors, in every term and in its leaver row. Table ids are opaque text (GUIDs), new in
each term's export; children point to their pupil by ``pupilonrolltableid`` or
``pupilnolongeronrolltableid``.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import (
    LA_NUMBER,
    Child,
    Population,
    School,
    household_school,
)
from linkage_ops.synthetic.recording_errors import (
    RecordedPerson,
    draw_candidate_errors,
    joined_errors,
    recorded_pupil,
)
from linkage_ops.synthetic.school_attendance import (
    AUTHORISED_REASONS,
    UNAUTHORISED_REASONS,
    Circumstances,
    Suspension,
    permanent_exclusion,
    term_absence,
    term_suspensions,
    usual_absence_rate,
)
from linkage_ops.synthetic.school_year import (
    CensusPeriod,
    CollectionYear,
    SchoolTerm,
    academic_year_start,
    first_school_day,
    nc_year_label,
    nc_year_number,
    reported_terms,
)
from linkage_ops.synthetic.social_care import social_care_events
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "school_census"
UK_COUNTRY = "ENG"
# Month abbreviations written out so the output does not depend on the machine's locale.
BLADE_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A leaver's record id within its period, so it never collides with a pupil on roll's.
LEAVER_RECORD_PREFIX = "leaver-"
# Table ids are GUIDs made from the period, table and row: stable, opaque, never numbers.
BLADE_ID_NAMESPACE = uuid.UUID("6f1c7c1e-3a52-4b8e-9d55-0c3b7a2f9e41")
# servicechild for pupils outside service families: mostly N, some unknown or refused.
SERVICE_CHILD_OTHERWISE = {"N": 0.95, "U": 0.04, "R": 0.01}
# youngcarer: a young carer was identified by the school (S) or a parent or guardian (P).
YOUNG_CARER_IDENTIFIED_BY_SCHOOL_SHARE = 0.4
# Planned hours of post-16 study (autumn), qualification and non-qualification.
POST16_HOURS = (540, 60)
SOFTWARE_CODE = "MIS-SYN"


def _layout(table: str, *columns: str) -> tuple[str, ...]:
    """A Blade table's columns: its four id columns first, then ``columns``."""
    return (f"{table}tableid", "NativeId", f"{table}orderseqcolumn", "sourceid", *columns)


_ADDRESS = (
    "pupilonrolltableid", "uniquepropertyreferencenumber", "postcode", "saon", "paon", "street",
    "locality", "town", "administrativearea", "posttown", "addressline1", "addressline2",
    "addressline3", "addressline4", "addressline5",
)  # fmt: skip
_FSM = ("pupilonrolltableid", "fsmstartdate", "fsmenddate", "ukcountry")
_SESSIONS_ON, _SESSIONS_OFF = (
    (key, "sessions", "attendancereason")
    for key in ("pupilonrolltableid", "pupilnolongeronrolltableid")
)
_EXCLUSIONS = ("startdate", "sessions", "reason1", "reason2", "reason3", "category", "senprovision")
_SEN_NEEDS = ("pupilonrolltableid", "sentyperank", "sentype")

# Each term's tables, columns in the order a Blade export writes them.
# fmt: off
TERM_LAYOUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "autumn": {
        "schoolcensus": _layout(
            "schoolcensus", "name", "collection", "term", "year", "referencedate", "serialno",
            "sourcelevel", "estab", "softwarecode", "urn", "datetime", "release", "xversion", "lea",
        ),
        "pupilonroll": _layout(
            "pupilonroll", "schoolcensustableid", "surname", "forename", "middlenames",
            "preferredsurname", "upn", "formerupn", "uniquelearnernumber", "formersurname", "dob",
            "parttime", "entrydate", "termlysessionspossible", "termlysessionsauthorised",
            "termlysessionsunauthorised", "qualhrs", "nonqualhrs",
            "summerhalfterm2sessionspossible", "summerhalfterm2sessionsauthorised",
            "summerhalfterm2sessionsunauthorised", "sex", "servicechild", "language", "enrolstatus",
            "boarder", "plaa", "senprovision", "ncyearactual",
        ),
        "pupilnolongeronroll": _layout(
            "pupilnolongeronroll", "schoolcensustableid", "upn", "formerupn", "surname", "forename",
            "middlenames", "uniquelearnernumber", "formersurname", "dob", "entrydate",
            "leavingdate", "parttime", "termlysessionspossible", "termlysessionsauthorised",
            "termlysessionsunauthorised", "summerhalfterm2sessionsauthorised",
            "summerhalfterm2sessionspossible", "summerhalfterm2sessionsunauthorised", "sex",
            "boarder", "language", "ncyearleaving",
        ),
        "addressesonroll": _layout("addressesonroll", *_ADDRESS),
        "addressesoffroll": _layout(
            "addressesoffroll", "pupilnolongeronrolltableid", "uniquepropertyreferencenumber",
            "postcode",
        ),
        "fsmperiodsonroll": _layout("fsmperiodsonroll", *_FSM),
        "senneeds": _layout("senneeds", *_SEN_NEEDS),
        "termlysessiondetailsonroll": _layout("termlysessiondetailsonroll", *_SESSIONS_ON),
        "termlysessiondetailsoffroll": _layout("termlysessiondetailsoffroll", *_SESSIONS_OFF),
        "summerhalfterm2sessiondetailsonroll": _layout(
            "summerhalfterm2sessiondetailsonroll", *_SESSIONS_ON,
        ),
        "summerhalfterm2sessiondetailsoffroll": _layout(
            "summerhalfterm2sessiondetailsoffroll", *_SESSIONS_OFF,
        ),
        "termlyexclusionsonroll": _layout(
            "termlyexclusionsonroll", "pupilonrolltableid", *_EXCLUSIONS,
        ),
        "termlyexclusionsoffroll": _layout(
            "termlyexclusionsoffroll", "pupilnolongeronrolltableid", "startdate", "sessions",
            "reason2", "reason3", "category", "reason1", "senprovision",
        ),
    },
    "spring": {
        "schoolcensus": _layout(
            "schoolcensus", "term", "collection", "name", "year", "referencedate", "sourcelevel",
            "estab", "softwarecode", "urn", "release", "serialno", "xversion", "datetime", "lea",
        ),
        "pupilonroll": _layout(
            "pupilonroll", "schoolcensustableid", "upn", "formerupn", "surname", "forename",
            "uniquelearnernumber", "middlenames", "preferredsurname", "formersurname", "dob",
            "entrydate", "parttime", "termlysessionspossible", "termlysessionsauthorised",
            "termlysessionsunauthorised", "sex", "ethnicity", "language", "enrolstatus", "boarder",
            "ncyearactual", "senprovision", "servicechild", "plaa", "youngcarer",
        ),
        "pupilnolongeronroll": _layout(
            "pupilnolongeronroll", "schoolcensustableid", "upn", "formerupn", "surname", "forename",
            "middlenames", "formersurname", "dob", "entrydate", "leavingdate", "parttime",
            "termlysessionspossible", "termlysessionsauthorised", "termlysessionsunauthorised",
            "uniquelearnernumber", "sex", "ethnicity", "language", "boarder",
        ),
        "addresses": _layout("addresses", *_ADDRESS),
        "fsmperiod": _layout("fsmperiod", *_FSM),
        "senneeds": _layout("senneeds", *_SEN_NEEDS),
        "termlysessiondetailsonroll": _layout("termlysessiondetailsonroll", *_SESSIONS_ON),
        "termlysessiondetailsoffroll": _layout("termlysessiondetailsoffroll", *_SESSIONS_OFF),
        "termlyexclusionsonroll": _layout(
            "termlyexclusionsonroll", "pupilonrolltableid", *_EXCLUSIONS,
        ),
        "termlyexclusionsoffroll": _layout(
            "termlyexclusionsoffroll", "pupilnolongeronrolltableid", "startdate", "sessions",
            "reason2", "reason3", "category", "reason1", "senprovision",
        ),
    },
}
# fmt: on
# The tables whose rows are people (truth records); the others point to one of them.
PERSON_TABLES = ("pupilonroll", "pupilnolongeronroll")


@dataclass(slots=True)
class PupilRecord:
    """A school's record of one pupil, the same in every term's return, and how the pupil
    attends."""

    child: Child
    person: RecordedPerson
    upn: str
    errors: list[str]
    service_child: str
    young_carer: str
    circumstances: Circumstances
    absence_rate: float


@dataclass(slots=True)
class Place:
    """A pupil on a school's roll over a span: from ``entry_date`` to ``leaving_date`` (the
    day they left the roll; ``None`` while still on it), in year group ``nc_year``."""

    record: PupilRecord
    school: School
    entry_date: date
    nc_year: int
    leaving_date: date | None = None

    def attended(self, term: SchoolTerm) -> tuple[date, date] | None:
        """The first and last day the pupil could attend in ``term``, if any."""
        first = max(term.first_day, self.entry_date)
        last = term.last_day
        if self.leaving_date is not None:
            last = min(last, self.leaving_date - timedelta(days=1))
        return (first, last) if term.school_days(first, last) else None


@dataclass
class TermAttendance:
    """A place's sessions in the terms a census reports: possible sessions and sessions by
    attendance reason per reported term, and suspensions."""

    possible: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    suspensions: list[Suspension] = field(default_factory=list)

    def totals(self, term: str) -> dict[str, str]:
        """``possible``, ``authorised`` and ``unauthorised`` sessions as the pupil row writes
        them; blank when the pupil was not on roll in the term."""
        if term not in self.possible:
            return {"possible": "", "authorised": "", "unauthorised": ""}
        reasons = self.reasons[term]
        return {
            "possible": str(self.possible[term]),
            "authorised": str(sum(n for r, n in reasons.items() if r in AUTHORISED_REASONS)),
            "unauthorised": str(sum(n for r, n in reasons.items() if r in UNAUTHORISED_REASONS)),
        }


def blade_date(day: date | None) -> str:
    """Blade's date format, ``2024-Oct-03 00:00:00``; blank for no date."""
    if day is None:
        return ""
    return f"{day.year:04d}-{BLADE_MONTHS[day.month - 1]}-{day.day:02d} 00:00:00"


def blade_bool(value: bool) -> str:
    """Blade's booleans, ``True``/``False``."""
    return "True" if value else "False"


def blade_id(period: CensusPeriod, table: str, number: int) -> str:
    """The opaque table id of row ``number`` of ``table`` in ``period``'s export."""
    return str(uuid.uuid5(BLADE_ID_NAMESPACE, f"{period.label}/{table}/{number}"))


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
    autumn, spring = year.census_periods
    summer_places = _summer_places(population, autumn)
    records = _pupil_records(
        population,
        year,
        [c for c in population.children if c.is_pupil or c.index in summer_places],
        summer_places,
        rng,
    )
    autumn_places = _on_roll(records, autumn)
    day = autumn.census_day
    leavers = {
        autumn: _autumn_leavers(records, summer_places, autumn),
        # On roll at the autumn census and gone by spring.
        spring: [
            Place(p.record, p.school, p.entry_date, p.nc_year, leaving_date(p.record.child, day))
            for p in autumn_places
            if not p.record.child.on_roll_on(spring.census_day)
        ],
    }
    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period, on_roll in ((autumn, autumn_places), (spring, _on_roll(records, spring))):
        export = _TermExport(population, period, rng)
        export.add_pupils(on_roll, leavers[period])
        remove_csv_files(census_folder(landing_dir, period))
        for table, columns in TERM_LAYOUTS[period.term].items():
            path = census_file(landing_dir, period, table)
            write_csv(
                path, columns, ([row.get(c, "") for c in columns] for row in export.rows[table])
            )
            paths.append(path)
        truth += export.truth
    return paths, truth


@dataclass(frozen=True, slots=True)
class _SummerPlace:
    """Where a child was on roll in the summer term before the autumn census."""

    school: School
    entry_date: date
    nc_year: int
    # Left at the end of the summer term for the next phase (Year 6 to 7, or after Year 11).
    moved_on: bool


def _summer_places(population: Population, autumn: CensusPeriod) -> dict[int, _SummerPlace]:
    """By child index, the LA school each child was on roll at in the previous summer term:
    the school they are at now, or, for a child now in Year 7 at secondary school or in Year 12
    and out of LA schools, the local primary or secondary school they left in July."""
    summer = reported_terms(autumn)
    first_day, last_day = summer["termly"].first_day, summer["summerhalfterm2"].last_day
    academic_year = academic_year_start(autumn.census_day)
    places: dict[int, _SummerPlace] = {}
    for child in population.children:
        household = child.household
        if (
            (household.arrived_on is not None and household.arrived_on > first_day)
            or household.outside_la_schools
            or not child.in_authority_on(first_day)
        ):
            continue
        year_now = nc_year_number(child.date_of_birth, autumn.census_day)
        school = child.school
        if year_now == 7 and school is not None and school.phase == "secondary":
            left = _local_school(population, child, "primary", first_day)
            entry = first_school_day(academic_year - 7)
            if left is not None:
                places[child.index] = _SummerPlace(left, entry, 6, True)
        elif year_now == 12 and school is None:
            left = _local_school(population, child, "secondary", first_day)
            if left is not None:
                places[child.index] = _SummerPlace(
                    left, first_school_day(academic_year - 5), 11, True
                )
        elif (
            school is not None
            and year_now > 0
            and child.entry_date is not None
            and child.entry_date <= last_day
        ):
            places[child.index] = _SummerPlace(school, child.entry_date, year_now - 1, False)
    return places


def _local_school(population: Population, child: Child, phase: str, day: date) -> School | None:
    """The LA school of ``phase`` the family's children went to while living where they lived
    on ``day``."""
    return household_school(
        [s for s in population.schools if s.phase == phase], child.household, day
    )


def _on_roll(records: list[PupilRecord], period: CensusPeriod) -> list[Place]:
    return [
        Place(r, r.child.school, r.child.entry_date, r.child.nc_year)
        for r in records
        if r.child.on_roll_on(period.census_day)
    ]


def _autumn_leavers(
    records: list[PupilRecord], summer_places: dict[int, _SummerPlace], autumn: CensusPeriod
) -> list[Place]:
    """Pupils on roll in the summer term who are not on that school's roll on autumn census
    day: they moved on to the next phase, moved out of the authority or died."""
    summer = reported_terms(autumn)
    first_day = summer["termly"].first_day
    end_of_year = summer["summerhalfterm2"].last_day + timedelta(days=1)
    leavers = []
    for record in records:
        child = record.child
        place = summer_places.get(child.index)
        if place is None:
            continue
        stayed = child.on_roll_on(autumn.census_day) and child.school is place.school
        if stayed:
            continue
        endings = [
            day
            for day in (child.died_on, child.household.left_on)
            if day is not None and first_day < day <= autumn.census_day
        ]
        if place.moved_on or not endings:
            endings.append(end_of_year)
        leavers.append(Place(record, place.school, place.entry_date, place.nc_year, min(endings)))
    return sorted(leavers, key=lambda p: (p.school.table_id, *_name_order(p.record)))


def _name_order(record: PupilRecord) -> tuple:
    return (record.person.surname, record.person.forename, record.child.index)


def _pupil_records(
    population: Population,
    year: CollectionYear,
    children: list[Child],
    summer_places: dict[int, _SummerPlace],
    rng: np.random.Generator,
) -> list[PupilRecord]:
    """Each pupil's record as their school keeps it, errors drawn once per pupil, and how they
    attend, in the order schools export pupils: by school, year group and name."""
    chance = random.Random(int(rng.integers(1 << 62)))
    events = social_care_events(population, year)
    in_need = {
        c.child.child_id
        for c in events.children
        if not c.unborn and c.open_between(year.first_day, year.last_day)
    }
    looked_after = {c.child.child_id for c in events.looked_after}
    candidates = draw_candidate_errors(SOURCE, len(children), rng)
    records = []
    for child, wanted in zip(children, candidates, strict=True):
        place = summer_places.get(child.index)
        entry = child.entry_date or (place.entry_date if place else None)
        # The school took the birth date down when the pupil joined.
        person, upn, applied = recorded_pupil(child, wanted, chance, not_after=entry)
        school = child.school or (place.school if place else None)
        circumstances = Circumstances(
            phase=school.phase if school else "secondary",
            sen_provision=child.sen_provision,
            fsm=bool(child.household.fsm_periods),
            in_need=child.child_id in in_need,
            looked_after=child.child_id in looked_after,
        )
        if child.household.service_family:
            service_child = "Y"
        else:
            service_child = chance.choices(
                list(SERVICE_CHILD_OTHERWISE), list(SERVICE_CHILD_OTHERWISE.values())
            )[0]
        young_carer = "N"
        if child.young_carer:
            young_carer = "S" if chance.random() < YOUNG_CARER_IDENTIFIED_BY_SCHOOL_SHARE else "P"
        records.append(
            PupilRecord(
                child=child,
                person=person,
                upn=upn,
                errors=applied,
                service_child=service_child,
                young_carer=young_carer,
                circumstances=circumstances,
                absence_rate=usual_absence_rate(circumstances, rng),
            )
        )
    records.sort(
        key=lambda r: (
            r.child.school.table_id if r.child.school else 0,
            r.child.nc_year if r.child.nc_year is not None else -1,
            *_name_order(r),
        )
    )
    return records


def _whole_term(terms: list[SchoolTerm]) -> SchoolTerm:
    """Several reported terms as one (autumn's two halves of the summer term)."""
    closed = set().union(*(term.closed_days for term in terms))
    for before, after in itertools.pairwise(terms):
        day = before.last_day + timedelta(days=1)
        while day < after.first_day:
            closed.add(day)
            day += timedelta(days=1)
    return SchoolTerm(
        "+".join(term.name for term in terms),
        terms[0].first_day,
        terms[-1].last_day,
        frozenset(closed),
    )


class _TermExport:
    """The rows of one term's export, table by table, and the truth of its person rows."""

    def __init__(self, population: Population, period: CensusPeriod, rng: np.random.Generator):
        self.period = period
        self.rng = rng
        self.rows: dict[str, list[dict[str, str]]] = {t: [] for t in TERM_LAYOUTS[period.term]}
        self.truth: list[TruthRecord] = []
        self.terms = reported_terms(period)
        self.whole_term = _whole_term(list(self.terms.values()))
        self.return_ids = {
            s.table_id: blade_id(period, "schoolcensus", s.table_id) for s in population.schools
        }
        # Autumn names some tables differently.
        self.addresses = "addressesonroll" if "addressesonroll" in self.rows else "addresses"
        self.fsm_periods = "fsmperiodsonroll" if "fsmperiodsonroll" in self.rows else "fsmperiod"
        day = period.census_day
        for school in population.schools:
            self.rows["schoolcensus"].append(
                {
                    "schoolcensustableid": self.return_ids[school.table_id],
                    "NativeId": self.return_ids[school.table_id],
                    "schoolcensusorderseqcolumn": "1",
                    "sourceid": self.return_ids[school.table_id],
                    "name": "School Census",
                    "collection": "SC",
                    "term": period.term_code,
                    "year": str(period.year),
                    "referencedate": blade_date(day),
                    "serialno": "1",
                    "sourcelevel": "S",
                    "estab": f"{school.estab:04d}",
                    "softwarecode": SOFTWARE_CODE,
                    "urn": str(100000 + school.estab),
                    "datetime": blade_date(day).replace("00:00:00", "16:30:00"),
                    "release": "1.0",
                    "xversion": "1",
                    "lea": str(LA_NUMBER),
                }
            )

    def _add(self, table: str, school: School, values: dict[str, str]) -> str:
        """Append a row with its four id columns; returns its table id."""
        rows = self.rows[table]
        number = len(rows) + 1
        table_id = blade_id(self.period, table, number)
        rows.append(
            {
                f"{table}tableid": table_id,
                "NativeId": table_id,
                f"{table}orderseqcolumn": str(number),
                "sourceid": self.return_ids[school.table_id],
                **values,
            }
        )
        return table_id

    def add_pupils(self, on_roll: list[Place], leavers: list[Place]) -> None:
        for place in on_roll:
            self._add_person(place, on_roll=True)
        for place in leavers:
            self._add_person(place, on_roll=False)

    def _add_person(self, place: Place, on_roll: bool) -> None:
        record, child = place.record, place.record.child
        attendance = self._attendance(place, on_roll)
        values = self._person_values(place, attendance)
        if on_roll:
            table, key, roll = "pupilonroll", "pupilonrolltableid", "onroll"
            values |= {
                "enrolstatus": child.enrol_status,
                "senprovision": child.sen_provision,
                "ncyearactual": nc_year_label(place.nc_year),
                "plaa": child.plaa,
                "youngcarer": record.young_carer,
                "servicechild": record.service_child,
            }
            if place.nc_year >= 12:
                values |= {"qualhrs": str(POST16_HOURS[0]), "nonqualhrs": str(POST16_HOURS[1])}
        else:
            table, key, roll = "pupilnolongeronroll", "pupilnolongeronrolltableid", "offroll"
            values |= {
                "leavingdate": blade_date(place.leaving_date),
                "ncyearleaving": nc_year_label(place.nc_year),
            }
        person_id = self._add(table, place.school, values)
        prefix = "" if on_roll else LEAVER_RECORD_PREFIX
        self.truth.append(
            TruthRecord(
                SOURCE,
                self.period.label,
                f"{prefix}{person_id}",
                child.child_id,
                joined_errors(SOURCE, record.errors),
            )
        )
        if on_roll:
            self._add_pupil_details(place, person_id)
        elif "addressesoffroll" in self.rows:
            address = child.household.address_on(place.leaving_date - timedelta(days=1))
            self._add(
                "addressesoffroll",
                place.school,
                {
                    key: person_id,
                    "uniquepropertyreferencenumber": address.uprn,
                    "postcode": address.postcode,
                },
            )
        for term, reasons in attendance.reasons.items():
            for reason, sessions in reasons.items():
                self._add(
                    f"{term}sessiondetails{roll}",
                    place.school,
                    {key: person_id, "sessions": str(sessions), "attendancereason": reason},
                )
        for suspension in attendance.suspensions:
            reasons = dict(zip(("reason1", "reason2", "reason3"), suspension.reasons, strict=False))
            self._add(
                f"termlyexclusions{roll}",
                place.school,
                {
                    key: person_id,
                    "startdate": blade_date(suspension.start),
                    "sessions": "" if suspension.sessions is None else str(suspension.sessions),
                    **reasons,
                    "category": suspension.category,
                    "senprovision": child.sen_provision,
                },
            )

    def _person_values(self, place: Place, attendance: TermAttendance) -> dict[str, str]:
        """The columns pupils on roll and leavers share: identity, entry and attendance."""
        record, child, person = place.record, place.record.child, place.record.person
        values = {
            "schoolcensustableid": self.return_ids[place.school.table_id],
            "upn": record.upn,
            "formerupn": child.former_upn,
            "uniquelearnernumber": child.uln,
            "surname": person.surname,
            "forename": person.forename,
            "middlenames": person.middle_names,
            "preferredsurname": person.preferred_surname,
            "formersurname": person.former_surname,
            "dob": blade_date(person.date_of_birth),
            "sex": child.sex,
            "ethnicity": child.ethnicity,
            "language": child.language,
            "boarder": "N",
            "entrydate": blade_date(place.entry_date),
            "parttime": blade_bool(child.part_time),
        }
        for term in self.terms:
            for total, sessions in attendance.totals(term).items():
                values[f"{term}sessions{total}"] = sessions
        return values

    def _add_pupil_details(self, place: Place, pupil_id: str) -> None:
        """A pupil on roll's address, free school meal periods and types of need."""
        child, day = place.record.child, self.period.census_day
        address = child.household.address_on(day)
        self._add(
            self.addresses,
            place.school,
            {
                "pupilonrolltableid": pupil_id,
                "uniquepropertyreferencenumber": address.uprn,
                "postcode": address.postcode,
                "saon": address.saon,
                "paon": address.paon,
                "street": address.street,
                "locality": address.locality,
                "town": address.town,
                "administrativearea": address.administrative_area,
                "posttown": address.posttown,
            },
        )
        # Periods begun by census day; an end date not yet reached is not known, so blank.
        for start, end in child.fsm_periods:
            if start > day:
                continue
            self._add(
                self.fsm_periods,
                place.school,
                {
                    "pupilonrolltableid": pupil_id,
                    "fsmstartdate": blade_date(start),
                    "fsmenddate": blade_date(end if end is not None and end <= day else None),
                    "ukcountry": UK_COUNTRY,
                },
            )
        if child.sen_provision in ("K", "E"):
            for rank, need in enumerate(child.sen_needs, 1):
                self._add(
                    "senneeds",
                    place.school,
                    {"pupilonrolltableid": pupil_id, "sentyperank": str(rank), "sentype": need},
                )

    def _attendance(self, place: Place, on_roll: bool) -> TermAttendance:
        """Sessions possible and missed by reason in each reported term, and suspensions (a
        permanent exclusion behind a few secondary pupils' moves to schools elsewhere)."""
        record, rng = place.record, self.rng
        attendance = TermAttendance()
        for name, term in self.terms.items():
            span = place.attended(term)
            if span is None:
                continue
            possible = 2 * term.school_days(*span)
            attendance.possible[name] = possible
            attendance.reasons[name] = term_absence(possible, record.absence_rate, term, rng)
        span = place.attended(self.whole_term)
        if span is not None:
            attendance.suspensions = term_suspensions(
                record.circumstances, self.whole_term, *span, rng
            )
        child = record.child
        if (
            not on_roll
            and place.school.phase == "secondary"
            and place.leaving_date is not None
            and place.leaving_date == child.left_school_on
        ):
            excluded = permanent_exclusion(self.whole_term, place.leaving_date, rng)
            if excluded is not None:
                attendance.suspensions.append(excluded)
        # Days of a suspension are registered E (no alternative provision), up to the
        # sessions the pupil had not already missed.
        for suspension in attendance.suspensions:
            if suspension.category != "FIXD":
                continue
            for name, term in self.terms.items():
                if (
                    name in attendance.possible
                    and term.first_day <= suspension.start <= term.last_day
                ):
                    reasons = attendance.reasons[name]
                    room = attendance.possible[name] - sum(reasons.values())
                    if room > 0:
                        reasons["E"] = reasons.get("E", 0) + min(room, suspension.sessions or 0)
        return attendance
