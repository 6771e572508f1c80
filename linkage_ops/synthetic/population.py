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
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from linkage_ops.identifiers import make_upn, upn_check_letter
from linkage_ops.synthetic import names
from linkage_ops.synthetic.addresses import POSTCODE_AREAS, Address, AddressBook
from linkage_ops.synthetic.school_year import (
    CollectionYear,
    academic_year_start,
    age_on,
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

    def address_on(self, day: date) -> Address:
        """Where the family lived on ``day`` (the previous address before a move)."""
        if self.previous_address is not None and self.moved_on is not None and day < self.moved_on:
            return self.previous_address
        return self.address

    def lives_here_on(self, day: date) -> bool:
        """The family lives in the authority on ``day``."""
        return (self.arrived_on is None or self.arrived_on <= day) and (
            self.left_on is None or day < self.left_on
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
    """The whole synthetic authority over one collection year."""

    year: CollectionYear
    households: list[Household]
    children: list[Child]
    schools: list[School]

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
    if children < 1:
        raise ValueError("children must be at least 1")
    if isinstance(year, str):
        year = parse_collection_year(year)
    families = _family_birth_dates(children, year, rng)
    book = AddressBook(rng, properties_needed=len(families))
    households = _households(families, book, year, rng)
    population = _children(households, families, year, rng)
    _place_in_schools(population, rng)
    _allocate_upns(population, rng)
    _school_circumstances(population, rng)
    _leave_for_schools_outside_the_authority(population, rng)
    _deaths(population, rng)
    return population


def _family_birth_dates(
    children: int, year: CollectionYear, rng: np.random.Generator
) -> list[list[tuple[date, bool]]]:
    """Each family's children aged 0-17 during ``year``, eldest first, as (birth date, twin of
    the previous).

    A family's youngest may not be born yet and its eldest may already be an adult: only those
    aged 0-17 at some point in the year are kept, so ages come out flat rather than bunched in
    the middle of childhood, and about one child in 19 is born during the year, as the youngest
    of a family with young children or as a family's first.
    """
    latest = year.last_day
    earliest = year.first_day.replace(year=year.first_day.year - 18) + timedelta(days=1)
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
    year: CollectionYear,
    rng: np.random.Generator,
) -> list[Household]:
    count = len(families)
    areas = book.draw_areas(count)
    ethnicities = _weighted_pick(ETHNICITY_SHARES, rng, count)
    surnames = _surname_draw(rng, count)
    moved = rng.random(count) < MOVED_HOUSEHOLD_SHARE
    move_days = rng.integers(14, MOVE_WINDOW_DAYS + 1, count)
    within_area = rng.random(count) < MOVED_WITHIN_AREA_SHARE
    other_area = book.draw_areas(count)
    outside = rng.random(count) < OUTSIDE_LA_SCHOOLS_SHARE
    service = rng.random(count) < SERVICE_FAMILY_SHARE
    language_draw = rng.random(count)
    # Eligibility is dated from the spring census, so some periods open between the censuses.
    fsm = _fsm_household_periods(count, year.census_periods[1].census_day, rng)
    year_days = (year.last_day - year.first_day).days + 1
    arrived = rng.random(count) < ARRIVED_HOUSEHOLD_SHARE
    left = rng.random(count) < LEFT_HOUSEHOLD_SHARE
    arrival_days = rng.integers(0, year_days, count)
    leaving_days = rng.integers(0, year_days, count)
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
            moved_on = year.last_day - timedelta(days=int(move_days[i]))
        # Families who arrive or leave are not also given a move within the county.
        arrived_on = None
        left_on = None
        if not moved[i] and arrived[i]:
            arrived_on = year.first_day + timedelta(days=int(arrival_days[i]))
        elif not moved[i] and left[i]:
            # No child is born after the family has gone: they would be in no local record.
            youngest_born = families[i][-1][0]
            left_on = max(
                year.first_day + timedelta(days=int(leaving_days[i])),
                youngest_born + timedelta(days=30),
            )
            if left_on > year.last_day:
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
    year: CollectionYear,
    rng: np.random.Generator,
) -> Population:
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
            )
            children.append(child)
            household.children.append(child)

    for first, second in twin_pairs:
        children[first].twin_of = children[second].child_id
        children[second].twin_of = children[first].child_id
    _give_forenames(children, households, rng)
    _give_other_surnames(children, rng)
    return Population(year=year, households=households, children=children, schools=[])


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


