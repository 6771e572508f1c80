"""GP registrations as shared by primary care: a monthly extract, one row per registration.

A registration is one spell at one practice. The year's registrations are made once, then each
month's extract (as at the month's last day) lists those of children under 18 begun by then:
current ones with no end date, and earlier ones at another practice with their end date.
Babies register within a few weeks of birth and new arrivals soon after they move in; a family's
move sometimes means a new practice. A death ends the registration on the day of death, and a
family moving out of the authority ends it a few weeks later; the child is in that month's
extract with the end date and in no later one. A registration keeps its ``REGISTRATION_ID`` and
its recorded details (typos, nickname, missing or invalid NHS number, stale postcode) in every
month. Health feeds carry the NHS number and never the UPN.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.addresses import POSTCODE_AREAS
from linkage_ops.synthetic.names import nicknames
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Child, Household, Population
from linkage_ops.synthetic.recording_errors import (
    RECORDING_ERROR_RATES,
    RecordedPerson,
    corrupt_nhs_number,
    draw_candidate_errors,
    joined_errors,
    layout_nhs_number,
    postcode_typo,
    record_person,
)
from linkage_ops.synthetic.school_year import CollectionYear, age_on, parse_month_period
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "gp"
# The loader's own schema, so the writer and the reader cannot drift apart.
COLUMNS = load_schema(SOURCE).tables["registrations"].column_names
REGISTERED_SHARE = 0.97
REGISTER_AFTER_BIRTH_DAYS = (7, 42)  # babies are registered within a few weeks
REGISTER_AFTER_ARRIVAL_DAYS = (3, 60)
# A spell at another practice that ended in the two years before the year or during it.
EARLIER_REGISTRATION_SHARE = 0.03
EARLIER_REGISTRATION_WINDOW_DAYS = 730
# Families who move while registered often re-register near their new home.
NEW_PRACTICE_AFTER_MOVE_SHARE = 0.30
NEW_PRACTICE_SETTLE_DAYS = 60
JOINED_LATER_SHARE = 0.20  # registered at this practice some time after birth
# A family moving out of the authority is deregistered when it registers elsewhere.
DEREGISTERED_AFTER_LEAVING_DAYS = 30
CHILDREN_PER_PRACTICE = 800
MIN_PRACTICES = 3
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "0")
# NHS numbers arrive as 9991234567, 999 123 4567 or 999-123-4567.
NHS_NUMBER_LAYOUTS = {"plain": 0.72, "spaces": 0.25, "dashes": 0.03}
# Why a registration ended: a move to another practice is kept as history in later extracts;
# a death or a move out of the authority takes the child out of later extracts.
MOVED_PRACTICE, DIED, LEFT_AUTHORITY = "moved_practice", "died", "left_authority"
# The extract is of children: a patient leaves it on their 18th birthday.
ADULT_AGE = 18


@dataclass(slots=True)
class Registration:
    """One spell at one practice, and how the practice recorded the child."""

    child: Child
    practice_code: str
    start: date
    end: date | None = None
    end_reason: str = ""
    registration_id: int = 0
    person: RecordedPerson | None = None
    nhs_number: str = ""
    sex: str = ""
    errors: list[str] = field(default_factory=list)
    # The postcodes as the practice typed them, where it slipped.
    typed_postcodes: dict[str, str] = field(default_factory=dict)


def gp_file(landing_dir: Path, period: str) -> Path:
    """``landing/gp/2024-10/gp_registrations_2024-10.csv``."""
    return landing_dir / SOURCE / period / f"gp_registrations_{period}.csv"


def write_gp_registrations(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write one registrations extract per month in ``months`` (``YYYY-MM`` periods of
    ``year``) and return the files with their truth rows (``<period>/<REGISTRATION_ID>``).

    The registrations and their recording errors are drawn for the whole year, so a month's
    file is the same whichever other months are written.
    """
    population.require_year(year)
    unknown = [m for m in months if m not in year.months]
    if unknown:
        raise ValueError(f"months outside {year.label}: {', '.join(unknown)}")
    chance = random.Random(int(rng.integers(1 << 62)))
    registrations = _registrations(population, year, rng)
    # Practices send their lists in practice order, oldest registrations first.
    registrations.sort(key=lambda r: (r.practice_code, r.start, r.child.index, r.end is None))
    layouts = _record_registrations(registrations, rng, chance)
    stale_draw = rng.random(len(population.households))
    stale_rate = RECORDING_ERROR_RATES[SOURCE]["stale_postcode"]
    stale_households = {
        h.household_id
        for h, draw in zip(population.households, stale_draw, strict=True)
        if draw < stale_rate
    }
    # A child who died or left is in the extract of that month and in no later one.
    gone_on = {
        r.child.index: r.end for r in registrations if r.end_reason in (DIED, LEFT_AUTHORITY)
    }

    paths = []
    truth = []
    for period in months:
        extract_day = parse_month_period(period)
        month_start = extract_day.replace(day=1)
        rows = []
        for registration, layout in zip(registrations, layouts, strict=True):
            child = registration.child
            if (
                registration.start > extract_day
                or age_on(child.date_of_birth, extract_day) >= ADULT_AGE
            ):
                continue
            gone = gone_on.get(child.index)
            if gone is not None and gone < month_start:
                continue
            end = registration.end
            ended = end if end is not None and end <= extract_day else None
            postcode, stale = _postcode_held(
                registration, extract_day, child.household.household_id in stale_households
            )
            postcode = registration.typed_postcodes.get(postcode, postcode)
            errors = registration.errors + (["stale_postcode"] if stale else [])
            rows.append(
                (
                    registration.registration_id,
                    layout_nhs_number(registration.nhs_number, layout),
                    registration.person.forename,
                    registration.person.surname,
                    registration.person.date_of_birth.isoformat(),
                    registration.sex,
                    postcode,
                    registration.practice_code,
                    registration.start.isoformat(),
                    ended.isoformat() if ended else "",
                )
            )
            truth.append(
                TruthRecord(
                    SOURCE,
                    period,
                    registration.registration_id,
                    child.child_id,
                    joined_errors(SOURCE, errors),
                )
            )
        path = gp_file(landing_dir, period)
        remove_csv_files(path.parent)
        write_csv(path, COLUMNS, rows)
        paths.append(path)
    return paths, truth


