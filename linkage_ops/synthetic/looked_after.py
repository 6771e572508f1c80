"""The SSDA903 return (children looked after) as the authority submits it: CSV tables.

One file per table, ``landing/looked_after/<year>/<table>.csv``; the loader recognises each
table by its columns, not its name. Dates are ``dd/mm/YYYY``. Like real returns, a few
children's episodes are duplicated, overlap, or are left open in the middle of care.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.recording_errors import (
    draw_candidate_errors,
    joined_errors,
    record_person,
)
from linkage_ops.synthetic.school_year import CollectionYear, age_on
from linkage_ops.synthetic.social_care import (
    SocialCareChild,
    postcode_on,
    recorded_upn,
    social_care_events,
)
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "looked_after"
# The loader's own schema, so the writer and the reader cannot drift apart.
TABLE_COLUMNS: dict[str, list[str]] = load_schema(SOURCE).columns_by_table
# SEX codes by the first collection year they apply to (1/2 up to 2024-25, M/F/U after).
SEX_CODES_FROM_YEAR: tuple[tuple[int, dict[str, str]], ...] = (
    (2025, {"M": "M", "F": "F", "U": "U"}),
    (0, {"M": "1", "F": "2", "U": "1"}),
)
# Data-quality faults real returns carry (shares of looked-after children).
DUPLICATED_EPISODE_SHARE = 0.04
OVERLAPPING_EPISODE_SHARE = 0.03
OPEN_EPISODE_SHARE = 0.02


def uk_date(day: date | None) -> str:
    """``dd/mm/YYYY``; blank for no date."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}" if day else ""


def eighteenth_birthday(birth: date) -> date:
    """The day a child leaves UASC status (a 29 February birthday counts from 1 March)."""
    try:
        return birth.replace(year=birth.year + 18)
    except ValueError:
        return date(birth.year + 18, 3, 1)


def sex_codes(year: CollectionYear) -> dict[str, str]:
    """The SEX code list the return uses in ``year``."""
    return next(codes for first, codes in SEX_CODES_FROM_YEAR if year.start_year >= first)


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
    events = social_care_events(population, year)
    # The return is sorted by the case-management id.
    children = sorted(events.looked_after, key=lambda c: c.la_child_id)
    candidates = draw_candidate_errors(SOURCE, len(children), rng)
    sexes = sex_codes(year)
    first, last = year.first_day, year.last_day

    rows: dict[str, list[tuple]] = {table: [] for table in TABLE_COLUMNS}
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
            rows["uasc"].append(
                (child_id, sex, dob, uk_date(eighteenth_birthday(child.date_of_birth)))
            )
        if care.start <= last - timedelta(days=365) and care.end is None:
            rows["oc2"].append(_oc2_row(child_id, dob, age_on(child.date_of_birth, last), chance))
        if age_on(child.date_of_birth, last) == 17:
            rows["oc3"].append(
                (child_id, dob, chance.choice(("YES", "YES", "YES", "NO", "RHOM")),
                 chance.choice(("F1", "P1", "F2", "G4", "G5")),
                 chance.choice(("V1", "K1", "E1", "D1", "B1", "C2")))
            )  # fmt: skip
        # A return knows only what was decided by its year end.
        if care.adoption is not None and care.adoption.decided <= last:
            adoption = care.adoption
            matched = adoption.matched if adoption.matched and adoption.matched <= last else None
            rows["ad1"].append(
                (child_id, dob, uk_date(adoption.decided), uk_date(matched),
                 "1" if adoption.foster_carer else "0", str(adoption.adopters),
                 adoption.adopter_sexes, adoption.adopter_legal_status)
            )  # fmt: skip
            if adoption.placed is not None:
                ended = care.end if care.episodes[-1].reason_ceased in {"E11", "E12"} else None
                rows["placedadoption"].append(
                    (child_id, dob, uk_date(adoption.placed), uk_date(ended),
                     care.episodes[-1].reason_ceased if ended else "")
                )  # fmt: skip
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

    folder = landing_dir / SOURCE / year.label
    remove_csv_files(folder)
    paths = []
    for table, columns in TABLE_COLUMNS.items():
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
        rows[0][7], rows[0][8] = "", ""  # an end never recorded
    elif rows and draw < OVERLAPPING_EPISODE_SHARE + OPEN_EPISODE_SHARE + DUPLICATED_EPISODE_SHARE:
        rows.insert(1, list(rows[0]))  # the same episode keyed twice
    return [tuple(row) for row in rows]


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
