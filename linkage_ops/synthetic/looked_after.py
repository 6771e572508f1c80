"""The SSDA903 return (children looked after) as the authority submits it: CSV tables in the
layout of the collection year they are for.

One file per table of that year's schema, ``landing/looked_after/<year>/<table>.csv``; the
loader recognises each table by its columns, not its name. Dates are ``dd/mm/YYYY``. The year
decides the codes, as DfE's guide for it does: SEX 1/2 up to 2023-24 and M/F/U from 2024-25
(code list ssda903_sex), only placements valid in the year (code list placement, drawn in
``social_care``), and from 2026-27 a DoLo table of deprivation of liberty orders. A care leaver
who has died or returned home has ACTIV and ACCOM ``0``, the correct code. A child looked
after over several years keeps their CHILD id and episodes from one year's return to the next
(``social_care`` carries the cases over). Like real returns, a
few children's episodes are duplicated, overlap, or are left open in the middle of care.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_codelist, load_schema
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.recording_errors import (
    draw_candidate_errors,
    joined_errors,
    record_person,
)
from linkage_ops.synthetic.school_year import CollectionYear, age_on, birthday
from linkage_ops.synthetic.social_care import (
    SocialCareChild,
    postcode_on,
    recorded_upn,
    social_care_events,
)
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "looked_after"
# SEX as the return codes it: M/F/U where the year's code list has them (from 2024-25), else
# the older 1/2 coding.
SEX_CODES = {"M": "M", "F": "F", "U": "U"}
OLDER_SEX_CODES = {"M": "1", "F": "2", "U": "1"}
# Care leavers (OC3): whether the authority is in touch. A young person who has died or returned
# home has no activity or accommodation recorded: ACTIV and ACCOM are 0.
IN_TOUCH = ("YES", "YES", "YES", "NO", "RHOM")
NOTHING_RECORDED = frozenset({"DIED", "RHOM"})
ACTIVITIES = ("F1", "P1", "F2", "G4", "G5")
ACCOMMODATION = ("V1", "K1", "E1", "D1", "B1", "C2")
# Deprivation of liberty orders (DoLo, from 2026-27): share of looked-after children aged 10+.
DOLO_SHARE_AGED_10 = 0.03
# Data-quality faults real returns carry (shares of looked-after children).
DUPLICATED_EPISODE_SHARE = 0.04
OVERLAPPING_EPISODE_SHARE = 0.03
OPEN_EPISODE_SHARE = 0.02


def uk_date(day: date | None) -> str:
    """``dd/mm/YYYY``; blank for no date."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}" if day else ""


def table_columns(year: CollectionYear) -> dict[str, list[str]]:
    """The tables and columns of the return for ``year``: the loader's own schema of that year,
    so the writer and the reader cannot drift apart."""
    return load_schema(SOURCE).for_period(year.label).columns_by_table


def sex_codes(year: CollectionYear) -> dict[str, str]:
    """The SEX codes the return uses in ``year`` (its code list, ssda903_sex)."""
    valid = load_codelist("ssda903_sex").codes(year.start_year + 1)
    return SEX_CODES if set(SEX_CODES.values()) <= valid else OLDER_SEX_CODES


def looked_after_file(landing_dir: Path, year: CollectionYear, table: str) -> Path:
    """``landing/looked_after/2024-25/episodes.csv``."""
    return landing_dir / SOURCE / year.label / f"{table}.csv"