def _record_registrations(
    registrations: list[Registration], rng: np.random.Generator, chance: random.Random
) -> list[str]:
    """Number the registrations and draw each one's recorded details once; returns the NHS
    number layout of each."""
    known_nicknames = nicknames()
    has_nickname = np.array(
        [r.child.forename in known_nicknames for r in registrations], dtype=bool
    )
    candidates = draw_candidate_errors(
        SOURCE, len(registrations), rng, possible={"forename_nickname": has_nickname}
    )
    layouts = rng.choice(
        list(NHS_NUMBER_LAYOUTS),
        size=len(registrations),
        p=np.array(list(NHS_NUMBER_LAYOUTS.values())),
    ).tolist()
    for registration_id, (registration, wanted) in enumerate(
        zip(registrations, candidates, strict=True), start=1
    ):
        child = registration.child
        registration.registration_id = registration_id
        # The practice took the details down when the child registered.
        person, applied = record_person(child, wanted, chance, not_after=registration.start)
        nhs_number = child.nhs_number
        if "missing_nhs_number" in wanted:
            nhs_number = ""
            applied.append("missing_nhs_number")
        elif "nhs_number_invalid" in wanted:
            nhs_number = corrupt_nhs_number(nhs_number, chance)
            applied.append("nhs_number_invalid")
        if "postcode_typo" in wanted:
            household = child.household
            held = [household.address.postcode]
            if household.previous_address is not None:
                held.append(household.previous_address.postcode)
            registration.typed_postcodes = {p: postcode_typo(p, chance) for p in held}
            applied.append("postcode_typo")
        sex = SEX_CODES[child.sex]
        if "sex_not_known" in wanted:
            sex = chance.choice(SEX_NOT_KNOWN_CODES)
            applied.append("sex_not_known")
        registration.person = person
        registration.nhs_number = nhs_number
        registration.sex = sex
        registration.errors = applied
    return layouts


def _postcode_held(
    registration: Registration, day: date, stale_household: bool
) -> tuple[str, bool]:
    """The postcode the practice holds for the child on ``day``, and whether it is stale (the
    family moved while registered and the practice was never told)."""
    household: Household = registration.child.household
    last_seen = day if registration.end is None or registration.end > day else registration.end
    moved_on = household.moved_on
    if household.previous_address is None or moved_on is None:
        return household.address.postcode, False
    if last_seen < moved_on:
        return household.previous_address.postcode, False
    if registration.start >= moved_on:
        return household.address.postcode, False
    settled_by = moved_on + timedelta(days=NEW_PRACTICE_SETTLE_DAYS)
    if registration.end_reason == MOVED_PRACTICE and registration.end <= settled_by:
        # Left for a practice near the new home before telling this one of the move.
        return household.previous_address.postcode, False
    if stale_household:
        return household.previous_address.postcode, True
    return household.address.postcode, False


def _practices(population: Population, rng: np.random.Generator) -> dict[int, list[str]]:
    """Practice codes (``M81001`` style) by postcode area."""
    count = max(MIN_PRACTICES, round(len(population.children) / CHILDREN_PER_PRACTICE))
    numbers = sorted(rng.choice(np.arange(81001, 90000), size=count, replace=False).tolist())
    areas = [i % len(POSTCODE_AREAS) for i in range(count)]
    rng.shuffle(areas)
    by_area: dict[int, list[str]] = {}
    for number, area in zip(numbers, areas, strict=True):
        by_area.setdefault(area, []).append(f"M{number}")
    return by_area


