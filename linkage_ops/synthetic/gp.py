"""GP registrations as shared by primary care: one row per registration at a practice.

Most children have one current registration; a few also have an earlier, ended one at
another practice, which is a second record of the same child. Health feeds carry the NHS
number and never the UPN.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.addresses import POSTCODE_AREAS
from linkage_ops.synthetic.names import nicknames
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Child, Population
from linkage_ops.synthetic.recording_errors import (
    RECORDING_ERROR_RATES,
    corrupt_nhs_number,
    draw_candidate_errors,
    joined_errors,
    postcode_typo,
    record_person,
)
from linkage_ops.synthetic.school_year import parse_month_period
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "gp"
# The loader's own schema, so the writer and the reader cannot drift apart.
COLUMNS = load_schema(SOURCE).tables["registrations"].column_names
REGISTERED_SHARE = 0.97
EARLIER_REGISTRATION_SHARE = 0.04
# Families who moved often re-register near their new home.
EARLIER_REGISTRATION_SHARE_IF_MOVED = 0.20
EARLIER_REGISTRATION_WINDOW_DAYS = 730
JOINED_LATER_SHARE = 0.20  # registered at this practice some time after birth
CHILDREN_PER_PRACTICE = 800
MIN_PRACTICES = 3
SEX_CODES = {"M": "1", "F": "2"}
SEX_NOT_KNOWN_CODES = ("9", "0")
# NHS numbers arrive as 9991234567, 999 123 4567 or 999-123-4567.
NHS_NUMBER_LAYOUTS = {"plain": 0.72, "spaces": 0.25, "dashes": 0.03}


@dataclass(slots=True)
class Registration:
    """One spell at one practice."""

    child: Child
    practice_code: str
    start: date
    end: date | None
    postcode: str
    stale_postcode: bool = False


def gp_file(landing_dir: Path, period: str) -> Path:
    """``landing/gp/2024-10/gp_registrations_2024-10.csv``."""
    return landing_dir / SOURCE / period / f"gp_registrations_{period}.csv"


def write_gp_registrations(
    population: Population, period: str, landing_dir: Path, rng: np.random.Generator
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the GP registrations extract for ``period`` (``YYYY-MM``) and its truth rows."""
    extract_day = parse_month_period(period)
    chance = random.Random(int(rng.integers(1 << 62)))
    registrations = _registrations(population, extract_day, rng)
    # Practices send their lists in practice order, oldest registrations first.
    registrations.sort(key=lambda r: (r.practice_code, r.start, r.child.index, r.end is None))
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

    rows = []
    truth = []
    for registration_id, (registration, wanted, layout) in enumerate(
        zip(registrations, candidates, layouts, strict=True), start=1
    ):
        child = registration.child
        person, applied = record_person(child, wanted, chance, not_after=extract_day)
        nhs_number = child.nhs_number
        if "missing_nhs_number" in wanted:
            nhs_number = ""
            applied.append("missing_nhs_number")
        elif "nhs_number_invalid" in wanted:
            nhs_number = corrupt_nhs_number(nhs_number, chance)
            applied.append("nhs_number_invalid")
        postcode = registration.postcode
        if registration.stale_postcode:
            applied.append("stale_postcode")
        if "postcode_typo" in wanted:
            postcode = postcode_typo(postcode, chance)
            applied.append("postcode_typo")
        sex = SEX_CODES[child.sex]
        if "sex_not_known" in wanted:
            sex = chance.choice(SEX_NOT_KNOWN_CODES)
            applied.append("sex_not_known")
        rows.append(
            (
                registration_id,
                _layout_nhs_number(nhs_number, layout),
                person.forename,
                person.surname,
                person.date_of_birth.isoformat(),
                sex,
                postcode,
                registration.practice_code,
                registration.start.isoformat(),
                registration.end.isoformat() if registration.end else "",
            )
        )
        truth.append(
            TruthRecord(
                SOURCE, period, registration_id, child.child_id, joined_errors(SOURCE, applied)
            )
        )

    path = gp_file(landing_dir, period)
    remove_csv_files(path.parent)
    write_csv(path, COLUMNS, rows)
    return [path], truth