def _place_in_schools(population: Population, rng: np.random.Generator) -> None:
    """A school and year group for every child of school age whose family uses LA schools.

    Placement is decided on the autumn census day; a family moving within the county later in
    the year keeps its schools. A family arriving during the year starts a few weeks later.
    """
    census_day = population.autumn_census_day
    academic_year = academic_year_start(census_day)
    children = population.children
    year_numbers = [nc_year_number(c.date_of_birth, census_day) for c in children]
    sixth_form = rng.random(len(children)) < SIXTH_FORM_SHARE
    special = rng.random(len(children)) < SPECIAL_SCHOOL_SHARE
    pupils: list[tuple[Child, int, str]] = []
    for child, year in zip(children, year_numbers, strict=True):
        if child.household.outside_la_schools or year < 0 or year > 13:
            continue
        if year >= 12 and not sixth_form[child.index]:
            continue
        phase = "special" if special[child.index] else "primary" if year <= 6 else "secondary"
        pupils.append((child, year, phase))

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
    by_area = {
        phase: {a: [s for s in found if s.area_index == a] for a in range(area_count)}
        for phase, found in schools.items()
    }

    area_by_outward = {area.outward: i for i, area in enumerate(POSTCODE_AREAS)}
    household_choice: dict[tuple[str, str], School] = {}
    in_year = rng.random(len(children)) < IN_YEAR_ADMISSION_SHARE
    entry_days = rng.random(len(children))
    move_settle = rng.integers(3, 40, len(children))
    for child, year, phase in pupils:
        household = child.household
        key = (household.household_id, phase)
        if key not in household_choice:
            area = area_by_outward[household.address_on(census_day).outward]
            local = by_area[phase].get(area) or schools[phase]
            household_choice[key] = local[int(rng.integers(0, len(local)))]
        child.school = household_choice[key]
        child.nc_year = year
        start = first_school_day(_phase_start_year(year, academic_year, phase))
        if household.arrived_on is not None:
            # A new arrival starts once a place is found, possibly after a census day.
            arrival = household.arrived_on + timedelta(days=int(move_settle[child.index]))
            child.entry_date = _school_day_on_or_after(max(arrival, start))
            continue
        entry = start
        moved_here = (
            household.moved_on is not None
            and start < household.moved_on <= census_day
            and household.previous_address is not None
            and household.previous_address.outward != household.address.outward
        )
        if moved_here:
            entry = household.moved_on + timedelta(days=int(move_settle[child.index]))
        elif in_year[child.index]:
            entry = start + timedelta(days=int(entry_days[child.index] * (census_day - start).days))
        entry = min(entry, census_day - timedelta(days=1))
        while entry.weekday() >= 5:
            entry -= timedelta(days=1)
        child.entry_date = max(entry, start)
    population.schools = [s for phase in ESTABLISHMENT_RANGES for s in schools[phase]]
    for table_id, school in enumerate(population.schools, start=1):
        school.table_id = table_id


