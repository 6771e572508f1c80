"""Pupils' attendance, suspensions and exclusions as a school's register records them.

Each pupil has a usual absence rate, drawn once (a pupil who misses school misses it in every
term) from their circumstances: phase, SEN provision, free school meals, being a child in need
or looked after. A term's absence is that rate with some term-to-term noise, split across
attendance reasons; a few pupils are suspended in a term. Rates are data at the top, tuned so
that about a fifth of pupils are persistently absent (10% or more of possible sessions missed)
and about 2% severely absent (50% or more), as in England's recent statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from linkage_ops.synthetic.school_year import SchoolTerm

# The usual absence rate: a gamma-distributed share of sessions around the mean, scaled by the
# pupil's circumstances; a few pupils are severely absent whatever the term.
ABSENCE_RATE_MEAN = 0.047
ABSENCE_RATE_SHAPE = 1.6
MAX_USUAL_ABSENCE_RATE = 0.45
SEVERE_ABSENCE_SHARE = 0.012
SEVERE_ABSENCE_RATES = (0.5, 0.95)
# Term-to-term variation of a pupil's rate (gamma, mean one).
TERM_NOISE_SHAPE = 6.0
ABSENCE_RISK = {
    "phase": {"primary": 0.85, "secondary": 1.25, "special": 1.4},
    "sen_provision": {"N": 1.0, "K": 1.35, "E": 1.5},
    "fsm": 1.6,
    "in_need": 1.9,
    "looked_after": 1.3,
}
# Shares of absence by attendance reason, for terms registered with the codes before and after
# 19 August 2024 (H, J and Y retired; C1, C2 and J1 new).
ABSENCE_REASONS = {
    "old": {
        "I": 0.52, "M": 0.07, "R": 0.01, "C": 0.05, "H": 0.01, "T": 0.005, "J": 0.005,
        "G": 0.08, "O": 0.16, "N": 0.05, "U": 0.04,
    },
    "new": {
        "I": 0.52, "M": 0.07, "R": 0.01, "C": 0.03, "C1": 0.002, "C2": 0.02, "T": 0.005,
        "J1": 0.005, "G": 0.08, "O": 0.16, "N": 0.05, "U": 0.04,
    },
}  # fmt: skip
SEVERE_ABSENCE_REASONS = {
    "old": {"O": 0.5, "I": 0.25, "C": 0.15, "N": 0.1},
    "new": {"O": 0.45, "I": 0.2, "C2": 0.2, "N": 0.1, "C": 0.05},
}
# Absence codes counted as authorised and unauthorised (DfE's absence statistics).
AUTHORISED_REASONS = frozenset({"C", "C1", "C2", "E", "H", "I", "J", "J1", "M", "R", "S", "T"})
UNAUTHORISED_REASONS = frozenset({"G", "N", "O", "U"})
# Suspensions: the share of pupils suspended in a term, by phase, scaled by circumstances.
SUSPENDED_SHARE_PER_TERM = {"primary": 0.004, "secondary": 0.022, "special": 0.03}
SUSPENSION_RISK = {
    "sen_provision": {"N": 1.0, "K": 1.8, "E": 2.2},
    "fsm": 2.2,
    "in_need": 2.8,
    "looked_after": 1.8,
}
SECOND_SUSPENSION_SHARE = 0.25
LUNCHTIME_SHARE = 0.05
SUSPENSION_SESSIONS = {1: 0.05, 2: 0.42, 4: 0.25, 6: 0.15, 10: 0.1, 20: 0.03}
EXCLUSION_REASONS = {
    "DB": 0.40, "VA": 0.12, "PP": 0.10, "VP": 0.09, "PA": 0.06, "DA": 0.05, "DM": 0.03,
    "OW": 0.03, "MT": 0.02, "BU": 0.02, "SM": 0.02, "RA": 0.015, "TH": 0.01, "LG": 0.005,
    "DS": 0.005,
}  # fmt: skip
SECOND_REASON_SHARE = 0.3
THIRD_REASON_SHARE = 0.1
# Of secondary pupils who leave for a school outside the authority, the share who were
# permanently excluded (about 0.15% of secondary pupils a year, as in England).
PERMANENTLY_EXCLUDED_SHARE_OF_SCHOOL_LEAVERS = 0.1


@dataclass(frozen=True, slots=True)
class Circumstances:
    """What a pupil's attendance and behaviour depend on."""

    phase: str
    sen_provision: str
    fsm: bool
    in_need: bool
    looked_after: bool

    def absence_risk(self) -> float:
        risk = ABSENCE_RISK["phase"][self.phase] * ABSENCE_RISK["sen_provision"][self.sen_provision]
        for flag in ("fsm", "in_need", "looked_after"):
            if getattr(self, flag):
                risk *= ABSENCE_RISK[flag]
        return risk

    def suspension_chance(self) -> float:
        chance = SUSPENDED_SHARE_PER_TERM[self.phase]
        chance *= SUSPENSION_RISK["sen_provision"][self.sen_provision]
        for flag in ("fsm", "in_need", "looked_after"):
            if getattr(self, flag):
                chance *= SUSPENSION_RISK[flag]
        return min(chance, 0.5)