def _layout_nhs_number(number: str, layout: str) -> str:
    if len(number) != 10 or layout == "plain":
        return number
    separator = " " if layout == "spaces" else "-"
    return separator.join((number[:3], number[3:6], number[6:]))


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
    population: Population, extract_day: date, rng: np.random.Generator
) -> list[Registration]:
    """Every registration row: current ones, and earlier ended ones at another practice."""
    practices = _practices(population, rng)
    everywhere = sorted(code for codes in practices.values() for code in codes)
    area_by_outward = {area.outward: i for i, area in enumerate(POSTCODE_AREAS)}
    children = population.children
    count = len(children)
    registered = rng.random(count) < REGISTERED_SHARE
    after_birth = rng.integers(14, 71, count)
    joined_later = rng.random(count) < JOINED_LATER_SHARE
    joined_draw = rng.random(count)
    earlier_draw = rng.random(count)
    end_draw = rng.integers(1, EARLIER_REGISTRATION_WINDOW_DAYS, count)
    settle_days = rng.integers(0, 61, count)
    practice_draw = rng.integers(0, 1 << 30, count)
    stale_draw = rng.random(len(population.households))
    stale_rate = RECORDING_ERROR_RATES[SOURCE]["stale_postcode"]
    window_start = extract_day - timedelta(days=EARLIER_REGISTRATION_WINDOW_DAYS)

    def moved_recently(child: Child) -> bool:
        moved_on = child.household.moved_on
        return moved_on is not None and window_start < moved_on < extract_day

    eligible = [
        c
        for c in children
        if registered[c.index] and c.date_of_birth <= extract_day - timedelta(days=14)
    ]
    movers = sum(1 for c in eligible if moved_recently(c))
    others = max(1, len(eligible) - movers)
    other_share = max(
        0.0,
        (EARLIER_REGISTRATION_SHARE * len(eligible) - EARLIER_REGISTRATION_SHARE_IF_MOVED * movers)
        / others,
    )

    household_practice: dict[str, str] = {}
    household_stale = {
        h.household_id: h.moved_on is not None and stale_draw[i] < stale_rate
        for i, h in enumerate(population.households)
    }
    registrations: list[Registration] = []
    for child in eligible:
        household = child.household
        index = child.index
        current_postcode = household.address.postcode
        previous = household.previous_address
        if household.household_id not in household_practice:
            local = practices.get(household.area_index) or everywhere
            household_practice[household.household_id] = local[practice_draw[index] % len(local)]
        practice = household_practice[household.household_id]
        since_birth = min(
            child.date_of_birth + timedelta(days=int(after_birth[index])), extract_day
        )

        earlier: Registration | None = None
        share = EARLIER_REGISTRATION_SHARE_IF_MOVED if moved_recently(child) else other_share
        if earlier_draw[index] < share:
            if moved_recently(child):
                ended = household.moved_on + timedelta(days=int(settle_days[index]))
            else:
                ended = extract_day - timedelta(days=int(end_draw[index]))
            ended = min(ended, extract_day - timedelta(days=1))
            if ended >= since_birth + timedelta(days=30):
                area = household.area_index
                if previous is not None and ended <= household.moved_on + timedelta(days=60):
                    area = area_by_outward[previous.outward]
                choices = [p for p in (practices.get(area) or everywhere) if p != practice]
                choices = choices or [p for p in everywhere if p != practice]
                if choices:
                    # The postcode the practice had when the child left it.
                    postcode = current_postcode
                    if previous is not None and ended <= household.moved_on + timedelta(days=60):
                        postcode = previous.postcode
                    earlier = Registration(
                        child=child,
                        practice_code=choices[practice_draw[index] % len(choices)],
                        start=since_birth,
                        end=ended,
                        postcode=postcode,
                    )
                    registrations.append(earlier)

        if earlier is not None:
            start = earlier.end
        elif joined_later[index]:
            start = since_birth + timedelta(
                days=int(joined_draw[index] * (extract_day - since_birth).days)
            )
        else:
            start = since_birth
        current = Registration(child, practice, start, None, current_postcode)
        if previous is not None and household.moved_on is not None:
            if household.moved_on > extract_day:
                current.postcode = previous.postcode  # they had not moved yet
            elif household_stale[household.household_id] and start < household.moved_on:
                current.postcode = previous.postcode
                current.stale_postcode = True
        registrations.append(current)
    return registrations
