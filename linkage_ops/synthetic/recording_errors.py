"""How each source mis-records a child: the error rates (data) and the error functions.

``RECORDING_ERROR_RATES`` holds, per source, the chance that one record carries each error.
A rate applies where the error is possible (a day/month swap needs a day of 12 or less, a
nickname needs a name that has one), so the realised share can be a little lower. The names
of the errors applied to a record are written to ``truth/records.csv``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from linkage_ops.identifiers import UPN_LETTERS, format_nhs_number, is_valid_nhs_number
from linkage_ops.synthetic import names
from linkage_ops.synthetic.population import Child

RECORDING_ERROR_RATES: dict[str, dict[str, float]] = {
    "school_census": {
        "forename_typo": 0.015,
        "surname_typo": 0.015,
        "surname_change": 0.015,
        "hyphenation_variant": 0.01,
        "middle_names_missing": 0.05,
        "dob_day_month_swap": 0.005,
        "dob_one_day_off": 0.003,
        "missing_upn": 0.005,
        "upn_wrong_check_letter": 0.003,
    },
    "gp": {
        "names_swapped": 0.003,
        "forename_nickname": 0.04,
        "forename_typo": 0.02,
        "surname_typo": 0.02,
        "surname_change": 0.015,
        "hyphenation_variant": 0.01,
        "dob_day_month_swap": 0.01,
        "dob_digit_off": 0.005,
        "missing_nhs_number": 0.015,
        "nhs_number_invalid": 0.005,
        "postcode_typo": 0.01,
        "sex_not_known": 0.002,
        # Of households that moved after registering: the practice still has the old postcode.
        "stale_postcode": 0.85,
    },
    # Social care and SEND (children_in_need.py, looked_after.py, social_care_clients.py,
    # sen2.py): drawn once per child, so the case record carries the same slip every month.
    "children_in_need": {
        "dob_day_month_swap": 0.006,
        "dob_one_day_off": 0.004,
        "missing_upn": 0.03,
        "upn_wrong_check_letter": 0.005,
    },
    "looked_after": {
        "dob_day_month_swap": 0.006,
        "dob_one_day_off": 0.004,
        "missing_upn": 0.04,
        "upn_wrong_check_letter": 0.005,
    },
    "social_care_clients": {
        "forename_nickname": 0.05,
        "forename_typo": 0.02,
        "surname_typo": 0.02,
        "surname_change": 0.03,
        "hyphenation_variant": 0.015,
        "dob_day_month_swap": 0.008,
        "dob_one_day_off": 0.004,
        # Case workers record the NHS number for only about 60% of children.
        "missing_nhs_number": 0.40,
        "nhs_number_invalid": 0.005,
        "postcode_typo": 0.01,
    },
    "sen2": {
        "forename_typo": 0.015,
        "surname_typo": 0.015,
        "surname_change": 0.015,
        "hyphenation_variant": 0.01,
        "dob_day_month_swap": 0.005,
        "missing_upn": 0.01,
        "upn_wrong_check_letter": 0.003,
        "postcode_typo": 0.01,
    },
    # Key stage results (ks2.py, ks4.py): the school's record of the pupil, sent from its
    # information system. Pupils are registered for the KS2 tests by UPN, so a KS2 UPN is never
    # blank; a KS4 file compiled from schools' exports sometimes lacks one.
    "ks2": {
        "forename_typo": 0.01,
        "surname_typo": 0.01,
        "surname_change": 0.01,
        "hyphenation_variant": 0.005,
        "dob_day_month_swap": 0.003,
        "upn_wrong_check_letter": 0.002,
    },
    "ks4": {
        "forename_typo": 0.01,
        "surname_typo": 0.01,
        "surname_change": 0.015,
        "hyphenation_variant": 0.005,
        "dob_day_month_swap": 0.003,
        "missing_upn": 0.004,
        "upn_wrong_check_letter": 0.002,
    },
    # The EYFS profile and the phonics check (eyfsp.py, phonics.py): each school's export of
    # its own record of the pupil; a Reception child's UPN is occasionally not yet recorded.
    "eyfsp": {
        "forename_typo": 0.01,
        "surname_typo": 0.01,
        "surname_change": 0.01,
        "hyphenation_variant": 0.005,
        "dob_day_month_swap": 0.003,
        "missing_upn": 0.004,
        "upn_wrong_check_letter": 0.002,
    },
    "phonics": {
        "forename_typo": 0.01,
        "surname_typo": 0.01,
        "surname_change": 0.01,
        "hyphenation_variant": 0.005,
        "dob_day_month_swap": 0.003,
        "missing_upn": 0.002,
        "upn_wrong_check_letter": 0.002,
    },
    # Health feeds (linkage_ops/synthetic/health.py): drawn once per provider and child, so a
    # provider's record of a child carries the same slip in every monthly extract.
    "community_services": {
        "dob_day_month_swap": 0.005,
        "missing_nhs_number": 0.01,
        "nhs_number_invalid": 0.003,
        "postcode_typo": 0.01,
        "sex_not_known": 0.003,
        "stale_postcode": 0.3,
    },
    "camhs": {
        "dob_day_month_swap": 0.005,
        "dob_digit_off": 0.003,
        "missing_nhs_number": 0.02,
        "nhs_number_invalid": 0.005,
        "postcode_typo": 0.01,
        "sex_not_known": 0.005,
        "stale_postcode": 0.3,
    },
    "cyps": {
        "names_swapped": 0.005,
        "forename_nickname": 0.05,
        "forename_typo": 0.02,
        "surname_typo": 0.02,
        "surname_change": 0.01,
        "hyphenation_variant": 0.01,
        "dob_day_month_swap": 0.01,
        "dob_digit_off": 0.005,
        "missing_nhs_number": 0.04,
        "nhs_number_invalid": 0.01,
        "postcode_typo": 0.015,
        "sex_not_known": 0.005,
        "stale_postcode": 0.5,
    },
    "emergency_care": {
        "dob_day_month_swap": 0.01,
        "dob_digit_off": 0.005,
        "missing_nhs_number": 0.04,
        "nhs_number_invalid": 0.005,
        "postcode_typo": 0.015,
        "sex_not_known": 0.01,
        "stale_postcode": 0.2,
    },
    "admitted_care": {
        # Not a slip: the share of a child's episodes shared with the NHS number withheld.
        "nhs_number_pseudonymised": 0.20,
        "dob_day_month_swap": 0.005,
        "nhs_number_invalid": 0.002,
        "postcode_typo": 0.01,
        "sex_not_known": 0.005,
        "stale_postcode": 0.2,
    },
    "child_health": {
        "forename_nickname": 0.02,
        "forename_typo": 0.01,
        "surname_typo": 0.01,
        "surname_change": 0.01,
        "hyphenation_variant": 0.005,
        "dob_day_month_swap": 0.003,
        "missing_nhs_number": 0.005,
        "nhs_number_invalid": 0.002,
        "postcode_typo": 0.01,
        "stale_postcode": 0.15,
    },
    "births": {
        "postcode_typo": 0.005,
        "sex_not_known": 0.002,
    },
    "deaths": {
        "forename_typo": 0.005,
        "surname_typo": 0.005,
        "dob_day_month_swap": 0.003,
        "missing_nhs_number": 0.01,
        "postcode_typo": 0.005,
    },
}
# Not drawn per record: decided per household from the family's move.
HOUSEHOLD_LEVEL_ERRORS = frozenset({"stale_postcode"})

# Typing slips: substitution with a neighbouring key, deletion, insertion, transposition.
TYPO_KINDS = {"substitution": 0.35, "deletion": 0.25, "insertion": 0.2, "transposition": 0.2}
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# How a surname changes on a record after a parent's marriage.
SURNAME_CHANGE_FORMS = {"former_surname_filled": 0.4, "preferred_surname_filled": 0.2, "bare": 0.4}


def _keyboard_neighbours() -> dict[str, str]:
    neighbours: dict[str, str] = {}
    for row_index, row in enumerate(_KEYBOARD_ROWS):
        for col, key in enumerate(row):
            found = [row[c] for c in (col - 1, col + 1) if 0 <= c < len(row)]
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(_KEYBOARD_ROWS):
                    found += [
                        _KEYBOARD_ROWS[other][c]
                        for c in (col - 1, col, col + 1)
                        if 0 <= c < len(_KEYBOARD_ROWS[other])
                    ]
            neighbours[key] = "".join(found)
    return neighbours


KEYBOARD_NEIGHBOURS = _keyboard_neighbours()


def draw_candidate_errors(
    source: str,
    count: int,
    rng: np.random.Generator,
    possible: dict[str, np.ndarray] | None = None,
) -> list[list[str]]:
    """For each of ``count`` records, the errors that the dice say it should carry.

    ``possible`` marks, for an error that only some records can carry (a nickname needs a
    forename that has one), which records can; the error is then drawn among those records
    only, at a rate raised so that its share of all records is still the table's rate.
    """
    rates = {
        name: rate
        for name, rate in RECORDING_ERROR_RATES[source].items()
        if name not in HOUSEHOLD_LEVEL_ERRORS
    }
    error_names = list(rates)
    hits = rng.random((count, len(error_names))) < np.array(list(rates.values()))
    for name, mask in (possible or {}).items():
        column = error_names.index(name)
        share = float(mask.mean()) if count else 0.0
        boosted = min(1.0, rates[name] / share) if share else 0.0
        hits[:, column] = mask & (rng.random(count) < boosted)
    found: list[list[str]] = [[] for _ in range(count)]
    for row, column in zip(*np.nonzero(hits), strict=True):
        found[int(row)].append(error_names[int(column)])
    return found


def typo(text: str, rng: random.Random) -> str:
    """One realistic typing slip; the first letter is kept, as it nearly always is."""
    if len(text) < 2:
        return text + text[-1:] if text else text
    kinds = list(TYPO_KINDS)
    weights = list(TYPO_KINDS.values())
    for _ in range(10):
        kind = rng.choices(kinds, weights)[0]
        position = rng.randrange(1, len(text))
        char = text[position]
        if kind == "substitution":
            choices = KEYBOARD_NEIGHBOURS.get(char.lower(), "aeiourstn")
            new = rng.choice(choices)
            result = (
                text[:position] + (new.upper() if char.isupper() else new) + text[position + 1 :]
            )
        elif kind == "deletion":
            result = text[:position] + text[position + 1 :]
        elif kind == "insertion":
            # Either a doubled letter or a neighbouring key struck as well.
            neighbours = KEYBOARD_NEIGHBOURS.get(char.lower(), char)
            new = char if rng.random() < 0.5 else rng.choice(neighbours)
            result = text[:position] + new + text[position:]
        else:
            if position == len(text) - 1:
                position -= 1
            if position < 1:
                continue
            result = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
        if result != text and result and result[-1] != "-":
            return result
    return text[:-1] if len(text) > 2 else text + "e"


def hyphenation_variant(surname: str, rng: random.Random) -> str:
    """Drop a part of a double-barrelled surname, or add one to a single surname."""
    if "-" in surname:
        parts = surname.split("-")
        return rng.choice([parts[0], parts[-1], " ".join(parts)])
    other = names.surnames().pick(rng)
    while other == surname:
        other = names.surnames().pick(rng)
    return f"{surname}-{other}" if rng.random() < 0.6 else f"{other}-{surname}"


def changed_surname(surname: str, rng: random.Random) -> str:
    """A different family surname (a step-parent's, or the one before a marriage)."""
    other = names.surnames().pick(rng)
    while other == surname:
        other = names.surnames().pick(rng)
    return other


def swap_day_month(day: date) -> date | None:
    """The date with day and month exchanged, or ``None`` when that is not a different date."""
    if day.day > 12 or day.day == day.month:
        return None
    return date(day.year, day.day, day.month)


def one_day_off(day: date, rng: random.Random) -> date:
    """A day either side."""
    return day + timedelta(days=rng.choice((-1, 1)))


def one_digit_off(day: date, rng: random.Random) -> date | None:
    """The date with one digit of ``YYYY-MM-DD`` changed, or ``None`` if no valid one is found."""
    text = day.isoformat()
    # Last digit of the year, month and day, or the tens of the day.
    positions = (3, 6, 8, 9)
    for _ in range(12):
        position = rng.choice(positions)
        digit = int(text[position])
        # A neighbouring digit: 0 can only become 1 and 9 only 8.
        new_digit = 1 if digit == 0 else 8 if digit == 9 else digit + rng.choice((-1, 1))
        candidate = text[:position] + str(new_digit) + text[position + 1 :]
        try:
            changed = date.fromisoformat(candidate)
        except ValueError:
            continue
        if changed != day:
            return changed
    return None


def wrong_check_letter(upn: str, rng: random.Random) -> str:
    """The UPN with a different (so invalid) check letter."""
    letter = rng.choice([c for c in UPN_LETTERS if c != upn[0]])
    return letter + upn[1:]


def corrupt_nhs_number(number: str, rng: random.Random) -> str:
    """A transposition or a wrong digit that fails Modulus 11 (the 999 prefix is kept)."""
    for _ in range(50):
        digits = list(number)
        position = rng.randrange(3, 9)
        if rng.random() < 0.5 and digits[position] != digits[position + 1]:
            digits[position], digits[position + 1] = digits[position + 1], digits[position]
        else:
            position = rng.randrange(3, 10)
            digits[position] = str((int(digits[position]) + rng.randrange(1, 10)) % 10)
        candidate = "".join(digits)
        if not is_valid_nhs_number(candidate):
            return candidate
    raise RuntimeError(f"could not corrupt NHS number {number}")


def postcode_typo(postcode: str, rng: random.Random) -> str:
    """A slip in the inward code: a unit letter mistyped or swapped, or the sector digit."""
    outward, inward = postcode.split(" ")
    for _ in range(10):
        kind = rng.random()
        if kind < 0.45:
            position = rng.choice((1, 2))
            new = rng.choice(KEYBOARD_NEIGHBOURS[inward[position].lower()]).upper()
            changed = inward[:position] + new + inward[position + 1 :]
        elif kind < 0.75:
            changed = inward[0] + inward[2] + inward[1]
        else:
            changed = str((int(inward[0]) + rng.choice((-1, 1))) % 10) + inward[1:]
        if changed != inward:
            return f"{outward} {changed}"
    return f"{outward} {(int(inward[0]) + 1) % 10}{inward[1:]}"


NAME_ERRORS = frozenset(
    {"forename_nickname", "forename_typo", "surname_change", "hyphenation_variant", "surname_typo"}
)


@dataclass(slots=True)
class RecordedPerson:
    """The identifying fields of a child as one record carries them."""

    forename: str
    middle_names: str
    surname: str
    former_surname: str
    preferred_surname: str
    date_of_birth: date


def record_person(
    child: Child, candidates: list[str], rng: random.Random, not_after: date
) -> tuple[RecordedPerson, list[str]]:
    """Apply the name and birth-date errors among ``candidates`` that fit this child.

    A wrong birth date is never later than ``not_after`` (the source would reject it).
    Returns the recorded fields and the names of the errors actually applied. Errors on the
    same field are exclusive: swapped names exclude every other name slip, a nickname wins
    over a typo, a surname change over a
    hyphenation variant over a typo, a day/month swap over a one-day or one-digit slip.
    """
    person = RecordedPerson(
        forename=child.forename,
        middle_names=child.middle_names,
        surname=child.surname,
        former_surname="",
        preferred_surname="",
        date_of_birth=child.date_of_birth,
    )
    applied: list[str] = []
    wanted = set(candidates)
    if "names_swapped" in wanted:
        # Forename and surname entered in each other's boxes (and no other name slip).
        person.forename, person.surname = child.surname, child.forename
        applied.append("names_swapped")
        wanted -= NAME_ERRORS
    if "forename_nickname" in wanted and child.forename in names.nicknames():
        person.forename = rng.choice(names.nicknames()[child.forename])
        applied.append("forename_nickname")
    elif "forename_typo" in wanted:
        person.forename = typo(child.forename, rng)
        applied.append("forename_typo")

    if "surname_change" in wanted:
        person.surname = changed_surname(child.surname, rng)
        form = rng.choices(list(SURNAME_CHANGE_FORMS), list(SURNAME_CHANGE_FORMS.values()))[0]
        if form == "former_surname_filled":
            person.former_surname = child.surname
        elif form == "preferred_surname_filled":
            person.preferred_surname = child.surname
        applied.append("surname_change")
    elif "hyphenation_variant" in wanted:
        person.surname = hyphenation_variant(child.surname, rng)
        applied.append("hyphenation_variant")
    elif "surname_typo" in wanted:
        person.surname = typo(child.surname, rng)
        applied.append("surname_typo")

    if "middle_names_missing" in wanted and child.middle_names:
        person.middle_names = ""
        applied.append("middle_names_missing")

    swapped = swap_day_month(child.date_of_birth) if "dob_day_month_swap" in wanted else None
    if swapped is not None and swapped <= not_after:
        person.date_of_birth = swapped
        applied.append("dob_day_month_swap")
    elif "dob_one_day_off" in wanted:
        changed = one_day_off(child.date_of_birth, rng)
        if changed > not_after:
            changed = child.date_of_birth - timedelta(days=1)
        person.date_of_birth = changed
        applied.append("dob_one_day_off")
    elif "dob_digit_off" in wanted:
        changed = one_digit_off(child.date_of_birth, rng)
        if changed is not None and changed <= not_after:
            person.date_of_birth = changed
            applied.append("dob_digit_off")
    return person, applied


NHS_NUMBER_SEPARATORS = {"spaces": " ", "dashes": "-"}


def layout_nhs_number(number: str, layout: str) -> str:
    """``9991234567`` as a provider's system writes it: ``plain``, ``spaces`` or ``dashes``.
    A number that is not ten digits (a corrupted one) is written as it is."""
    if len(number) != 10 or layout == "plain":
        return number
    return format_nhs_number(number, NHS_NUMBER_SEPARATORS[layout])


def joined_errors(source: str, applied: list[str]) -> str:
    """The applied error names in the order of ``RECORDING_ERROR_RATES``, ``;``-separated."""
    order = list(RECORDING_ERROR_RATES[source])
    return ";".join(sorted(set(applied), key=order.index))


def recorded_pupil(
    child: Child, wanted: list[str], chance: random.Random, not_after: date
) -> tuple[RecordedPerson, str, list[str]]:
    """The school's record of the pupil with the recording errors among ``wanted`` applied:
    names and birth date, the UPN (blank or with a wrong check letter), the errors applied."""
    person, applied = record_person(child, wanted, chance, not_after=not_after)
    upn = child.upn
    if "missing_upn" in wanted:
        upn = ""
        applied.append("missing_upn")
    elif "upn_wrong_check_letter" in wanted:
        upn = wrong_check_letter(child.upn, chance)
        applied.append("upn_wrong_check_letter")
    return person, upn, applied