@dataclass(frozen=True, slots=True)
class Suspension:
    """A suspension (FIXD), lunchtime suspension (LNCH) or permanent exclusion (PERM)."""

    start: date
    sessions: int | None
    reasons: tuple[str, ...]
    category: str


def usual_absence_rate(circumstances: Circumstances, rng: np.random.Generator) -> float:
    """The share of possible sessions a pupil usually misses."""
    severe_chance = SEVERE_ABSENCE_SHARE * circumstances.absence_risk() ** 1.5
    if rng.random() < severe_chance:
        return float(rng.uniform(*SEVERE_ABSENCE_RATES))
    draw = rng.gamma(ABSENCE_RATE_SHAPE, ABSENCE_RATE_MEAN / ABSENCE_RATE_SHAPE)
    return float(min(MAX_USUAL_ABSENCE_RATE, draw * circumstances.absence_risk()))


def term_absence(
    possible: int, usual_rate: float, term: SchoolTerm, rng: np.random.Generator
) -> dict[str, int]:
    """Sessions missed in a term of ``possible`` sessions, by attendance reason (no zeros)."""
    if possible <= 0:
        return {}
    rate = usual_rate
    if usual_rate < SEVERE_ABSENCE_RATES[0]:
        rate = min(0.95, usual_rate * rng.gamma(TERM_NOISE_SHAPE, 1 / TERM_NOISE_SHAPE))
    missed = int(rng.binomial(possible, rate))
    codes = "new" if term.new_attendance_codes else "old"
    shares = (SEVERE_ABSENCE_REASONS if usual_rate >= 0.5 else ABSENCE_REASONS)[codes]
    counts = rng.multinomial(missed, np.array(list(shares.values())) / sum(shares.values()))
    return {code: int(n) for code, n in zip(shares, counts, strict=True) if n}


def term_suspensions(
    circumstances: Circumstances,
    term: SchoolTerm,
    first: date,
    last: date,
    rng: np.random.Generator,
) -> list[Suspension]:
    """The suspensions of a pupil who attended ``term`` from ``first`` to ``last``."""
    if term.school_days(first, last) == 0 or rng.random() >= circumstances.suspension_chance():
        return []
    count = 2 if rng.random() < SECOND_SUSPENSION_SHARE else 1
    suspensions = []
    for _ in range(count):
        start = _school_day(term, first, last, rng)
        if rng.random() < LUNCHTIME_SHARE:
            suspensions.append(Suspension(start, 1, exclusion_reasons(rng), "LNCH"))
            continue
        sessions = int(rng.choice(list(SUSPENSION_SESSIONS), p=_probabilities(SUSPENSION_SESSIONS)))
        suspensions.append(Suspension(start, sessions, exclusion_reasons(rng), "FIXD"))
    return sorted(suspensions, key=lambda s: s.start)


def permanent_exclusion(
    term: SchoolTerm, leaving_date: date, rng: np.random.Generator
) -> Suspension | None:
    """The permanent exclusion behind a secondary pupil's move to a school outside the
    authority, for a few of them; it began a week or more before the pupil left the roll."""
    if rng.random() >= PERMANENTLY_EXCLUDED_SHARE_OF_SCHOOL_LEAVERS:
        return None
    start = leaving_date - timedelta(days=int(rng.integers(7, 30)))
    while start.weekday() >= 5:
        start -= timedelta(days=1)
    if not term.first_day <= start <= term.last_day:
        return None
    return Suspension(start, None, exclusion_reasons(rng), "PERM")


def exclusion_reasons(rng: np.random.Generator) -> tuple[str, ...]:
    """One to three different reasons, the main one first."""
    count = 1 + (rng.random() < SECOND_REASON_SHARE) + (rng.random() < THIRD_REASON_SHARE)
    picked = rng.choice(
        list(EXCLUSION_REASONS), size=count, replace=False, p=_probabilities(EXCLUSION_REASONS)
    )
    return tuple(str(code) for code in picked)


def _probabilities(shares: dict) -> np.ndarray:
    weights = np.array(list(shares.values()), dtype=float)
    return weights / weights.sum()


def _school_day(term: SchoolTerm, first: date, last: date, rng: np.random.Generator) -> date:
    days = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
        and first + timedelta(days=i) not in term.closed_days
    ]
    return days[int(rng.integers(0, len(days)))]