def _registrations(
    population: Population, year: CollectionYear, rng: np.random.Generator
) -> list[Registration]:
    """Every registration spell that any extract of the year can show."""
    practices = _practices(population, rng)
    everywhere = sorted(code for codes in practices.values() for code in codes)
    area_by_outward = {area.outward: i for i, area in enumerate(POSTCODE_AREAS)}
    children = population.children
    count = len(children)
    registered = rng.random(count) < REGISTERED_SHARE
    after_birth = rng.integers(*REGISTER_AFTER_BIRTH_DAYS, count, endpoint=True)
    after_arrival = rng.integers(*REGISTER_AFTER_ARRIVAL_DAYS, count, endpoint=True)
    joined_later = rng.random(count) < JOINED_LATER_SHARE
    joined_draw = rng.random(count)
    earlier_draw = rng.random(count)
    earlier_end_draw = rng.random(count)
    settle_days = rng.integers(0, NEW_PRACTICE_SETTLE_DAYS + 1, count)
    deregister_days = rng.integers(0, DEREGISTERED_AFTER_LEAVING_DAYS + 1, count)
    # Practices are chosen per family, so siblings register together.
    practice_draw = rng.integers(0, 1 << 30, len(population.households))
    new_practice_draw = rng.random(len(population.households))
    household_number = {h.household_id: i for i, h in enumerate(population.households)}
    earliest_end = year.first_day - timedelta(days=EARLIER_REGISTRATION_WINDOW_DAYS)

    household_practice: dict[tuple[str, int], str] = {}

    def practice_near(household: Household, day: date, pick: int, avoid: str = "") -> str:
        area = area_by_outward[household.address_on(day).outward]
        key = (household.household_id, area)
        if key not in household_practice:
            local = practices.get(area) or everywhere
            household_practice[key] = local[pick % len(local)]
        chosen = household_practice[key]
        if chosen == avoid:
            others = [p for p in (practices.get(area) or everywhere) if p != avoid]
            others = others or [p for p in everywhere if p != avoid]
            chosen = others[pick % len(others)] if others else chosen
        return chosen

    registrations: list[Registration] = []
    for child in children:
        index = child.index
        household = child.household
        if not registered[index]:
            continue
        since = child.date_of_birth + timedelta(days=int(after_birth[index]))
        if household.arrived_on is not None and household.arrived_on > child.date_of_birth:
            since = max(since, household.arrived_on + timedelta(days=int(after_arrival[index])))
        if since > year.last_day:
            continue
        number = household_number[household.household_id]
        pick = int(practice_draw[number])
        spells: list[Registration] = []
        moved_on = household.moved_on
        moved_while_registered = (
            moved_on is not None
            and household.previous_address is not None
            and since < moved_on
            and new_practice_draw[number] < NEW_PRACTICE_AFTER_MOVE_SHARE
        )
        if moved_while_registered:
            old = practice_near(household, since, pick)
            changed_on = moved_on + timedelta(days=int(settle_days[index]))
            spells.append(Registration(child, old, since, changed_on, MOVED_PRACTICE))
            spells.append(
                Registration(child, practice_near(household, changed_on, pick, old), changed_on)
            )
        elif earlier_draw[index] < EARLIER_REGISTRATION_SHARE:
            # A change of practice without a move: the earlier spell ended some time ago.
            window = (year.last_day - timedelta(days=30) - earliest_end).days
            changed_on = earliest_end + timedelta(days=int(earlier_end_draw[index] * window))
            if changed_on >= since + timedelta(days=30):
                current = practice_near(household, changed_on, pick)
                old = practice_near(household, since, pick + 1, current)
                spells.append(Registration(child, old, since, changed_on, MOVED_PRACTICE))
                spells.append(Registration(child, current, changed_on))
        if not spells:
            start = since
            if joined_later[index] and since < year.first_day:
                start = since + timedelta(
                    days=int(joined_draw[index] * (year.first_day - since).days)
                )
            spells.append(Registration(child, practice_near(household, start, pick), start))
        registrations += _end_by_death_or_departure(
            spells, child, int(deregister_days[index]), year
        )
    return registrations


def _end_by_death_or_departure(
    spells: list[Registration], child: Child, deregister_days: int, year: CollectionYear
) -> list[Registration]:
    """Close the spell open when the child died or the family left the authority, and drop
    spells that would have begun after it."""
    ends = []
    if child.died_on is not None:
        ends.append((child.died_on, DIED))
    if child.household.left_on is not None:
        ends.append((child.household.left_on + timedelta(days=deregister_days), LEFT_AUTHORITY))
    if not ends:
        return spells
    end, reason = min(ends)
    if end > year.last_day:
        return spells
    kept = []
    for spell in spells:
        if spell.start >= end:
            continue
        if spell.end is None or spell.end > end:
            spell.end, spell.end_reason = end, reason
        kept.append(spell)
    return kept
