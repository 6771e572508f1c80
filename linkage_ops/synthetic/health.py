"""One health year for the whole population: the events every health feed is written from.

``build_health_year`` draws, once and from one seeded generator, every health event of the
collection year (A&E attendances, admissions, CAMHS and CYPS referrals, community contacts,
child health events, births and deaths). Each feed's writer then only selects the events of
the months it is asked for and records them with its own, persistent recording errors, so
the feeds agree with each other: a child who dies has no event after the day of death and
appears in the deaths feed that month; a baby born in the year is in the births feed in its
birth month and in other feeds only from the following month.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.names import nicknames
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import (
    Child,
    Population,
    School,
    allocate_nhs_numbers,
)
from linkage_ops.synthetic.recording_errors import (
    RECORDING_ERROR_RATES,
    corrupt_nhs_number,
    draw_candidate_errors,
    joined_errors,
    layout_nhs_number,
    postcode_typo,
    record_person,
)
from linkage_ops.synthetic.school_year import CollectionYear, age_on, parse_month_period

# NHS ethnic category (one letter) for each DfE code; REFU and NOBT are both "not stated".
NHS_ETHNIC_CATEGORY: dict[str, str] = {
    "WBRI": "A",
    "WIRI": "B",
    "WOTH": "C",
    "WIRT": "C",
    "WROM": "C",
    "MWBC": "D",
    "MWBA": "E",
    "MWAS": "F",
    "MOTH": "G",
    "AIND": "H",
    "APKN": "J",
    "ABAN": "K",
    "AOTH": "L",
    "BCRB": "M",
    "BAFR": "N",
    "BOTH": "P",
    "CHNE": "R",
    "OOTH": "S",
    "REFU": "Z",
    "NOBT": "Z",
}
# NHS numbers arrive as 9991234567, 999 123 4567 or 999-123-4567.
NHS_NUMBER_LAYOUTS = {"plain": 0.75, "spaces": 0.22, "dashes": 0.03}

# Providers (ODS codes) and their share of the work.
COMMUNITY_PROVIDERS = {"public_health_nursing": "RLQ", "childrens_therapies": "R1A"}
CAMHS_PROVIDER = "R1A"
ACUTE_TRUST = "RLQ"

# A&E: expected attendances per child-year by age band (infants and teenagers attend most).
ATTENDANCE_RATES = ((1, 0.55), (5, 0.33), (12, 0.18), (19, 0.36))  # (below age, rate)
ATTENDANCE_HOURS = np.array(
    [1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 7, 8, 8, 8, 7, 6, 4, 3, 2]
)
# SNOMED CT concepts (ids as ECDS carries them): chief complaint, then a fitting diagnosis.
EMERGENCY_PRESENTATIONS: tuple[tuple[str, str, float], ...] = (
    ("386661006", "54150009", 0.20),  # fever; upper respiratory tract infection
    ("267036007", "195967001", 0.10),  # difficulty breathing; asthma
    ("21522001", "25374005", 0.12),  # abdominal pain; gastroenteritis
    ("422400008", "25374005", 0.08),  # vomiting; gastroenteritis
    ("82271004", "82271004", 0.15),  # head injury; head injury
    ("125605004", "125605004", 0.15),  # limb injury; fracture of bone
    ("271807003", "43116000", 0.07),  # rash; eczema
    ("25064002", "37796009", 0.05),  # headache; migraine
    ("248062006", "248062006", 0.04),  # self-harm; self-harm
    ("72431002", "72431002", 0.04),  # ingestion; accidental poisoning
)
SAFEGUARDING_SHARE = {"infant": 0.06, "other": 0.025}

# Admitted care: expected admissions per child-year by age band; ICD-10 diagnoses (4 chars).
ADMISSION_RATES = ((1, 0.30), (5, 0.07), (12, 0.04), (19, 0.06))
ADMISSION_DIAGNOSES: tuple[tuple[str, float], ...] = (
    ("J210", 0.12),  # bronchiolitis (RSV)
    ("J45X", 0.10),  # asthma
    ("A09X", 0.12),  # gastroenteritis
    ("J189", 0.08),  # pneumonia
    ("S069", 0.07),  # head injury
    ("S525", 0.06),  # fracture of forearm
    ("K358", 0.06),  # appendicitis
    ("N390", 0.06),  # urinary tract infection
    ("P599", 0.08),  # neonatal jaundice
    ("R104", 0.10),  # abdominal pain
    ("F500", 0.02),  # anorexia nervosa
    ("T391", 0.03),  # paracetamol overdose
)
SECONDARY_DIAGNOSES = ("R509", "E860", "Z880", "J069", "R11X", "Z915")
LENGTH_OF_STAY_DAYS = (0, 1, 1, 2, 2, 3, 4, 6, 9)

# CAMHS: chance of a referral in a year by age band, raised for SEN support and EHC plans.
CAMHS_REFERRAL_RATES = ((5, 0.003), (12, 0.03), (19, 0.07))
CAMHS_SEN_FACTOR = {"N": 1.0, "K": 2.2, "E": 3.0}
CAMHS_WAIT_MEAN_DAYS = 75
CAMHS_SEEN_SHARE = 0.85  # the rest are closed without a contact
# MHSDS-style codes (the exact national code lists were not checked against the TOS).
CAMHS_REFERRAL_SOURCES = {"A1": 0.45, "D1": 0.2, "B2": 0.12, "C1": 0.08, "H1": 0.1, "B1": 0.05}
CAMHS_TEAM_TYPES = {"C04": 0.25, "C05": 0.05, "C10": 0.7}

# CYPS: referrals per child-year and their reasons.
CYPS_REFERRAL_RATE = 0.03
CYPS_REASONS = {
    "EMOTIONAL_WELLBEING": 0.35,
    "BEHAVIOUR": 0.2,
    "NEURODEVELOPMENTAL": 0.2,
    "SPEECH_LANGUAGE": 0.15,
    "FAMILY_SUPPORT": 0.1,
}

# Community services: the universal health visiting reviews (days after birth), then the
# school nursing and children's therapy services (service codes are local, not national).
HEALTH_VISITING_REVIEWS = (("NBV", 12), ("6_8WK", 49), ("1YR", 365), ("2_2HYR", 820))
SCHOOL_NURSING_RATE = 0.12
THERAPY_SHARE = {"N": 0.03, "K": 0.10, "E": 0.20}
THERAPY_SERVICES = {"SLT": 0.5, "OT": 0.25, "PHYSIO": 0.25}
ATTENDANCE_OUTCOMES = {"5": 0.82, "6": 0.03, "7": 0.01, "2": 0.04, "3": 0.07, "4": 0.03}

# Child health (CHIS): immunisations and reviews by days after birth, and how often each
# is done (late by up to ``CHILD_HEALTH_DELAY_DAYS``).
CHILD_HEALTH_SCHEDULE: tuple[tuple[str, str, int], ...] = (
    ("IMMUNISATION", "8WK_IMMS", 56),
    ("IMMUNISATION", "12WK_IMMS", 84),
    ("IMMUNISATION", "16WK_IMMS", 112),
    ("IMMUNISATION", "1YR_IMMS", 365),
    ("IMMUNISATION", "3Y4M_PRESCHOOL", 1218),
    ("IMMUNISATION", "TEEN_BOOSTER", 5160),
    ("DEVELOPMENT_REVIEW", "6_8WK_REVIEW", 49),
    ("DEVELOPMENT_REVIEW", "1YR_REVIEW", 365),
    ("DEVELOPMENT_REVIEW", "2_2HYR_REVIEW", 820),
)
CHILD_HEALTH_DONE_SHARE = 0.92
CHILD_HEALTH_DELAY_DAYS = 40
CHILDREN_PER_PRACTICE = 800

# Births and deaths.
BIRTH_WEIGHT_MEAN_GRAMS = 3350
PRETERM_SHARE = 0.075
MOTHER_AGE_YEARS = (18, 44)
DEATH_CAUSES = {
    "infant": ("P072", "Q249", "R95X", "P369"),
    "child": ("C959", "G409", "V892", "J189"),
}


def school_urn(school: School) -> str:
    """A six-digit URN for an LA school (the population knows only establishment numbers)."""
    return f"1{school.estab:05d}"


@dataclass(frozen=True, slots=True)
class Attendance:
    """One A&E attendance."""

    attendance_id: int
    child: Child
    arrival_date: date
    arrival_time: str
    chief_complaint: str
    diagnosis: str
    safeguarding_concern: bool


@dataclass(frozen=True, slots=True)
class Admission:
    """One admitted-care episode."""

    episode_key: int
    child: Child
    admitted: date
    discharged: date
    diagnoses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CamhsReferral:
    """A referral to CAMHS; open until discharged (or the child's death)."""

    referral_id: int
    child: Child
    received: date
    source: str
    team_type: str
    first_contact: date | None
    discharged: date | None


@dataclass(frozen=True, slots=True)
class CypsReferral:
    """A referral to the Children and Young People's Service."""

    referral_id: int
    child: Child
    received: date
    reason: str
    first_contact: date | None
    closed: date | None


@dataclass(frozen=True, slots=True)
class CommunityContact:
    """One care contact with a community services provider."""

    contact_id: int
    child: Child
    provider: str
    day: date
    service: str
    outcome: str


@dataclass(frozen=True, slots=True)
class ChildHealthEvent:
    """An immunisation, development review or new entry on the child health record."""

    child: Child
    day: date
    event_type: str
    event_code: str


@dataclass(frozen=True, slots=True)
class Birth:
    """A baby born in the collection year, with the mother (not a linked person)."""

    child: Child
    birth_weight_grams: int
    gestation_weeks: int
    mother_nhs_number: str
    mother_date_of_birth: date


@dataclass
class HealthYear:
    """Every health event of one collection year, for one population."""

    population: Population
    year: CollectionYear
    attendances: list[Attendance] = field(default_factory=list)
    admissions: list[Admission] = field(default_factory=list)
    camhs_referrals: list[CamhsReferral] = field(default_factory=list)
    cyps_referrals: list[CypsReferral] = field(default_factory=list)
    community_contacts: list[CommunityContact] = field(default_factory=list)
    child_health_events: list[ChildHealthEvent] = field(default_factory=list)
    births: list[Birth] = field(default_factory=list)
    death_causes: dict[str, str] = field(default_factory=dict)  # child_id -> ICD-10
    # child_id -> first and last day the child can have an event (alive, living here).
    windows: dict[str, tuple[date, date]] = field(default_factory=dict)
    # (provider, child_id) -> the provider's own patient id, the same in every month.
    local_patient_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    practice_codes: dict[str, str] = field(default_factory=dict)  # household_id -> practice

    def check_month(self, period: str) -> tuple[date, date]:
        """First and last day of a month of this year; ``ValueError`` for any other period."""
        if period not in self.year.months:
            raise ValueError(f"{period!r} is not a month of the collection year {self.year.label}")
        last = parse_month_period(period)
        return last.replace(day=1), last

    def last_event_day(self, child: Child, day: date) -> date:
        """``day``, or the child's last day alive and in the authority if that is earlier."""
        return min(day, self.windows[child.child_id][1])

    def local_patient_id(self, provider: str, child: Child) -> str:
        """The provider's patient id for ``child``."""
        return self.local_patient_ids[(provider, child.child_id)]


def month_of(day: date) -> str:
    """``YYYY-MM`` of a date: the monthly period an event is reported in."""
    return f"{day.year}-{day.month:02d}"


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _rate_for_age(bands: tuple[tuple[int, float], ...], age: int) -> float:
    for below, rate in bands:
        if age < below:
            return rate
    return bands[-1][1]


def _weighted(shares: dict[str, float]) -> tuple[list[str], np.ndarray]:
    weights = np.array(list(shares.values()), dtype=float)
    return list(shares), weights / weights.sum()


def build_health_year(population: Population, rng: np.random.Generator) -> HealthYear:
    """Draw every health event of the population's collection year.

    Events fall inside each child's window: from birth or the family's arrival in the
    authority (for a baby born in the year, from the first day of the month after its birth,
    when it reaches the other feeds) to the end of the year, the day before death or the day
    before the family left.
    """
    year = population.year
    health = HealthYear(population=population, year=year)
    children = population.children
    first_day, last_day = year.first_day, year.last_day
    starts: list[date] = []
    ends: list[date] = []
    for child in children:
        household = child.household
        start = max(first_day, child.date_of_birth, household.arrived_on or first_day)
        if child.date_of_birth >= first_day:
            start = max(start, _first_of_next_month(child.date_of_birth))
        end = last_day
        # ``Child.is_alive_on`` is false on the day of death; ``left_on`` is the first day away.
        for gone in (child.died_on, household.left_on):
            if gone is not None:
                end = min(end, gone - timedelta(days=1))
        starts.append(start)
        ends.append(end)
        health.windows[child.child_id] = (start, end)
    span = np.array([max(0, (e - s).days + 1) for s, e in zip(starts, ends, strict=True)])
    exposure = span / ((last_day - first_day).days + 1)
    ages = np.array([age_on(c.date_of_birth, max(first_day, c.date_of_birth)) for c in children])

    def day_in_window(index: int, fraction: float) -> date:
        return starts[index] + timedelta(days=int(fraction * span[index]))

    _attendances(health, ages, exposure, span, day_in_window, rng)
    _admissions(health, ages, exposure, day_in_window, rng)
    _camhs_referrals(health, ages, starts, ends, rng)
    _cyps_referrals(health, exposure, day_in_window, ends, rng)
    _community_contacts(health, ages, exposure, starts, ends, day_in_window, rng)
    _child_health_events(health, starts, ends, rng)
    _births(health, rng)
    _deaths(health, rng)
    _patient_ids(health, rng)
    _practice_codes(health, rng)
    return health


def _attendances(health, ages, exposure, span, day_in_window, rng) -> None:
    children = health.population.children
    rates = np.array([_rate_for_age(ATTENDANCE_RATES, int(a)) for a in ages])
    counts = rng.poisson(rates * exposure)
    total = int(counts.sum())
    owners = np.repeat(np.arange(len(children)), counts)
    fractions = rng.random(total)
    hours = rng.choice(24, size=total, p=ATTENDANCE_HOURS / ATTENDANCE_HOURS.sum())
    minutes = rng.integers(0, 60, total)
    seconds = rng.integers(0, 60, total)
    weights = np.array([w for _, _, w in EMERGENCY_PRESENTATIONS])
    presentations = rng.choice(len(weights), size=total, p=weights / weights.sum())
    concern_draw = rng.random(total)
    drafts = []
    for i, owner in enumerate(owners.tolist()):
        if span[owner] == 0:
            continue
        child = children[owner]
        complaint, diagnosis, _ = EMERGENCY_PRESENTATIONS[int(presentations[i])]
        share = SAFEGUARDING_SHARE["infant" if ages[owner] < 1 else "other"]
        arrival = day_in_window(owner, float(fractions[i]))
        time = f"{int(hours[i]):02d}:{int(minutes[i]):02d}:{int(seconds[i]):02d}"
        drafts.append((arrival, time, child.index, complaint, diagnosis, concern_draw[i] < share))
    drafts.sort(key=lambda d: (d[0], d[1], d[2]))
    for attendance_id, (arrival, time, index, complaint, diagnosis, concern) in enumerate(
        drafts, start=1
    ):
        health.attendances.append(
            Attendance(
                attendance_id, children[index], arrival, time, complaint, diagnosis, bool(concern)
            )
        )


def _admissions(health, ages, exposure, day_in_window, rng) -> None:
    children = health.population.children
    rates = np.array([_rate_for_age(ADMISSION_RATES, int(a)) for a in ages])
    counts = rng.poisson(rates * exposure)
    owners = np.repeat(np.arange(len(children)), counts).tolist()
    total = len(owners)
    fractions = rng.random(total)
    weights = np.array([w for _, w in ADMISSION_DIAGNOSES])
    primary = rng.choice(len(weights), size=total, p=weights / weights.sum())
    extra = rng.integers(0, 3, total)
    secondary = rng.integers(0, len(SECONDARY_DIAGNOSES), (total, 2))
    stay = rng.choice(LENGTH_OF_STAY_DAYS, size=total)
    drafts = []
    for i, owner in enumerate(owners):
        child = children[owner]
        code = ADMISSION_DIAGNOSES[int(primary[i])][0]
        if code in ("P599", "J210") and ages[owner] >= 1:
            code = "A09X"  # neonatal and bronchiolitis diagnoses are for infants
        diagnoses = [code]
        for j in range(int(extra[i])):
            other = SECONDARY_DIAGNOSES[int(secondary[i, j])]
            if other not in diagnoses:
                diagnoses.append(other)
        admitted = day_in_window(owner, float(fractions[i]))
        discharged = min(admitted + timedelta(days=int(stay[i])), health.windows[child.child_id][1])
        drafts.append((admitted, child.index, discharged, tuple(diagnoses)))
    drafts.sort(key=lambda d: (d[0], d[1]))
    for key, (admitted, index, discharged, diagnoses) in enumerate(drafts, start=1):
        health.admissions.append(Admission(key, children[index], admitted, discharged, diagnoses))


def _camhs_referrals(health, ages, starts, ends, rng) -> None:
    """Referrals received in the year, and earlier ones still open when it began."""
    children = health.population.children
    count = len(children)
    first_day = health.year.first_day
    # Referrals from the half-year before still open in April reappear in every extract.
    lookback = 183
    rates = np.array(
        [
            _rate_for_age(CAMHS_REFERRAL_RATES, int(a)) * CAMHS_SEN_FACTOR[c.sen_provision]
            for c, a in zip(children, ages, strict=True)
        ]
    )
    referred = rng.random(count) < rates * (1 + lookback / 365)
    received_draw = rng.random(count)
    waits = rng.gamma(2.0, CAMHS_WAIT_MEAN_DAYS / 2.0, count)
    seen = rng.random(count) < CAMHS_SEEN_SHARE
    treatment = rng.integers(40, 330, count)
    unseen_close = rng.integers(20, 120, count)
    sources, source_p = _weighted(CAMHS_REFERRAL_SOURCES)
    teams, team_p = _weighted(CAMHS_TEAM_TYPES)
    source_pick = rng.choice(len(sources), size=count, p=source_p)
    team_pick = rng.choice(len(teams), size=count, p=team_p)
    drafts = []
    for index in np.nonzero(referred)[0].tolist():
        child = children[index]
        earliest = max(first_day - timedelta(days=lookback), child.date_of_birth + timedelta(365))
        if child.date_of_birth >= first_day:
            continue  # babies born in the year are not referred to CAMHS
        end = ends[index]
        if earliest > end:
            continue
        received = earliest + timedelta(days=int(received_draw[index] * (end - earliest).days))
        first_contact: date | None = None
        if seen[index]:
            first_contact = received + timedelta(days=max(3, int(waits[index])))
            discharged = first_contact + timedelta(days=int(treatment[index]))
        else:
            discharged = received + timedelta(days=int(unseen_close[index]))
        discharged = min(discharged, end)  # closed at death or when the family leaves
        if first_contact is not None and first_contact > discharged:
            first_contact = None
        if discharged < first_day:
            continue  # closed before the year: never in an extract
        drafts.append((received, index, first_contact, discharged))
    drafts.sort(key=lambda d: (d[0], d[1]))
    for referral_id, (received, index, first_contact, discharged) in enumerate(drafts, start=1):
        health.camhs_referrals.append(
            CamhsReferral(
                referral_id,
                children[index],
                received,
                sources[int(source_pick[index])],
                teams[int(team_pick[index])],
                first_contact,
                discharged if discharged <= health.year.last_day else None,
            )
        )


def _cyps_referrals(health, exposure, day_in_window, ends, rng) -> None:
    children = health.population.children
    count = len(children)
    referred = rng.random(count) < CYPS_REFERRAL_RATE * exposure
    fractions = rng.random(count)
    waits = rng.integers(7, 90, count)
    seen = rng.random(count) < 0.9
    duration = rng.integers(30, 200, count)
    reasons, reason_p = _weighted(CYPS_REASONS)
    pick = rng.choice(len(reasons), size=count, p=reason_p)
    drafts = []
    for index in np.nonzero(referred)[0].tolist():
        received = day_in_window(index, float(fractions[index]))
        contact = received + timedelta(days=int(waits[index])) if seen[index] else None
        closed = min((contact or received) + timedelta(days=int(duration[index])), ends[index])
        if contact is not None and contact > closed:
            contact = None
        drafts.append((received, index, contact, closed))
    drafts.sort(key=lambda d: (d[0], d[1]))
    last_day = health.year.last_day
    for referral_id, (received, index, contact, closed) in enumerate(drafts, start=1):
        health.cyps_referrals.append(
            CypsReferral(
                referral_id,
                children[index],
                received,
                reasons[int(pick[index])],
                contact if contact is not None and contact <= last_day else None,
                closed if closed <= last_day else None,
            )
        )


def _community_contacts(health, ages, exposure, starts, ends, day_in_window, rng) -> None:
    children = health.population.children
    count = len(children)
    nursing = COMMUNITY_PROVIDERS["public_health_nursing"]
    therapies = COMMUNITY_PROVIDERS["childrens_therapies"]
    outcomes, outcome_p = _weighted(ATTENDANCE_OUTCOMES)
    lateness = rng.integers(0, 21, (count, len(HEALTH_VISITING_REVIEWS)))
    school_counts = rng.poisson(SCHOOL_NURSING_RATE * exposure)
    therapy_draw = rng.random(count)
    therapy_counts = rng.integers(2, 8, count)
    services, service_p = _weighted(THERAPY_SERVICES)
    service_pick = rng.choice(len(services), size=count, p=service_p)
    fractions = rng.random((count, 8))
    drafts = []
    for child in children:
        index = child.index
        start, end = starts[index], ends[index]
        if start > end:
            continue
        for slot, (review, due_days) in enumerate(HEALTH_VISITING_REVIEWS):
            day = child.date_of_birth + timedelta(days=due_days + int(lateness[index, slot]))
            if child.date_of_birth >= health.year.first_day:
                day = max(day, start)  # a newborn reaches the feed in the month after birth
            if start <= day <= end:
                drafts.append((day, index, nursing, f"HV_{review}"))
        if 5 <= ages[index] <= 16:
            for k in range(min(int(school_counts[index]), 8)):
                drafts.append(
                    (day_in_window(index, float(fractions[index, k])), index, nursing, "SN")
                )
        if therapy_draw[index] < THERAPY_SHARE[child.sen_provision] * exposure[index]:
            service = services[int(service_pick[index])]
            for k in range(int(therapy_counts[index])):
                day = day_in_window(index, float(fractions[index, k]))
                drafts.append((day, index, therapies, service))
    drafts.sort(key=lambda d: (d[0], d[2], d[1], d[3]))
    picks = rng.choice(len(outcomes), size=len(drafts), p=outcome_p).tolist()
    for contact_id, ((day, index, provider, service), pick) in enumerate(
        zip(drafts, picks, strict=True), start=1
    ):
        health.community_contacts.append(
            CommunityContact(contact_id, children[index], provider, day, service, outcomes[pick])
        )


def _child_health_events(health, starts, ends, rng) -> None:
    children = health.population.children
    count = len(children)
    done = rng.random((count, len(CHILD_HEALTH_SCHEDULE))) < CHILD_HEALTH_DONE_SHARE
    delays = rng.integers(0, CHILD_HEALTH_DELAY_DAYS, (count, len(CHILD_HEALTH_SCHEDULE)))
    entry_delay = rng.integers(0, 10, count)
    events = []
    for child in children:
        index = child.index
        start, end = starts[index], ends[index]
        if start > end:
            continue
        arrived_on = child.household.arrived_on
        if child.date_of_birth >= health.year.first_day and (
            arrived_on is None or arrived_on <= child.date_of_birth
        ):
            # The new-birth record is opened once the notification arrives, next month.
            events.append(
                (start + timedelta(days=int(entry_delay[index])), index, "NEW_ENTRY", "BIRTH")
            )
        if arrived_on is not None and child.date_of_birth < arrived_on:
            # The record is transferred in from the family's previous area.
            moved_in = arrived_on + timedelta(days=int(entry_delay[index]))
            events.append((moved_in, index, "NEW_ENTRY", "MOVE_IN"))
        for slot, (event_type, code, due_days) in enumerate(CHILD_HEALTH_SCHEDULE):
            if not done[index, slot]:
                continue
            day = child.date_of_birth + timedelta(days=due_days + int(delays[index, slot]))
            if start <= day <= end:
                events.append((day, index, event_type, code))
    events.sort(key=lambda e: (e[0], e[1], e[2], e[3]))
    for day, index, event_type, code in events:
        if day <= ends[index]:
            health.child_health_events.append(
                ChildHealthEvent(children[index], day, event_type, code)
            )


def _births(health: HealthYear, rng: np.random.Generator) -> None:
    population = health.population
    # Births to families living in the authority at the time.
    babies = [
        c
        for c in population.children
        if health.year.first_day <= c.date_of_birth <= health.year.last_day
        and c.household.lives_here_on(c.date_of_birth)
    ]
    # Mothers get NHS numbers of their own, never one of the children's.
    taken = {c.nhs_number for c in population.children}
    spare = [
        n
        for n in allocate_nhs_numbers(rng, len(population.households) + len(taken))
        if n not in taken
    ]
    mother_numbers = {h.household_id: spare[i] for i, h in enumerate(population.households)}
    low, high = MOTHER_AGE_YEARS
    mother_age_days = rng.integers(low * 365, high * 365, len(population.households))
    mother_dob = {
        h.household_id: int(mother_age_days[i]) for i, h in enumerate(population.households)
    }
    preterm = rng.random(len(babies)) < PRETERM_SHARE
    gestation = np.where(
        preterm, rng.integers(28, 37, len(babies)), rng.integers(37, 42, len(babies))
    )
    noise = rng.normal(0, 420, len(babies))
    for i, baby in enumerate(babies):
        household = baby.household
        weeks = int(gestation[i])
        weight = BIRTH_WEIGHT_MEAN_GRAMS - 170 * max(0, 40 - weeks) + noise[i]
        weight = int(round(min(5200, max(600, weight)) / 5) * 5)
        eldest = min(c.date_of_birth for c in household.children)
        born = eldest - timedelta(days=mother_dob[household.household_id])
        health.births.append(
            Birth(baby, weight, weeks, mother_numbers[household.household_id], born)
        )
    health.births.sort(key=lambda b: (b.child.date_of_birth, b.child.index))


def _deaths(health: HealthYear, rng: np.random.Generator) -> None:
    children = health.population.children
    picks = rng.integers(0, 1 << 20, len(children))
    for child in children:
        if child.died_on is None:
            continue
        causes = DEATH_CAUSES[
            "infant" if age_on(child.date_of_birth, child.died_on) < 1 else "child"
        ]
        health.death_causes[child.child_id] = causes[int(picks[child.index]) % len(causes)]


def _patient_ids(health: HealthYear, rng: np.random.Generator) -> None:
    """Each provider numbers its patients its own way; the id never changes."""
    children = health.population.children
    for provider in sorted({*COMMUNITY_PROVIDERS.values(), CAMHS_PROVIDER}):
        numbers = rng.choice(np.arange(100_000, 1_000_000), size=len(children), replace=False)
        for child, number in zip(children, numbers.tolist(), strict=True):
            health.local_patient_ids[(provider, child.child_id)] = f"{provider}{number}"


def _practice_codes(health: HealthYear, rng: np.random.Generator) -> None:
    """The GP practice the child health record names (one per household)."""
    population = health.population
    count = max(3, round(len(population.children) / CHILDREN_PER_PRACTICE))
    codes = sorted(
        f"M{n}" for n in rng.choice(np.arange(81001, 90000), size=count, replace=False).tolist()
    )
    picks = rng.integers(0, count, len(population.households))
    for i, household in enumerate(population.households):
        health.practice_codes[household.household_id] = codes[int(picks[i])]


# ---------------------------------------------------------------------------------------
# Recording: how one provider writes a child down, the same way in every monthly extract.


@dataclass(frozen=True, slots=True)
class RecordedIdentity:
    """The identifying fields a provider holds for a child, before the postcode of the day."""

    forename: str
    surname: str
    date_of_birth: date
    nhs_number: str  # laid out as the provider's system writes it; "" when missing
    nhs_number_status: str  # CSDS NHSNumberStatus: 01 verified, 02 not traced, 04 no match
    sex: str
    ethnic_category: str
    errors: tuple[str, ...]


class RecordingBook:
    """How one provider of one source records each child: errors drawn once per child.

    Draws for every child of the population up front, so a child's record is the same
    whichever months are written and in whichever order.
    """

    def __init__(
        self,
        source: str,
        health: HealthYear,
        rng: np.random.Generator,
        sex_codes: dict[str, str],
        not_known_codes: Sequence[str],
        layouts: dict[str, float] | None = None,
    ) -> None:
        self.source = source
        self.health = health
        self._sex_codes = sex_codes
        self._not_known = tuple(not_known_codes)
        rates = RECORDING_ERROR_RATES[source]
        children = health.population.children
        possible = None
        if "forename_nickname" in rates:
            known = nicknames()
            possible = {
                "forename_nickname": np.array([c.forename in known for c in children], dtype=bool)
            }
        self._candidates = draw_candidate_errors(source, len(children), rng, possible)
        names, shares = _weighted(layouts or NHS_NUMBER_LAYOUTS)
        self._layouts = [names[i] for i in rng.choice(len(names), size=len(children), p=shares)]
        self._unverified = (rng.random(len(children)) < 0.03).tolist()
        households = health.population.households
        stale_draw = rng.random(len(households))
        stale_rate = rates.get("stale_postcode", 0.0)
        self._stale = {
            h.household_id: h.moved_on is not None and bool(stale_draw[i] < stale_rate)
            for i, h in enumerate(households)
        }
        self._seed = int(rng.integers(1 << 62))
        self._cache: dict[int, RecordedIdentity] = {}

    def _chance(self, child: Child, *salt: str) -> random.Random:
        # Seeded per child, so the record does not depend on who else was recorded first.
        return random.Random("/".join((str(self._seed), child.child_id, *salt)))

    def identity(self, child: Child) -> RecordedIdentity:
        """The child's identifying fields as this provider holds them."""
        found = self._cache.get(child.index)
        if found is not None:
            return found
        wanted = self._candidates[child.index]
        chance = self._chance(child)
        not_after = max(self.health.year.first_day, child.date_of_birth)
        person, applied = record_person(child, wanted, chance, not_after=not_after)
        number = child.nhs_number
        status = "02" if self._unverified[child.index] else "01"
        if "nhs_number_pseudonymised" in wanted:
            number, status = "", "07"
            applied.append("nhs_number_pseudonymised")
        elif "missing_nhs_number" in wanted:
            number, status = "", "04"
            applied.append("missing_nhs_number")
        elif "nhs_number_invalid" in wanted:
            number, status = corrupt_nhs_number(number, chance), "02"
            applied.append("nhs_number_invalid")
        sex = self._sex_codes[child.sex]
        if "sex_not_known" in wanted:
            sex = chance.choice(self._not_known)
            applied.append("sex_not_known")
        found = RecordedIdentity(
            forename=person.forename,
            surname=person.surname,
            date_of_birth=person.date_of_birth,
            nhs_number=layout_nhs_number(number, self._layouts[child.index]),
            nhs_number_status=status,
            sex=sex,
            ethnic_category=NHS_ETHNIC_CATEGORY[child.ethnicity],
            errors=tuple(applied),
        )
        self._cache[child.index] = found
        return found

    def postcode(self, child: Child, day: date) -> tuple[str, list[str]]:
        """The postcode this provider holds for the child on ``day``, and the errors in it."""
        household = child.household
        previous = household.previous_address
        postcode = household.address_on(day).postcode
        errors: list[str] = []
        moved_on = household.moved_on
        moved = moved_on is not None and previous is not None and day >= moved_on
        if moved and self._stale[household.household_id]:
            postcode = previous.postcode  # the provider never heard of the move
            errors.append("stale_postcode")
        if "postcode_typo" in self._candidates[child.index]:
            postcode = postcode_typo(postcode, self._chance(child, postcode))
            errors.append("postcode_typo")
        return postcode, errors

    def record(self, child: Child, day: date) -> tuple[RecordedIdentity, str, str]:
        """Identity, postcode on ``day`` and the truth's ``errors`` text for one record."""
        identity = self.identity(child)
        postcode, postcode_errors = self.postcode(child, day)
        return identity, postcode, joined_errors(self.source, [*identity.errors, *postcode_errors])


def iso(day: date | None) -> str:
    """ISO date, blank for none."""
    return day.isoformat() if day is not None else ""


def dmy(day: date | None) -> str:
    """``dd/mm/YYYY``, blank for none (the local systems' export format)."""
    return day.strftime("%d/%m/%Y") if day is not None else ""


def monthly_file(landing_dir: Path, source: str, period: str, name: str) -> Path:
    """``landing/<source>/<period>/<name>_<period>.csv``."""
    return landing_dir / source / period / f"{name}_{period}.csv"


def write_month(
    landing_dir: Path,
    source: str,
    period: str,
    tables: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]],
) -> list[Path]:
    """Replace a source's period folder with the given ``(file name stem, header, rows)``."""
    folder = landing_dir / source / period
    remove_csv_files(folder)
    paths = []
    for name, header, rows in tables:
        path = monthly_file(landing_dir, source, period, name)
        write_csv(path, header, rows)
        paths.append(path)
    return paths