def _school_day_on_or_after(day: date) -> date:
    """The first weekday in term on or after ``day`` (the summer holiday ends in September)."""
    if (7, 23) <= (day.month, day.day) < (9, 2):
        day = first_school_day(day.year)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _allocate_upns(population: Population, rng: np.random.Generator) -> None:
    """A permanent UPN for every child who is or was in an LA school, unique county-wide.

    The UPN carries the establishment of the child's first school and the year it was issued;
    serials run 001-999 per school per year, spilling to another school's number when full.
    A child whose family arrived during the year keeps the UPN their last authority issued.
    """
    census_day = population.autumn_census_day
    academic_year = academic_year_start(census_day)
    primaries = [s for s in population.schools if s.phase == "primary"]
    primaries_by_area: dict[int, list[School]] = {}
    for school in primaries:
        primaries_by_area.setdefault(school.area_index, []).append(school)
    area_by_outward = {area.outward: i for i, area in enumerate(POSTCODE_AREAS)}
    children = population.children
    late_draw = rng.random(len(children))
    primary_pick = rng.integers(0, 1 << 30, len(children))
    late_year_draw = rng.random(len(children))

    requests: list[tuple[Child, int, int]] = []
    arrivals: list[tuple[Child, int]] = []
    for child in children:
        year = nc_year_number(child.date_of_birth, census_day)
        was_pupil = child.school is not None or (
            12 <= year <= 13 and not child.household.outside_la_schools
        )
        if not was_pupil:
            continue
        reception_year = academic_year - year
        late_share = LATE_UPN_SHARE["english" if child.language in ("ENG", "ENB") else "other"]
        issue_year = reception_year
        if late_draw[child.index] < late_share and year > 0:
            issue_year = reception_year + 1 + int(late_year_draw[child.index] * year)
            issue_year = min(issue_year, academic_year)
        if child.household.arrived_on is not None:
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
            area = child.household.area_index
            if child.household.previous_address is not None:
                area = area_by_outward[child.household.previous_address.outward]
            local = primaries_by_area.get(area) or primaries
            estab = local[int(primary_pick[child.index]) % len(local)].estab
        requests.append((child, estab, issue_year))

    order = rng.permutation(len(requests))
    next_serial: dict[tuple[int, int], int] = {}
    estab_ring = sorted(s.estab for s in population.schools)
    for position in order.tolist():
        child, estab, issue_year = requests[position]
        chosen = estab
        if next_serial.get((chosen, issue_year), 1) > UPN_SERIALS_PER_SCHOOL_YEAR:
            start = estab_ring.index(estab) if estab in estab_ring else 0
            for step in range(1, len(estab_ring) + 1):
                candidate = estab_ring[(start + step) % len(estab_ring)]
                if next_serial.get((candidate, issue_year), 1) <= UPN_SERIALS_PER_SCHOOL_YEAR:
                    chosen = candidate
                    break
            else:
                raise ValueError(f"no UPN serials left for year {issue_year}")
        serial = next_serial.get((chosen, issue_year), 1)
        next_serial[(chosen, issue_year)] = serial + 1
        child.upn = make_upn(LA_NUMBER, chosen, issue_year, serial)

    issued_elsewhere: set[str] = set()
    for child, issue_year in arrivals:
        while True:
            la = ARRIVAL_LA_NUMBERS[int(rng.integers(0, len(ARRIVAL_LA_NUMBERS)))]
            estab = int(rng.integers(2001, 3000))
            upn = make_upn(la, estab, issue_year, int(rng.integers(1, 1000)))
            if upn not in issued_elsewhere:
                issued_elsewhere.add(upn)
                child.upn = upn
                break

    _allocate_former_upns(population, rng)
    _allocate_ulns(population, rng)


def _allocate_former_upns(population: Population, rng: np.random.Generator) -> None:
    """Some pupils carry an older UPN: a temporary one (ends in a letter) or another LA's."""
    pupils = [c for c in population.children if c.is_pupil]
    chosen = rng.random(len(pupils)) < FORMER_UPN_SHARE
    temporary = rng.random(len(pupils)) < 0.5
    issued: set[str] = set()
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    for pupil, pick, is_temporary in zip(pupils, chosen, temporary, strict=True):
        if not pick:
            continue
        year = int(pupil.upn[8:10])
        while True:
            if is_temporary:
                serial = int(rng.integers(0, 100))
                letter = letters[int(rng.integers(0, len(letters)))]
                body = f"{LA_NUMBER:03d}{pupil.school.estab:04d}{year:02d}{serial:02d}{letter}"
                former = upn_check_letter(body) + body
            else:
                la = NEIGHBOURING_LA_NUMBERS[int(rng.integers(0, len(NEIGHBOURING_LA_NUMBERS)))]
                estab = int(rng.integers(2001, 3000))
                former = make_upn(la, estab, 2000 + year, int(rng.integers(1, 1000)))
            if former not in issued:
                issued.add(former)
                pupil.former_upn = former
                break


def _allocate_ulns(population: Population, rng: np.random.Generator) -> None:
    """Unique Learner Numbers (10 digits) for pupils aged 14 and over."""
    older = [
        c
        for c in population.children
        if c.is_pupil and age_on(c.date_of_birth, population.autumn_census_day) >= ULN_FROM_AGE
    ]
    issued: set[int] = set()
    draws = rng.integers(
        1_000_000_000, 10_000_000_000, size=len(older) + 50, dtype=np.int64
    ).tolist()
    cursor = 0
    for pupil in older:
        while draws[cursor] in issued:
            cursor += 1
        issued.add(draws[cursor])
        pupil.uln = str(draws[cursor])
        cursor += 1