def write_looked_after(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the SSDA903 tables for ``year`` (``months`` is ignored: an annual return)."""
    chance = random.Random(int(rng.integers(1 << 62)))
    columns_by_table = table_columns(year)
    events = social_care_events(population, year)
    # The return is sorted by the case-management id.
    children = sorted(events.looked_after, key=lambda c: c.la_child_id)
    candidates = draw_candidate_errors(SOURCE, len(children), rng)
    sexes = sex_codes(year)
    first, last = year.first_day, year.last_day

    rows: dict[str, list[tuple]] = {table: [] for table in columns_by_table}
    truth: list[TruthRecord] = []
    for record, wanted in zip(children, candidates, strict=True):
        child, care, child_id = record.child, record.care, record.la_child_id
        assert care is not None
        person, applied = record_person(child, wanted, chance, not_after=last)
        upn, unknown, upn_errors = recorded_upn(child, wanted, chance, last)
        applied += upn_errors
        dob = uk_date(person.date_of_birth)
        sex = sexes[child.sex]
        mother = "" if child.sex == "M" else "1" if care.mother_child_born else "0"
        rows["header"].append(
            (child_id, sex, dob, child.ethnicity, upn or unknown, mother,
             uk_date(care.mother_child_born))
        )  # fmt: skip
        truth.append(TruthRecord(SOURCE, year.label, child_id, child.child_id,
                                 joined_errors(SOURCE, applied)))  # fmt: skip
        rows["episodes"].extend(_episode_rows(record, first, chance))
        rows["reviews"].extend(
            (child_id, dob, uk_date(day), code)
            for day, code in care.reviews
            if first <= day <= last
        )
        if care.uasc:
            rows["uasc"].append((child_id, sex, dob, uk_date(birthday(child.date_of_birth, 18))))
        if care.start <= last - timedelta(days=365) and care.end is None:
            rows["oc2"].append(_oc2_row(child_id, dob, age_on(child.date_of_birth, last), chance))
        if age_on(child.date_of_birth, last) == 17:
            rows["oc3"].append(_oc3_row(record, dob, last, chance))
        # A return knows only what was decided by its year end.
        if care.adoption is not None and care.adoption.decided <= last:
            adoption = care.adoption
            matched = adoption.matched if adoption.matched and adoption.matched <= last else None
            rows["ad1"].append(
                (child_id, dob, uk_date(adoption.decided), uk_date(matched),
                 "1" if adoption.foster_carer else "0", str(adoption.adopters),
                 adoption.adopter_sexes, adoption.adopter_legal_status)
            )  # fmt: skip
            # PlacedAdoption: the decision that the child should be placed for adoption; its
            # ceased date and reason (RD1-RD4) are for a decision reversed, which we do not model.
            rows["placedadoption"].append((child_id, dob, uk_date(adoption.decided), "", ""))
        if care.start >= first:
            permanence = care.previous_permanence
            rows["prevperm"].append(
                (child_id, dob, permanence, "" if permanence == "Z1" else "884",
                 "" if permanence == "Z1" else uk_date(care.start - timedelta(days=900)))
            )  # fmt: skip
        rows["missing"].extend(
            (child_id, dob, kind, uk_date(start), uk_date(end))
            for kind, start, end in care.missing
            if start >= first
        )
        rows["swepisodes"].extend(
            (child_id, dob, worker, uk_date(start), uk_date(end), reason)
            for worker, start, end, reason in care.social_workers
            if end is None or end >= first
        )
        if "dolo" in rows and age_on(child.date_of_birth, last) >= 10:
            rows["dolo"].extend(_dolo_rows(record, dob, first, last, chance))

    folder = landing_dir / SOURCE / year.label
    remove_csv_files(folder)
    paths = []
    for table, columns in columns_by_table.items():
        path = looked_after_file(landing_dir, year, table)
        write_csv(path, columns, rows[table])
        paths.append(path)
    return paths, truth


def _episode_rows(record: SocialCareChild, first: date, chance: random.Random) -> list[tuple]:
    """The child's episodes that touch the year, with the faults real returns have."""
    care = record.care
    assert care is not None
    rows = []
    for episode in care.episodes:
        if episode.end is not None and episode.end < first:
            continue
        home = postcode_on(record.child, episode.start)
        placed = home if episode.placement.startswith("P") else episode.placement_postcode
        rows.append(
            [record.la_child_id, uk_date(episode.start), episode.reason_new_episode,
             episode.legal_status, care.cin_need, episode.placement, episode.provider,
             uk_date(episode.end), episode.reason_ceased, episode.reason_place_change, home,
             placed, episode.urn]
        )  # fmt: skip
    draw = chance.random()
    if len(rows) >= 2 and draw < OVERLAPPING_EPISODE_SHARE:
        # The next episode keyed as starting a few days before the previous one ended.
        start = date(*reversed([int(p) for p in rows[1][1].split("/")]))
        rows[1][1] = uk_date(start - timedelta(days=chance.randint(2, 10)))
    elif len(rows) >= 2 and draw < OVERLAPPING_EPISODE_SHARE + OPEN_EPISODE_SHARE:
        rows[0][7], rows[0][8], rows[0][9] = "", "", ""  # an end never recorded
    elif rows and draw < OVERLAPPING_EPISODE_SHARE + OPEN_EPISODE_SHARE + DUPLICATED_EPISODE_SHARE:
        rows.insert(1, list(rows[0]))  # the same episode keyed twice
    return [tuple(row) for row in rows]


def _oc3_row(record: SocialCareChild, dob: str, last: date, chance: random.Random) -> tuple:
    """A care leaver's outcomes: ACTIV and ACCOM are 0 when they have died or gone home."""
    died = record.child.died_on is not None and record.child.died_on <= last
    in_touch = "DIED" if died else chance.choice(IN_TOUCH)
    if in_touch in NOTHING_RECORDED:
        return (record.la_child_id, dob, in_touch, "0", "0")
    return (
        record.la_child_id,
        dob,
        in_touch,
        chance.choice(ACTIVITIES),
        chance.choice(ACCOMMODATION),
    )


def _dolo_rows(
    record: SocialCareChild, dob: str, first: date, last: date, chance: random.Random
) -> list[tuple]:
    """A deprivation of liberty order made while the child was looked after in the year, for a
    few children aged 10 or over; some have ended by the year end."""
    care = record.care
    assert care is not None
    if chance.random() >= DOLO_SHARE_AGED_10:
        return []
    in_care_from, in_care_until = max(care.start, first), min(care.end or last, last)
    start = in_care_from + timedelta(days=chance.randint(0, (in_care_until - in_care_from).days))
    end = start + timedelta(days=chance.randint(28, 270))
    ended = end if end <= in_care_until else None
    return [(record.la_child_id, dob, uk_date(start), uk_date(ended))]


def _oc2_row(child_id: str, dob: str, age: int, chance: random.Random) -> tuple:
    """Outcomes for a child looked after continuously for twelve months."""
    sdq = 4 <= age <= 16 and chance.random() < 0.8
    flag = lambda share: "1" if chance.random() < share else "0"  # noqa: E731
    misuse = flag(0.05) if age >= 10 else "0"
    return (
        child_id,
        dob,
        str(chance.randint(0, 40)) if sdq else "",
        "" if sdq else chance.choice(("SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5")),
        flag(0.04) if age >= 10 else "0",
        flag(0.9),
        flag(0.88),
        flag(0.85),
        flag(0.9),
        misuse,
        flag(0.5) if misuse == "1" else "",
        flag(0.5) if misuse == "1" else "",
    )
