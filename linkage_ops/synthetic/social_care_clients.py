"""The monthly client extract from the children's social care case-management system.

One row per child whose CIN case (or period of care) was open during the month or closed in
the three months before it (a case closed late in the previous year is still on the first
extracts of this one), with the names, birth date, postcode and (for about 60%) the NHS number
the case record holds. A case record's slips are the same every month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.names import nicknames
from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.recording_errors import (
    corrupt_nhs_number,
    draw_candidate_errors,
    joined_errors,
    postcode_typo,
    record_person,
)
from linkage_ops.synthetic.school_year import CollectionYear, parse_month_period
from linkage_ops.synthetic.social_care import SocialCareChild, postcode_on, social_care_events
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "social_care_clients"
# The loader's own schema, so the writer and the reader cannot drift apart.
COLUMNS = load_schema(SOURCE).tables["clients"].column_names
RECENTLY_CLOSED_DAYS = 92


@dataclass(slots=True)
class CaseRecord:
    """How the case-management system holds one child: fixed for the whole year."""

    forename: str
    surname: str
    date_of_birth: date
    nhs_number: str
    postcode_typo: bool
    applied: list[str]


def clients_file(landing_dir: Path, period: str) -> Path:
    """``landing/social_care_clients/2024-10/clients_2024-10.csv``."""
    return landing_dir / SOURCE / period / f"clients_{period}.csv"


def write_social_care_clients(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write one client extract per month in ``months`` (``YYYY-MM``) and their truth rows."""
    chance = random.Random(int(rng.integers(1 << 62)))
    # Unborn children have no name yet; the extract lists named clients only.
    known = sorted(_clients(population, year), key=lambda c: c.la_child_id)
    has_nickname = np.array([c.child.forename in nicknames() for c in known], dtype=bool)
    candidates = draw_candidate_errors(
        SOURCE, len(known), rng, possible={"forename_nickname": has_nickname}
    )
    # Errors are drawn once per child, so every month shows the same slips.
    first_extract = parse_month_period(months[0]) if months else year.last_day
    records = {
        c.la_child_id: _case_record(c, wanted, chance, max(c.child.date_of_birth, first_extract))
        for c, wanted in zip(known, candidates, strict=True)
    }

    paths: list[Path] = []
    truth: list[TruthRecord] = []
    for period in months:
        extract_day = parse_month_period(period)
        month_start = extract_day.replace(day=1)
        rows = []
        for client in known:
            if not _on_extract(client, month_start, extract_day):
                continue
            child, record = client.child, records[client.la_child_id]
            postcode = postcode_on(child, extract_day)
            applied = list(record.applied)
            if record.postcode_typo:
                postcode = postcode_typo(postcode, random.Random(client.la_child_id))
                applied.append("postcode_typo")
            rows.append(
                (
                    client.la_child_id,
                    record.forename,
                    record.surname,
                    record.date_of_birth.isoformat(),
                    child.sex,
                    postcode,
                    record.nhs_number,
                )
            )
            truth.append(
                TruthRecord(
                    SOURCE,
                    period,
                    client.la_child_id,
                    child.child_id,
                    joined_errors(SOURCE, applied),
                )
            )
        path = clients_file(landing_dir, period)
        remove_csv_files(path.parent)
        write_csv(path, COLUMNS, rows)
        paths.append(path)
    return paths, truth


def _clients(population: Population, year: CollectionYear) -> list[SocialCareChild]:
    """The year's named clients, and the previous year's whose cases had closed by its end
    (recently closed ones are on this year's first extracts); a case still open then is this
    year's, under the same id."""
    clients = {c.la_child_id: c for c in social_care_events(population, year).children}
    earlier = population.previous
    if earlier is not None:
        for client in social_care_events(earlier, earlier.year).children:
            clients.setdefault(client.la_child_id, client)
    return [c for c in clients.values() if not c.unborn]


def _on_extract(client: SocialCareChild, month_start: date, extract_day: date) -> bool:
    """Born by the extract day, alive on it, and open or recently closed in the month."""
    child = client.child
    if child.date_of_birth > extract_day:
        return False
    if child.died_on is not None and child.died_on <= extract_day:
        return False
    recent = month_start - timedelta(days=RECENTLY_CLOSED_DAYS)
    care = client.care
    in_care = (
        care is not None and care.start <= extract_day and (care.end is None or care.end >= recent)
    )
    return in_care or client.open_between(recent, extract_day)


def _case_record(
    client: SocialCareChild, wanted: list[str], chance: random.Random, not_after: date
) -> CaseRecord:
    child = client.child
    person, applied = record_person(child, wanted, chance, not_after=not_after)
    nhs_number = child.nhs_number
    if "missing_nhs_number" in wanted:
        nhs_number = ""
        applied.append("missing_nhs_number")
    elif "nhs_number_invalid" in wanted:
        nhs_number = corrupt_nhs_number(nhs_number, chance)
        applied.append("nhs_number_invalid")
    return CaseRecord(
        forename=person.forename,
        surname=person.surname,
        date_of_birth=person.date_of_birth,
        nhs_number=nhs_number,
        postcode_typo="postcode_typo" in wanted,
        applied=applied,
    )