def _school_circumstances(population: Population, rng: np.random.Generator) -> None:
    """SEN provision and types of need, FSM periods and the census flags for each pupil."""
    pupils = [c for c in population.children if c.is_pupil]
    count = len(pupils)
    special = sum(1 for p in pupils if p.school.phase == "special")
    mainstream = max(1, count - special)
    ehc_rate = max(0.0, (SEN_SHARES["E"] * count - special) / mainstream)
    sen_draw = rng.random(count)
    carer = rng.random(count) < YOUNG_CARER_SHARE
    part_time = rng.random(count) < PART_TIME_RECEPTION_SHARE
    plaa = rng.random(count) < PLAA_SHARE
    plaa_code = rng.integers(0, len(PLAA_CODES), count)
    dual = rng.random(count) < DUAL_REGISTERED_SHARE
    academic_year = academic_year_start(population.autumn_census_day)
    for i, pupil in enumerate(pupils):
        if pupil.school.phase == "special" or sen_draw[i] < ehc_rate:
            pupil.sen_provision = "E"
        elif sen_draw[i] < ehc_rate + SEN_SHARES["K"]:
            pupil.sen_provision = "K"
        pupil.young_carer = bool(carer[i]) and (pupil.nc_year or 0) >= 3
        pupil.part_time = bool(part_time[i]) and pupil.nc_year == 0
        pupil.plaa = PLAA_CODES[int(plaa_code[i])] if plaa[i] else ""
        pupil.enrol_status = "M" if dual[i] else "C"
        # Eligibility can only be recorded once the child is at school (here, for a new arrival).
        school_start = first_school_day(academic_year - (pupil.nc_year or 0))
        if pupil.household.arrived_on is not None and pupil.entry_date is not None:
            school_start = max(school_start, pupil.entry_date)
        for start, end in pupil.household.fsm_periods:
            if end is not None and end <= school_start:
                continue
            pupil.fsm_periods.append((max(start, school_start), end))
    _sen_needs([p for p in pupils if p.sen_provision != "N"], rng)


def _sen_needs(pupils: list[Child], rng: np.random.Generator) -> None:
    """A main type of need for each pupil with SEN provision, and a second for some."""
    main_draw = rng.random(len(pupils))
    second_draw = rng.random(len(pupils))
    other_draw = rng.random(len(pupils))
    for i, pupil in enumerate(pupils):
        shares = SEN_NEED_SHARES[pupil.sen_provision]
        main = _pick_share(shares, float(main_draw[i]))
        needs = [main]
        if main != "NSA" and second_draw[i] < SECOND_SEN_NEED_SHARE:
            others = {code: share for code, share in shares.items() if code not in (main, "NSA")}
            needs.append(_pick_share(others, float(other_draw[i])))
        pupil.sen_needs = tuple(needs)


def _pick_share(shares: dict[str, float], draw: float) -> str:
    """The key whose cumulative share first exceeds ``draw`` (shares need not sum to one)."""
    total = sum(shares.values())
    running = 0.0
    for code, share in shares.items():
        running += share / total
        if draw < running:
            return code
    return next(reversed(shares))


def _leave_for_schools_outside_the_authority(
    population: Population, rng: np.random.Generator
) -> None:
    """Some pupils move to an independent school, home education or a school in another
    authority after the autumn census, while the family stays: a leaver if before spring."""
    pupils = [c for c in population.children if c.is_pupil]
    leaving = rng.random(len(pupils)) < LEFT_FOR_SCHOOL_OUTSIDE_LA_SHARE
    day_draw = rng.random(len(pupils))
    first = population.autumn_census_day + timedelta(days=1)
    window = (population.year.last_day - first).days + 1
    for pupil, leaves, draw in zip(pupils, leaving, day_draw, strict=True):
        if not leaves:
            continue
        left = first + timedelta(days=int(draw * window))
        if pupil.entry_date is not None and left > pupil.entry_date:
            pupil.left_school_on = left


def _deaths(population: Population, rng: np.random.Generator) -> None:
    """Set ``died_on`` for the children who die during the year (``DEATHS_PER_1000_A_YEAR``,
    scaled by the part of the year a child lives in the authority: a baby born during it, a
    family arriving or leaving)."""
    year = population.year
    infant_born_after = year.first_day - timedelta(days=365)
    children = population.children
    death_draw = rng.random(len(children))
    day_draw = rng.random(len(children))
    for child, dies, when in zip(children, death_draw, day_draw, strict=True):
        household = child.household
        exposed_from = max(child.date_of_birth, year.first_day, household.arrived_on or date.min)
        exposed_to = year.last_day
        if household.left_on is not None:
            exposed_to = household.left_on - timedelta(days=1)
        exposed_days = (exposed_to - exposed_from).days + 1
        if exposed_days <= 1:
            continue
        age_band = "infant" if child.date_of_birth > infant_born_after else "child"
        chance = DEATHS_PER_1000_A_YEAR[age_band] / 1000 * exposed_days / 365
        if dies >= chance:
            continue
        died_on = exposed_from + timedelta(days=int(when * exposed_days))
        # A child is alive for at least a day: ``is_alive_on`` is false on the day of death.
        died_on = max(died_on, child.date_of_birth + timedelta(days=1))
        if died_on <= exposed_to:
            child.died_on = died_on
