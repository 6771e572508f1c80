"""The true population of a collection year: households, children, addresses, moves, schools,
identifiers, and the year's births, deaths, arrivals and departures.

The population is every child aged 0-17 at some point in the collection year (1 April to
31 March): children born during the year are in it, and so are those who die, whose family moves
into or out of the authority, or who leave for a school outside it. Schools, year groups and
ULNs are decided on the autumn census day, which falls in the same academic year as the spring
census day. Everything a source record is later derived from lives here, before any recording
error. Rates and code lists are data at the top of the module so they are easy to read and tune.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np

from linkage_ops.identifiers import make_upn, upn_check_letter
from linkage_ops.synthetic import names
from linkage_ops.synthetic.addresses import POSTCODE_AREAS, Address, AddressBook
from linkage_ops.synthetic.school_year import (
    CollectionYear,
    academic_year_start,
    age_on,
    birthday,
    first_school_day,
    nc_year_number,
    parse_collection_year,
)

LA_NUMBER = 884  # Herefordshire
# Former UPNs issued elsewhere: Worcestershire, Shropshire, Gloucestershire.
NEIGHBOURING_LA_NUMBERS = (885, 893, 916)

# Children a family has over time; those not yet born or already adult are not counted.
HOUSEHOLD_SIZE_SHARES = {1: 0.34, 2: 0.40, 3: 0.18, 4: 0.08}
TWIN_CHILD_SHARE = 0.015
DIFFERENT_SURNAME_SHARE = 0.10
DOUBLE_BARRELLED_SHARE = 0.03
MOVED_HOUSEHOLD_SHARE = 0.08
# Moves within the county fall in the 12 months before the year or during it (before its end).
MOVE_WINDOW_DAYS = 730
MOVED_WITHIN_AREA_SHARE = 0.75
# Families moving into or out of the authority during the year (a share of households).
ARRIVED_HOUSEHOLD_SHARE = 0.03
LEFT_HOUSEHOLD_SHARE = 0.03
# DfE numbers of the authorities arriving pupils' UPNs were issued by.
ARRIVAL_LA_NUMBERS = (885, 893, 916, 330, 801, 935)
MIDDLE_NAME_COUNT_SHARES = (0.12, 0.73, 0.15)  # none, one, two
MALE_SHARE = 0.512
TWINS_SAME_SEX_SHARE = 0.65

# A mostly White British rural county (DfE extended codes).
ETHNICITY_SHARES: dict[str, float] = {
    "WBRI": 0.838,
    "WIRI": 0.004,
    "WOTH": 0.062,
    "WIRT": 0.004,
    "WROM": 0.004,
    "MWBC": 0.007,
    "MWBA": 0.005,
    "MWAS": 0.008,
    "MOTH": 0.011,
    "AIND": 0.006,
    "APKN": 0.003,
    "ABAN": 0.002,
    "AOTH": 0.005,
    "BCRB": 0.001,
    "BAFR": 0.004,
    "BOTH": 0.001,
    "CHNE": 0.003,
    "OOTH": 0.006,
    "REFU": 0.016,
    "NOBT": 0.010,
}
ENGLISH_SPEAKING = {"ENG": 0.995, "ENB": 0.005}
# First language (DfE codes) by ethnicity; anything not listed speaks English.
LANGUAGE_SHARES: dict[str, dict[str, float]] = {
    "WOTH": {
        "ENG": 0.17,
        "POL": 0.35,
        "ROM": 0.15,
        "LIT": 0.12,
        "BUL": 0.08,
        "LAT": 0.05,
        "HUN": 0.04,
        "POR": 0.04,
    },
    "WROM": {"ENG": 0.7, "ROM": 0.3},
    "APKN": {"ENG": 0.3, "URD": 0.45, "PNJ": 0.25},
    "AIND": {"ENG": 0.35, "PNJ": 0.25, "GUJ": 0.15, "HIN": 0.1, "MLM": 0.1, "TAM": 0.05},
    "ABAN": {"ENG": 0.4, "BNG": 0.6},
    "AOTH": {"ENG": 0.4, "NEP": 0.25, "TAM": 0.15, "OTL": 0.2},
    "CHNE": {"ENG": 0.5, "CHI": 0.5},
    "BAFR": {"ENG": 0.6, "YOR": 0.15, "OTL": 0.25},
    "OOTH": {"ENG": 0.4, "ARA": 0.3, "TUR": 0.1, "OTL": 0.2},
}

# Schooling.
OUTSIDE_LA_SCHOOLS_SHARE = 0.05  # independent or home educated households
SIXTH_FORM_SHARE = 0.40
SPECIAL_SCHOOL_SHARE = 0.013
PUPILS_PER_PRIMARY = 180
PUPILS_PER_SECONDARY = 700
PUPILS_PER_SPECIAL = 100
IN_YEAR_ADMISSION_SHARE = 0.12
# Pupils who leave for an independent school, home education or another authority's school
# while the family stays, at some point between the autumn census and the end of the year.
LEFT_FOR_SCHOOL_OUTSIDE_LA_SHARE = 0.015
LATE_UPN_SHARE = {"english": 0.08, "other": 0.30}  # first UPN issued after Reception
FORMER_UPN_SHARE = 0.03
ULN_FROM_AGE = 14
SEN_SHARES = {"K": 0.13, "E": 0.04}  # the rest are N
FSM_HOUSEHOLD_SHARE = 0.20
FSM_EARLIER_PERIOD_SHARE = 0.25
FSM_ENDED_ONLY_SHARE = 0.15
YOUNG_CARER_SHARE = 0.015
SERVICE_FAMILY_SHARE = 0.02
PART_TIME_RECEPTION_SHARE = 0.02
PLAA_SHARE = 0.004
# Post looked after arrangements (School Census plaa): adoption, special guardianship,
# residence or child arrangements order.
PLAA_CODES = ("A", "G", "R", "C")
# Type of need (School Census ``senneeds``), by provision: K SEN support, E EHC plan. Roughly
# England's shares; NSA (no specialist assessment) is only recorded for SEN support.
SEN_NEED_SHARES: dict[str, dict[str, float]] = {
    "K": {
        "SLCN": 0.25,
        "SEMH": 0.21,
        "SPLD": 0.13,
        "MLD": 0.12,
        "ASD": 0.10,
        "OTH": 0.04,
        "NSA": 0.034,
        "PD": 0.025,
        "HI": 0.015,
        "VI": 0.008,
        "SLD": 0.005,
        "MSI": 0.002,
        "PMLD": 0.001,
    },
    "E": {
        "ASD": 0.33,
        "SLCN": 0.22,
        "SEMH": 0.15,
        "SLD": 0.08,
        "MLD": 0.07,
        "PD": 0.04,
        "SPLD": 0.03,
        "OTH": 0.025,
        "PMLD": 0.02,
        "HI": 0.02,
        "VI": 0.01,
        "MSI": 0.005,
    },
}
SECOND_SEN_NEED_SHARE = 0.30
# Deaths per 1,000 children a year. Deliberately well above the real rate (about 0.15-0.35 per
# 1,000 children a year in England) so that a 10,000-child demo shows several deaths; infants
# (under one at some point in the year) die more often than older children. About 0.8 overall.
DEATHS_PER_1000_A_YEAR = {"infant": 3.5, "child": 0.7}
DUAL_REGISTERED_SHARE = 0.004
ESTABLISHMENT_RANGES = {"primary": (2001, 3000), "secondary": (4001, 5000), "special": (7001, 8000)}
UPN_SERIALS_PER_SCHOOL_YEAR = 999


@dataclass(slots=True)
class School:
    """An LA school; ``table_id`` is its row in the census ``schoolcensus`` table."""

    estab: int
    phase: str
    area_index: int
    table_id: int = 0


@dataclass(slots=True)
class Household:
    """A family at one address, with its address history."""

    household_id: str
    area_index: int
    address: Address
    previous_address: Address | None
    moved_on: date | None
    ethnicity: str
    language: str
    surname: str
    outside_la_schools: bool
    service_family: bool
    fsm_periods: list[tuple[date, date | None]]
    # Moved into the authority from elsewhere during the year: no local record before this day.
    arrived_on: date | None = None
    # Moved out of the authority during the year: no local record from this day.
    left_on: date | None = None
    children: list[Child] = field(default_factory=list)
    # Which of the local schools of a phase the family's children go to.
    school_pick: int = 0

    def address_on(self, day: date) -> Address:
        """Where the family lived on ``day`` (the previous address before a move)."""
        if self.previous_address is not None and self.moved_on is not None and day < self.moved_on:
            return self.previous_address
        return self.address

    def lives_here_on(self, day: date) -> bool:
        """The family lives in the authority on ``day``."""
        return self.lives_here_during(day, day)

    def lives_here_during(self, first: date, last: date) -> bool:
        """The family lives in the authority on some day from ``first`` to ``last``."""
        return (self.arrived_on is None or self.arrived_on <= last) and (
            self.left_on is None or first < self.left_on
        )


@dataclass(slots=True)
class Child:
    """One real (synthetic) child as the authority would ideally know them."""

    index: int
    child_id: str
    household: Household
    forename: str
    middle_names: str
    surname: str
    date_of_birth: date
    sex: str
    nhs_number: str
    twin_of: str = ""
    upn: str = ""
    former_upn: str = ""
    uln: str = ""
    school: School | None = None
    nc_year: int | None = None
    entry_date: date | None = None
    sen_provision: str = "N"
    fsm_periods: list[tuple[date, date | None]] = field(default_factory=list)
    young_carer: bool = False
    part_time: bool = False
    plaa: str = ""
    enrol_status: str = "C"
    # Types of need (School Census codes), main need first, for pupils with SEN provision.
    sen_needs: tuple[str, ...] = ()
    # Left the LA school for one outside the authority (the family stays).
    left_school_on: date | None = None
    # Set by the population's year of life; a child who dies leaves later censuses and feeds.
    died_on: date | None = None
    # The child's position among all the children of every year (``index`` is this year's).
    lifetime_index: int = 0

    @property
    def ethnicity(self) -> str:
        return self.household.ethnicity

    @property
    def language(self) -> str:
        return self.household.language

    @property
    def address(self) -> Address:
        return self.household.address

    @property
    def is_pupil(self) -> bool:
        """Has a place at an LA school this academic year (see ``on_roll_on`` for a given day)."""
        return self.school is not None

    def is_alive_on(self, day: date) -> bool:
        """Born by ``day`` and not yet died (a child who died on ``day`` is not)."""
        return self.date_of_birth <= day and (self.died_on is None or day < self.died_on)

    def in_authority_on(self, day: date) -> bool:
        """Alive and living in the authority on ``day``."""
        return self.is_alive_on(day) and self.household.lives_here_on(day)

    def on_roll_on(self, day: date) -> bool:
        """On the roll of an LA school on ``day`` (a census day)."""
        return (
            self.school is not None
            and self.entry_date is not None
            and self.entry_date <= day
            and (self.left_school_on is None or day < self.left_school_on)
            and self.in_authority_on(day)
        )


@dataclass
class Population:
    """The whole synthetic authority over one collection year (``previous``: the year before)."""

    year: CollectionYear
    households: list[Household]
    children: list[Child]
    schools: list[School]
    # The same authority a year earlier (a child with the same ``child_id`` is the same child),
    # or None for the first year generated.
    previous: Population | None = field(default=None, repr=False)
    # Models derived from the population and shared by several writers (the year's social care
    # and health events), built once and kept here by name; a copy of the population starts
    # without them.
    derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def require_year(self, year: CollectionYear) -> None:
        """Refuse to write one year's returns from another year's population."""
        if self.year != year:
            raise ValueError(f"population is for {self.year.label}, not {year.label}")

    def derived_seed(self, purpose: str) -> int:
        """A seed that depends only on the population and ``purpose``: models shared by several
        writers (social care cases, health events) draw from it, so each writer sees the same
        events whatever its own random stream."""
        digest = hashlib.sha256(
            "|".join(f"{c.child_id}:{c.nhs_number}" for c in self.children).encode()
            + f"|{self.year.label}|{purpose}".encode()
        ).digest()
        return int.from_bytes(digest[:8], "big")

    @property
    def autumn_census_day(self) -> date:
        """The day schools, year groups and ULNs are decided (the same academic year as spring)."""
        return self.year.census_periods[0].census_day

    @property
    def spring_census_day(self) -> date:
        return self.year.census_periods[1].census_day


def build_population(
    children: int, year: CollectionYear | str, rng: np.random.Generator
) -> Population:
    """``children`` children aged 0-17 at some point in the collection ``year`` (e.g.
    ``2024-25``), in households of 1-4, with schools, identifiers and the year's births, deaths,
    moves, arrivals and departures."""
    return build_populations(children, [year], rng)[-1]


def build_populations(
    children: int, years: Sequence[CollectionYear | str], rng: np.random.Generator
) -> list[Population]:
    """The same authority over consecutive collection ``years``: one population per year, with
    about ``children`` children aged 0-17 in each.

    The children and their families are drawn once over the whole span: they age, are born,
    die, move within the county, arrive and leave on days spread over the years. Each year's
    population holds the children aged 0-17, alive and living in the authority at some point
    in that year, as the authority knew them then (later deaths, moves and departures are not
    yet known). At school a child keeps their school within a phase (unless the family moves
    to another area), their entry date, UPN and ULN once issued, and their SEN provision
    while the year's shares allow; a pupil who left for a school outside the authority stays
    out of its schools.
    """
    if children < 1:
        raise ValueError("children must be at least 1")
    span = [parse_collection_year(y) if isinstance(y, str) else y for y in years]
    if not span:
        raise ValueError("at least one collection year is needed")
    for earlier, later in itertools.pairwise(span):
        if later.start_year != earlier.start_year + 1:
            raise ValueError(
                f"collection years must be consecutive: {earlier.label}, {later.label}"
            )
    first_day, last_day = span[0].first_day, span[-1].last_day
    # Ages are flat, so each extra year brings about one new birth cohort of 18; and families
    # who arrive later or leave earlier are in only some of the years.
    extra_years = len(span) - 1
    movers = (ARRIVED_HOUSEHOLD_SHARE + LEFT_HOUSEHOLD_SHARE) / 3
    span_children = round(children * (18 + extra_years) / 18 * (1 + movers * extra_years))
    families = _family_birth_dates(span_children, first_day, last_day, rng)
    book = AddressBook(rng, properties_needed=len(families))
    households = _households(families, book, span, rng)
    people = _children(households, families, rng)
    _deaths(people, first_day, last_day, rng)
    school_life = _SchoolLife(people, rng)
    populations: list[Population] = []
    for year in span:
        population = _as_known_in(year, households)
        population.previous = populations[-1] if populations else None
        school_life.place(population)
        populations.append(population)
    return populations


def _as_known_in(year: CollectionYear, households: list[Household]) -> Population:
    """The year's population: copies of the families and children of ``year`` as the
    authority knew them by its end, before school places are decided."""
    first_day, last_day = year.first_day, year.last_day
    adult_if_born_by = first_day.replace(year=first_day.year - 18)
    known: list[Household] = []
    children: list[Child] = []
    for household in households:
        if not household.lives_here_during(first_day, last_day):
            continue
        copy = _household_as_known_on(household, last_day)
        for person in household.children:
            if not (
                adult_if_born_by < person.date_of_birth <= last_day
                and (person.died_on is None or person.died_on > first_day)
            ):
                continue
            child = replace(
                person,
                index=len(children),
                household=copy,
                died_on=person.died_on if person.died_on and person.died_on <= last_day else None,
                fsm_periods=[],
            )
            children.append(child)
            copy.children.append(child)
        if copy.children:
            known.append(copy)
    return Population(year=year, households=known, children=children, schools=[])


def _household_as_known_on(household: Household, day: date) -> Household:
    """A copy of the family with what happened after ``day`` not yet known: a later move
    leaves them at the earlier address, a later departure is not recorded, and free school
    meal eligibility that began later is absent (a period still open on ``day`` is open)."""
    address, previous, moved_on = household.address, household.previous_address, household.moved_on
    if moved_on is not None and moved_on > day and previous is not None:
        address, previous, moved_on = previous, None, None
    return replace(
        household,
        address=address,
        previous_address=previous,
        moved_on=moved_on,
        left_on=household.left_on if household.left_on and household.left_on <= day else None,
        fsm_periods=[
            (start, end if end is not None and end <= day else None)
            for start, end in household.fsm_periods
            if start <= day
        ],
        children=[],
    )


def _family_birth_dates(
    children: int, first_day: date, last_day: date, rng: np.random.Generator
) -> list[list[tuple[date, bool]]]:
    """Each family's children aged 0-17 at some point from ``first_day`` to ``last_day``,
    eldest first, as (birth date, twin of the previous).

    A family's youngest may not be born yet and its eldest may already be an adult: only those
    aged 0-17 at some point in the span are kept, so ages come out flat rather than bunched in
    the middle of childhood, and about one child in 19 a year is born during it, as the
    youngest of a family with young children or as a family's first.
    """
    latest = last_day
    earliest = first_day.replace(year=first_day.year - 18) + timedelta(days=1)
    window = (latest - earliest).days
    options = list(HOUSEHOLD_SIZE_SHARES)
    probabilities = np.array(list(HOUSEHOLD_SIZE_SHARES.values()))
    families: list[list[tuple[date, bool]]] = []
    total = 0
    twin_children = 0
    batch = 4096
    while total < children:
        sizes = rng.choice(options, size=batch, p=probabilities).tolist()
        gaps = rng.triangular(365, 800, 6 * 365, (batch, 3)).tolist()
        youngest_draw = rng.random(batch).tolist()
        twin_draw = rng.random(batch).tolist()
        twin_at = rng.integers(0, 3, batch).tolist()
        for i in range(batch):
            size = sizes[i]
            family_gaps = gaps[i][: size - 1]
            pair_at = -1
            # Twins are spread through the population up to their share.
            if (
                size >= 2
                and twin_draw[i] < 0.5
                and twin_children + 2 <= TWIN_CHILD_SHARE * (total + size) + 1
            ):
                pair_at = twin_at[i] % (size - 1)
                family_gaps[pair_at] = 0.0
            span = sum(family_gaps)
            youngest_days = -span + youngest_draw[i] * (window + span)
            kept: list[tuple[date, bool]] = []
            for j in range(size):
                days = round(youngest_days + sum(family_gaps[j:]))
                if 0 <= days <= window:
                    kept.append((latest - timedelta(days=days), j == pair_at + 1))
            kept = kept[: children - total]
            if not kept:
                continue
            if kept[0][1]:
                kept[0] = (kept[0][0], False)  # its twin was cut off at the edge
            twin_children += 2 * sum(1 for _, twin in kept if twin)
            families.append(kept)
            total += len(kept)
            if total == children:
                break
    return families


def _weighted_pick(shares: dict[str, float], rng: np.random.Generator, size: int) -> list[str]:
    keys = list(shares)
    weights = np.array(list(shares.values()), dtype=float)
    picks = rng.choice(len(keys), size=size, p=weights / weights.sum())
    return [keys[i] for i in picks]


def _surname_draw(rng: np.random.Generator, size: int) -> list[str]:
    """Surnames, ``DOUBLE_BARRELLED_SHARE`` of them hyphenated like ``Smith-Jones``."""
    table = names.surnames()
    first = table.sample(rng, size)
    second = table.sample(rng, size)
    hyphenate = rng.random(size) < DOUBLE_BARRELLED_SHARE
    return [
        f"{a}-{b}" if joined and a != b else a
        for a, b, joined in zip(first, second, hyphenate, strict=True)
    ]


def _households(
    families: list[list[tuple[date, bool]]],
    book: AddressBook,
    years: list[CollectionYear],
    rng: np.random.Generator,
) -> list[Household]:
    """The families, their addresses, moves, arrivals and departures over ``years``."""
    count = len(families)
    first_day, last_day = years[0].first_day, years[-1].last_day
    span_days = (last_day - first_day).days + 1
    # Moves fall in the 12 months before the first year or during the years.
    move_window = MOVE_WINDOW_DAYS + span_days - 366
    areas = book.draw_areas(count)
    ethnicities = _weighted_pick(ETHNICITY_SHARES, rng, count)
    surnames = _surname_draw(rng, count)
    moved = rng.random(count) < MOVED_HOUSEHOLD_SHARE * move_window / MOVE_WINDOW_DAYS
    move_days = rng.integers(14, move_window + 1, count)
    within_area = rng.random(count) < MOVED_WITHIN_AREA_SHARE
    other_area = book.draw_areas(count)
    outside = rng.random(count) < OUTSIDE_LA_SCHOOLS_SHARE
    service = rng.random(count) < SERVICE_FAMILY_SHARE
    language_draw = rng.random(count)
    # Eligibility is dated from the spring census, so some periods open between the censuses.
    fsm = _fsm_household_periods(count, years[-1].census_periods[1].census_day, rng)
    arrived = rng.random(count) < ARRIVED_HOUSEHOLD_SHARE * len(years)
    left = rng.random(count) < LEFT_HOUSEHOLD_SHARE * len(years)
    arrival_days = rng.integers(0, span_days, count)
    leaving_days = rng.integers(0, span_days, count)
    school_picks = rng.integers(0, 1 << 30, count)
    households = []
    for i in range(count):
        area = int(areas[i])
        address = book.take(area)
        previous = None
        moved_on = None
        if moved[i]:
            previous = book.take(area if within_area[i] else int(other_area[i]))
            # A move within one postcode unit would leave no trace in any source.
            while previous.postcode == address.postcode:
                previous = book.take(area if within_area[i] else int(other_area[i]))
            moved_on = last_day - timedelta(days=int(move_days[i]))
        # Families who arrive or leave are not also given a move within the county.
        arrived_on = None
        left_on = None
        if not moved[i] and arrived[i]:
            arrived_on = first_day + timedelta(days=int(arrival_days[i]))
        elif not moved[i] and left[i]:
            # No child is born after the family has gone: they would be in no local record.
            youngest_born = families[i][-1][0]
            left_on = max(
                first_day + timedelta(days=int(leaving_days[i])),
                youngest_born + timedelta(days=30),
            )
            if left_on > last_day:
                left_on = None
        language = _language_for(ethnicities[i], float(language_draw[i]))
        households.append(
            Household(
                household_id=f"H{i + 1:06d}",
                area_index=area,
                address=address,
                previous_address=previous,
                moved_on=moved_on,
                ethnicity=ethnicities[i],
                language=language,
                surname=surnames[i],
                outside_la_schools=bool(outside[i]),
                service_family=bool(service[i]),
                fsm_periods=fsm[i],
                arrived_on=arrived_on,
                left_on=left_on,
                school_pick=int(school_picks[i]),
            )
        )
    return households


def _language_for(ethnicity: str, draw: float) -> str:
    return _pick_share(LANGUAGE_SHARES.get(ethnicity, ENGLISH_SPEAKING), draw)


def _fsm_household_periods(
    count: int, census_day: date, rng: np.random.Generator
) -> list[list[tuple[date, date | None]]]:
    """Free school meal eligibility periods per household (most households have none)."""
    eligible = rng.random(count) < FSM_HOUSEHOLD_SHARE
    earlier = rng.random(count) < FSM_EARLIER_PERIOD_SHARE
    ended_only = rng.random(count) < FSM_ENDED_ONLY_SHARE
    start_days = rng.integers(30, 6 * 365, count)
    end_days = rng.integers(20, 700, count)
    gap_days = rng.integers(60, 300, count)
    length_days = rng.integers(200, 1200, count)
    periods: list[list[tuple[date, date | None]]] = []
    for i in range(count):
        if not eligible[i]:
            periods.append([])
            continue
        start = census_day - timedelta(days=int(start_days[i]))
        end: date | None = None
        if ended_only[i]:
            end = min(census_day - timedelta(days=int(end_days[i])), start + timedelta(days=400))
            if end <= start:
                end = start + timedelta(days=60)
                if end >= census_day:
                    end = None
        found = [(start, end)]
        if earlier[i]:
            earlier_end = start - timedelta(days=int(gap_days[i]))
            earlier_start = earlier_end - timedelta(days=int(length_days[i]))
            found.insert(0, (earlier_start, earlier_end))
        periods.append(found)
    return periods


def _children(
    households: list[Household],
    families: list[list[tuple[date, bool]]],
    rng: np.random.Generator,
) -> list[Child]:
    total = sum(len(f) for f in families)
    sexes = np.where(rng.random(total) < MALE_SHARE, "M", "F").tolist()
    same_sex_twins = rng.random(total) < TWINS_SAME_SEX_SHARE
    nhs_numbers = allocate_nhs_numbers(rng, total)
    children: list[Child] = []
    twin_pairs: list[tuple[int, int]] = []
    for household, family in zip(households, families, strict=True):
        for birth_date, twin_of_previous in family:
            index = len(children)
            sex = sexes[index]
            if twin_of_previous:
                twin_pairs.append((index - 1, index))
                if same_sex_twins[index]:
                    sex = children[-1].sex
            child = Child(
                index=index,
                child_id=f"C{index + 1:06d}",
                household=household,
                forename="",
                middle_names="",
                surname=household.surname,
                date_of_birth=birth_date,
                sex=sex,
                nhs_number=nhs_numbers[index],
                lifetime_index=index,
            )
            children.append(child)
            household.children.append(child)

    for first, second in twin_pairs:
        children[first].twin_of = children[second].child_id
        children[second].twin_of = children[first].child_id
    _give_forenames(children, households, rng)
    _give_other_surnames(children, rng)
    return children


def _give_forenames(
    children: list[Child], households: list[Household], rng: np.random.Generator
) -> None:
    tables = names.forenames()
    drawn: dict[str, list[str]] = {}
    cursor: dict[str, int] = {}
    for sex, table in tables.items():
        need = sum(1 for c in children if c.sex == sex)
        drawn[sex] = table.sample(rng, 3 * need + 10)
        cursor[sex] = 0

    def next_name(sex: str) -> str:
        if cursor[sex] >= len(drawn[sex]):
            drawn[sex].extend(tables[sex].sample(rng, 1000))
        name = drawn[sex][cursor[sex]]
        cursor[sex] += 1
        return name

    middle_counts = rng.choice(3, size=len(children), p=MIDDLE_NAME_COUNT_SHARES)
    for household in households:
        used: set[str] = set()
        for child in household.children:
            # Parents do not give two children the same first name (twins included).
            name = next_name(child.sex)
            while name in used:
                name = next_name(child.sex)
            used.add(name)
            child.forename = name
            middles: list[str] = []
            while len(middles) < middle_counts[child.index]:
                middle = next_name(child.sex)
                if middle != name and middle not in middles:
                    middles.append(middle)
            child.middle_names = " ".join(middles)


def _give_other_surnames(children: list[Child], rng: np.random.Generator) -> None:
    """Some children carry a surname their siblings do not (half-siblings, step-families)."""
    eligible = [c.index for c in children if len(c.household.children) > 1 and not c.twin_of]
    count = min(len(eligible), round(len(children) * DIFFERENT_SURNAME_SHARE))
    if not count:
        return
    chosen = sorted(rng.choice(eligible, size=count, replace=False).tolist())
    replacements = _surname_draw(rng, count + 10)
    for slot, index in enumerate(chosen):
        child = children[index]
        surname = replacements[slot]
        if surname == child.household.surname:
            surname = replacements[-1 - slot % 10]
        child.surname = surname


def allocate_nhs_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Unique valid NHS numbers in the never-issued 999 range."""
    stems_available = 1_000_000
    take = min(stems_available, int(count * 1.15) + 100)
    stems = rng.choice(stems_available, size=take, replace=False).astype(np.int64) + 999_000_000
    weights = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)
    digits = (stems[:, None] // (10 ** np.arange(8, -1, -1, dtype=np.int64))) % 10
    check = 11 - (digits @ weights) % 11
    check = np.where(check == 11, 0, check)
    valid = check != 10  # a remainder of 1 leaves no valid check digit
    numbers = (stems[valid] * 10 + check[valid])[:count]
    if len(numbers) < count:
        raise ValueError(f"cannot allocate {count} unique synthetic NHS numbers")
    return [str(n) for n in numbers.tolist()]


def _phase_start_year(nc_year: int, academic_year: int, phase: str) -> int:
    """The September the child started at a school of this phase."""
    if phase == "primary" or (phase == "special" and nc_year <= 6):
        return academic_year - nc_year
    if nc_year >= 12 and phase == "secondary":
        return academic_year - (nc_year - 12)
    return academic_year - (nc_year - 7)


class _SchoolLife:
    """What stays with a child from one year to the next at school.

    The draws that place a child (sixth form, special school, an in-year admission, a late
    UPN, SEN provision, the census flags) are made once per child, so each year decides the
    same way; the schools are opened once; a child's entry date at a school, UPN, former UPN
    and ULN are kept once given; a pupil who left for a school outside the authority does not
    come back to its schools.
    """

    def __init__(self, people: list[Child], rng: np.random.Generator) -> None:
        count = len(people)
        self.rng = rng
        self.draws = {
            name: rng.random(count)
            for name in (
                "sixth_form", "special", "in_year", "entry", "late_upn", "late_upn_year",
                "sen", "carer", "part_time", "plaa", "dual", "former_upn", "temporary_upn",
                "main_need", "second_need", "other_need",
            )
        }  # fmt: skip
        self.move_settle = rng.integers(3, 40, count)
        self.primary_pick = rng.integers(0, 1 << 30, count)
        self.plaa_code = rng.integers(0, len(PLAA_CODES), count)
        self.schools: dict[str, list[School]] = {}
        self.entries: dict[tuple[str, int], date] = {}
        self.upns: dict[str, tuple[str, str]] = {}
        self.ulns: dict[str, str] = {}
        self.next_serial: dict[tuple[int, int], int] = {}
        self.issued: set[str] = set()
        self.left_la_schools: set[str] = set()

    def draw(self, name: str, child: Child) -> float:
        return float(self.draws[name][child.lifetime_index])

    def place(self, population: Population) -> None:
        """Schools, year groups, identifiers and circumstances for the year's children."""
        _place_in_schools(population, self)
        _allocate_upns(population, self)
        _school_circumstances(population, self)
        _leave_for_schools_outside_the_authority(population, self)


def household_school(schools: list[School], household: Household, day: date) -> School | None:
    """The school of ``schools`` (one phase) the family's children go to while living where
    they lived on ``day``: one of the schools in their area (any, if the area has none)."""
    area_by_outward = {area.outward: i for i, area in enumerate(POSTCODE_AREAS)}
    area = area_by_outward[household.address_on(day).outward]
    local = [s for s in schools if s.area_index == area] or schools
    return local[household.school_pick % len(local)] if local else None


def _open_schools(pupils: list[tuple[Child, int, str]], rng: np.random.Generator) -> dict:
    """The authority's schools, as many per phase as its pupils need, spread over the areas."""
    counts = {phase: sum(1 for _, _, p in pupils if p == phase) for phase in ESTABLISHMENT_RANGES}
    per_school = {
        "primary": PUPILS_PER_PRIMARY,
        "secondary": PUPILS_PER_SECONDARY,
        "special": PUPILS_PER_SPECIAL,
    }
    area_count = len(POSTCODE_AREAS)
    schools: dict[str, list[School]] = {}
    for phase, (low, high) in ESTABLISHMENT_RANGES.items():
        minimum = 2 if phase == "primary" else 1
        count = max(minimum, round(counts[phase] / per_school[phase]))
        if count > high - low:
            raise ValueError(f"too many {phase} schools for 4-digit establishment numbers")
        estabs = sorted(rng.choice(np.arange(low, high), size=count, replace=False).tolist())
        # Spread schools over the areas before doubling up, so every area has some.
        areas = [i % area_count for i in range(count)]
        rng.shuffle(areas)
        schools[phase] = [
            School(estab=e, phase=phase, area_index=a) for e, a in zip(estabs, areas, strict=True)
        ]
    table_id = 0
    for phase in ESTABLISHMENT_RANGES:
        for school in schools[phase]:
            table_id += 1
            school.table_id = table_id
    return schools


def _place_in_schools(population: Population, life: _SchoolLife) -> None:
    """A school and year group for every child of school age whose family uses LA schools.

    Placement is decided on the autumn census day; a family moving within the county later in
    the year keeps its schools. A family arriving during the year starts a few weeks later.
    """
    census_day = population.autumn_census_day
    academic_year = academic_year_start(census_day)
    pupils: list[tuple[Child, int, str]] = []
    for child in population.children:
        year = nc_year_number(child.date_of_birth, census_day)
        if child.household.outside_la_schools or year < 0 or year > 13:
            continue
        if child.child_id in life.left_la_schools:
            continue
        if year >= 12 and life.draw("sixth_form", child) >= SIXTH_FORM_SHARE:
            continue
        special = life.draw("special", child) < SPECIAL_SCHOOL_SHARE
        phase = "special" if special else "primary" if year <= 6 else "secondary"
        pupils.append((child, year, phase))
    if not life.schools:
        life.schools = _open_schools(pupils, life.rng)
    population.schools = [s for phase in ESTABLISHMENT_RANGES for s in life.schools[phase]]

    for child, year, phase in pupils:
        household = child.household
        school = household_school(life.schools[phase], household, census_day)
        child.school = school
        child.nc_year = year
        known = life.entries.get((child.child_id, school.estab))
        if known is not None:
            child.entry_date = known
            continue
        start = first_school_day(_phase_start_year(year, academic_year, phase))
        settle = int(life.move_settle[child.lifetime_index])
        if household.arrived_on is not None and household.arrived_on > start:
            # A new arrival starts once a place is found, possibly after a census day.
            child.entry_date = _school_day_on_or_after(household.arrived_on + timedelta(settle))
        else:
            entry = start
            moved_here = (
                household.moved_on is not None
                and start < household.moved_on <= census_day
                and household.previous_address is not None
                and household.previous_address.outward != household.address.outward
            )
            if moved_here:
                entry = household.moved_on + timedelta(days=settle)
            elif life.draw("in_year", child) < IN_YEAR_ADMISSION_SHARE:
                entry = start + timedelta(
                    days=int(life.draw("entry", child) * (census_day - start).days)
                )
            entry = min(entry, census_day - timedelta(days=1))
            while entry.weekday() >= 5:
                entry -= timedelta(days=1)
            child.entry_date = max(entry, start)
        life.entries[(child.child_id, school.estab)] = child.entry_date


def _school_day_on_or_after(day: date) -> date:
    """The first weekday in term on or after ``day`` (the summer holiday ends in September)."""
    if (7, 23) <= (day.month, day.day) < (9, 2):
        day = first_school_day(day.year)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _allocate_upns(population: Population, life: _SchoolLife) -> None:
    """A permanent UPN for every child who is or was in an LA school, unique county-wide, kept
    from year to year.

    The UPN carries the establishment of the child's first school and the year it was issued;
    serials run 001-999 per school per year, spilling to another school's number when full.
    A child whose family arrived after they started school keeps the UPN their last authority
    issued.
    """
    rng = life.rng
    census_day = population.autumn_census_day
    academic_year = academic_year_start(census_day)
    primaries = [s for s in population.schools if s.phase == "primary"]
    requests: list[tuple[Child, int, int]] = []
    arrivals: list[tuple[Child, int]] = []
    for child in population.children:
        if child.child_id in life.upns:
            child.upn, child.former_upn = life.upns[child.child_id]
            continue
        year = nc_year_number(child.date_of_birth, census_day)
        was_pupil = child.school is not None or (
            12 <= year <= 13 and not child.household.outside_la_schools
        )
        if not was_pupil:
            continue
        reception_year = academic_year - year
        late_share = LATE_UPN_SHARE["english" if child.language in ("ENG", "ENB") else "other"]
        issue_year = reception_year
        if life.draw("late_upn", child) < late_share and year > 0:
            issue_year = reception_year + 1 + int(life.draw("late_upn_year", child) * year)
            issue_year = min(issue_year, academic_year)
        arrived_on = child.household.arrived_on
        if arrived_on is not None and arrived_on > first_school_day(reception_year):
            arrivals.append((child, issue_year))
            continue
        school = child.school
        started_here = (
            school is not None
            and school.phase != "secondary"
            and child.entry_date == first_school_day(reception_year)
        )
        if school is not None and (started_here or issue_year > reception_year):
            # Issued by the school the child is at now: they began here or arrived late.
            estab = school.estab
        else:
            # Issued by a primary near where the family lived when the child started school.
            first_day_at_school = first_school_day(reception_year)
            estab = household_school(primaries, child.household, first_day_at_school).estab
        requests.append((child, estab, issue_year))

    order = rng.permutation(len(requests))
    estab_ring = sorted(s.estab for s in population.schools)
    issued_now: list[Child] = []
    for position in order.tolist():
        child, estab, issue_year = requests[position]
        chosen = estab
        if life.next_serial.get((chosen, issue_year), 1) > UPN_SERIALS_PER_SCHOOL_YEAR:
            start = estab_ring.index(estab) if estab in estab_ring else 0
            for step in range(1, len(estab_ring) + 1):
                candidate = estab_ring[(start + step) % len(estab_ring)]
                if life.next_serial.get((candidate, issue_year), 1) <= UPN_SERIALS_PER_SCHOOL_YEAR:
                    chosen = candidate
                    break
            else:
                raise ValueError(f"no UPN serials left for year {issue_year}")
        serial = life.next_serial.get((chosen, issue_year), 1)
        life.next_serial[(chosen, issue_year)] = serial + 1
        child.upn = make_upn(LA_NUMBER, chosen, issue_year, serial)
        issued_now.append(child)

    for child, issue_year in arrivals:
        while True:
            la = ARRIVAL_LA_NUMBERS[int(rng.integers(0, len(ARRIVAL_LA_NUMBERS)))]
            estab = int(rng.integers(2001, 3000))
            upn = make_upn(la, estab, issue_year, int(rng.integers(1, 1000)))
            if upn not in life.issued:
                life.issued.add(upn)
                child.upn = upn
                issued_now.append(child)
                break

    _allocate_former_upns([c for c in issued_now if c.is_pupil], life)
    for child in issued_now:
        life.upns[child.child_id] = (child.upn, child.former_upn)
    _allocate_ulns(population, life)


def _allocate_former_upns(pupils: list[Child], life: _SchoolLife) -> None:
    """Some pupils carry an older UPN: a temporary one (ends in a letter) or another LA's."""
    rng = life.rng
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    for pupil in pupils:
        if life.draw("former_upn", pupil) >= FORMER_UPN_SHARE:
            continue
        year = int(pupil.upn[8:10])
        while True:
            if life.draw("temporary_upn", pupil) < 0.5:
                serial = int(rng.integers(0, 100))
                letter = letters[int(rng.integers(0, len(letters)))]
                body = f"{LA_NUMBER:03d}{pupil.school.estab:04d}{year:02d}{serial:02d}{letter}"
                former = upn_check_letter(body) + body
            else:
                la = NEIGHBOURING_LA_NUMBERS[int(rng.integers(0, len(NEIGHBOURING_LA_NUMBERS)))]
                estab = int(rng.integers(2001, 3000))
                former = make_upn(la, estab, 2000 + year, int(rng.integers(1, 1000)))
            if former not in life.issued:
                life.issued.add(former)
                pupil.former_upn = former
                break


def _allocate_ulns(population: Population, life: _SchoolLife) -> None:
    """Unique Learner Numbers (10 digits) for pupils aged 14 and over, kept once issued."""
    older = []
    for child in population.children:
        if child.child_id in life.ulns:
            child.uln = life.ulns[child.child_id]
        elif child.is_pupil and age_on(child.date_of_birth, population.autumn_census_day) >= (
            ULN_FROM_AGE
        ):
            older.append(child)
    draws = life.rng.integers(
        1_000_000_000, 10_000_000_000, size=len(older) + 50, dtype=np.int64
    ).tolist()
    cursor = 0
    for pupil in older:
        while str(draws[cursor]) in life.issued:
            cursor += 1
        pupil.uln = str(draws[cursor])
        life.issued.add(pupil.uln)
        life.ulns[pupil.child_id] = pupil.uln
        cursor += 1


def _school_circumstances(population: Population, life: _SchoolLife) -> None:
    """SEN provision and types of need, FSM periods and the census flags for each pupil."""
    pupils = [c for c in population.children if c.is_pupil]
    count = len(pupils)
    special = sum(1 for p in pupils if p.school.phase == "special")
    mainstream = max(1, count - special)
    ehc_rate = max(0.0, (SEN_SHARES["E"] * count - special) / mainstream)
    academic_year = academic_year_start(population.autumn_census_day)
    for pupil in pupils:
        sen_draw = life.draw("sen", pupil)
        if pupil.school.phase == "special" or sen_draw < ehc_rate:
            pupil.sen_provision = "E"
        elif sen_draw < ehc_rate + SEN_SHARES["K"]:
            pupil.sen_provision = "K"
        pupil.young_carer = life.draw("carer", pupil) < YOUNG_CARER_SHARE and (
            (pupil.nc_year or 0) >= 3
        )
        pupil.part_time = life.draw("part_time", pupil) < PART_TIME_RECEPTION_SHARE and (
            pupil.nc_year == 0
        )
        plaa = life.draw("plaa", pupil) < PLAA_SHARE
        pupil.plaa = PLAA_CODES[int(life.plaa_code[pupil.lifetime_index])] if plaa else ""
        pupil.enrol_status = "M" if life.draw("dual", pupil) < DUAL_REGISTERED_SHARE else "C"
        # Eligibility can only be recorded once the child is at school (here, for a new arrival).
        school_start = first_school_day(academic_year - (pupil.nc_year or 0))
        if pupil.household.arrived_on is not None and pupil.entry_date is not None:
            school_start = max(school_start, pupil.entry_date)
        for start, end in pupil.household.fsm_periods:
            if end is not None and end <= school_start:
                continue
            pupil.fsm_periods.append((max(start, school_start), end))
        if pupil.sen_provision != "N":
            pupil.sen_needs = _sen_needs(pupil.sen_provision, life, pupil)


def _sen_needs(provision: str, life: _SchoolLife, pupil: Child) -> tuple[str, ...]:
    """A main type of need for a pupil with SEN provision, and a second for some."""
    shares = SEN_NEED_SHARES[provision]
    main = _pick_share(shares, life.draw("main_need", pupil))
    needs = [main]
    if main != "NSA" and life.draw("second_need", pupil) < SECOND_SEN_NEED_SHARE:
        others = {code: share for code, share in shares.items() if code not in (main, "NSA")}
        needs.append(_pick_share(others, life.draw("other_need", pupil)))
    return tuple(needs)


def _pick_share(shares: dict[str, float], draw: float) -> str:
    """The key whose cumulative share first exceeds ``draw`` (shares need not sum to one)."""
    total = sum(shares.values())
    running = 0.0
    for code, share in shares.items():
        running += share / total
        if draw < running:
            return code
    return next(reversed(shares))


def _leave_for_schools_outside_the_authority(population: Population, life: _SchoolLife) -> None:
    """Some pupils move to an independent school, home education or a school in another
    authority after the autumn census, while the family stays: a leaver if before spring, and
    out of the authority's schools in later years."""
    pupils = [c for c in population.children if c.is_pupil]
    leaving = life.rng.random(len(pupils)) < LEFT_FOR_SCHOOL_OUTSIDE_LA_SHARE
    day_draw = life.rng.random(len(pupils))
    first = population.autumn_census_day + timedelta(days=1)
    window = (population.year.last_day - first).days + 1
    for pupil, leaves, draw in zip(pupils, leaving, day_draw, strict=True):
        if not leaves:
            continue
        left = first + timedelta(days=int(draw * window))
        if pupil.entry_date is not None and left > pupil.entry_date:
            pupil.left_school_on = left
            life.left_la_schools.add(pupil.child_id)


def _deaths(
    children: list[Child], first_day: date, last_day: date, rng: np.random.Generator
) -> None:
    """Set ``died_on`` for the children who die from ``first_day`` to ``last_day``
    (``DEATHS_PER_1000_A_YEAR``, infants' rate in their first year, scaled by the time a child
    lives in the authority as a child: a baby born during it, a family arriving or leaving, an
    18th birthday)."""
    death_draw = rng.random(len(children))
    day_draw = rng.random(len(children))
    for child, dies, when in zip(children, death_draw, day_draw, strict=True):
        household = child.household
        born = child.date_of_birth
        exposed_from = max(born, first_day, household.arrived_on or date.min)
        exposed_to = min(last_day, birthday(born, 18) - timedelta(days=1))
        if household.left_on is not None:
            exposed_to = min(exposed_to, household.left_on - timedelta(days=1))
        exposed_days = (exposed_to - exposed_from).days + 1
        if exposed_days <= 1:
            continue
        first_birthday = born + timedelta(days=365)
        infant_days = max(
            0, (min(exposed_to + timedelta(days=1), first_birthday) - exposed_from).days
        )
        chance = (
            (
                DEATHS_PER_1000_A_YEAR["infant"] * infant_days
                + DEATHS_PER_1000_A_YEAR["child"] * (exposed_days - infant_days)
            )
            / 1000
            / 365
        )
        if dies >= chance:
            continue
        died_on = exposed_from + timedelta(days=int(when * exposed_days))
        # A child is alive for at least a day: ``is_alive_on`` is false on the day of death.
        died_on = max(died_on, born + timedelta(days=1))
        if died_on <= exposed_to:
            child.died_on = died_on
