"""The social-care and SEND events of the year: one consistent truth for CIN, SSDA903, the
case-management client extract and SEN2.

Every writer of those sources is handed its own random generator for recording errors, but
they must all describe the same cases. So the events are a function of the population (and
the years before it) alone: ``social_care_events`` seeds itself from the population's
identifiers, builds the year once per population object, and any writer that calls it gets
the same referrals, plans and care episodes.

Cases run from year to year, as in a case-management system. A case is generated in full (a
referral with its assessments, plans and closure; a period of care with its episodes, reviews
and social workers up to the child's 18th birthday) and each year's returns see it as known at
the year end. A year that follows another starts from that year's cases: what was open on
31 March goes on with the same dates and the same local ids, and a period of care ends in the
year at the rate a new one does (an adoption on its planned day). Cases end when the child
dies (RC2, E2), the family leaves the authority (RC5, E3) or the child turns 18 (RC7 and a care
leaver's ending). New referrals and entries to care come at the same rates every year; only
the first year generated has cases open from before it. EHC plans carry over the same way: a
plan keeps its start date and needs while it lasts, a child known last year without a plan can
only have one that started in the calendar year, and a departed child's plan ceases.
Rates and code lists are data at the top of the module.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from linkage_ops.ingest.schema import load_codelist
from linkage_ops.synthetic.population import Child, Household, Population
from linkage_ops.synthetic.recording_errors import wrong_check_letter
from linkage_ops.synthetic.school_year import CensusPeriod, CollectionYear, age_on, birthday

# Children's social care (shares of all children in the year).
REFERRED_IN_YEAR_SHARE = 0.035
OPEN_FROM_EARLIER_SHARE = 0.02
LOOKED_AFTER_SHARE = 0.007
UNBORN_PER_THOUSAND = 0.4  # pre-birth referrals still unborn at the reference date
# Need is commoner in households on free school meals and for children with SEN.
FSM_RISK = 2.5
SEN_RISK = {"N": 1.0, "K": 2.0, "E": 2.5}
NEED_CODES = {
    "N1": 0.55, "N2": 0.04, "N3": 0.06, "N4": 0.15, "N5": 0.08,
    "N6": 0.03, "N7": 0.01, "N8": 0.02, "N9": 0.04, "N0": 0.02,
}  # fmt: skip
# Referral sources (codelists/cin_referral_source), roughly as DfE's national figures: police
# (6) about 30%, schools (2A) 20%, health services (3*) 15%, LA services (5*) 12%.
REFERRAL_SOURCES = {
    "1A": 0.045, "1B": 0.006, "1C": 0.012, "1D": 0.014, "2A": 0.21, "2B": 0.012,
    "3A": 0.025, "3B": 0.03, "3C": 0.005, "3D": 0.015, "3E": 0.035, "3F": 0.04,
    "4": 0.015, "5A": 0.04, "5B": 0.03, "5C": 0.035, "5D": 0.02, "6": 0.295,
    "7": 0.03, "8": 0.055, "9": 0.008, "10": 0.023,
}  # fmt: skip
ASSESSMENT_FACTORS = (
    "1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
    "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A",
    "14A", "15A", "16A", "17A", "18B", "18C", "19B", "19C", "20", "21", "22A", "23A",
    "24A",
)  # fmt: skip
ABUSE_CATEGORIES = {"NEG": 0.52, "EMO": 0.36, "PHY": 0.06, "SAB": 0.04, "MUL": 0.02}
REFERRAL_NFA_SHARE = 0.08
SECTION47_SHARE = 0.25
INITIAL_CPC_SHARE = 0.45
CPP_AFTER_CPC_SHARE = 0.85
CIN_PLAN_SHARE = 0.5
# Closure reasons: RC7 services ceased, RC8 closed after assessment, RC9 referred to early help,
# RC5 transferred to another LA. RC2 (died) and RC1 (adopted) follow from events.
CLOSURE_REASONS = {"RC7": 0.45, "RC8": 0.25, "RC9": 0.22, "RC5": 0.08}
# Cases end on the day the child dies, the family leaves the authority or the child turns 18.
CLOSURE_ON_ENDING = {"died": "RC2", "left": "RC5", "adult": "RC7"}
DISABILITIES = ("MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT")
DISABLED_SHARE = {"N": 0.05, "K": 0.2, "E": 0.6}

# SSDA903: legal statuses, placements and how episodes end.
LEGAL_STATUS_AT_START = {"C2": 0.18, "C1": 0.2, "V2": 0.45, "L1": 0.05, "L2": 0.08, "J2": 0.04}
# Placement shares; only the codes the year's return accepts are drawn (code list placement:
# K3 from 2024-25; H5 and Z1 retired and Z11-Z14 added in 2025-26), so a retired code's share
# passes to its successors.
PLACEMENTS = {
    "U1": 0.06, "U2": 0.05, "U3": 0.08, "U4": 0.25, "U5": 0.12, "U6": 0.12,
    "K2": 0.1, "R1": 0.03, "P1": 0.06, "H5": 0.05, "K3": 0.05, "S1": 0.01, "R2": 0.01,
    "T0": 0.01, "Z1": 0.01, "Z11": 0.0025, "Z12": 0.0025, "Z13": 0.0025, "Z14": 0.0025,
}  # fmt: skip
PROVIDERS = {"U": ("PR1", "PR4", "PR5"), "K": ("PR1", "PR4"), "P": ("PR0",)}
PLACE_CHANGE_REASONS = ("CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "LAREQ")
CARE_ENDINGS = {"E4A": 0.3, "E4B": 0.1, "E13": 0.15, "E41": 0.05, "E45": 0.08, "E46": 0.05,
                "E48": 0.04, "E5": 0.05, "E8": 0.08, "E3": 0.05, "E6": 0.05}  # fmt: skip
# Care ending with the child's death or, for a family moving away, taken over by another
# authority; at 18 a care leaver stays put, moves to independent living or leaves otherwise.
CARE_ENDING_ON = {"died": "E2", "left": "E3"}
CARE_ENDINGS_AT_18 = {"E17": 0.3, "E5": 0.35, "E6": 0.2, "E8": 0.15}
ADOPTED = frozenset({"E11", "E12"})
CARE_NEEDS = {"N1": 0.65, "N4": 0.1, "N5": 0.1, "N2": 0.05, "N8": 0.1}
# A placement whose code the next year's return retires changes on the year's last day.
RETIRED_PLACEMENT_CHANGE_REASON = "OTHER"
CARE_STARTED_IN_YEAR_SHARE = 0.35
CARE_ENDS_IN_YEAR_SHARE = 0.3
ADOPTION_SHARE_UNDER_FIVE = 0.25
UASC_SHARE_AGED_14_NOT_WHITE_BRITISH = 0.45
MISSING_SHARE_AGED_11 = 0.2
MOTHER_SHARE_FEMALE_AGED_14 = 0.2
# Why a child's social worker changed (code list social_worker_change_reason). DfE expects a
# reason on every social worker episode starting on or after 1 April 2023, the first included.
SOCIAL_WORKER_CHANGE_REASONS = (
    "MANAGE", "LEFTRL", "ORGRST", "ABSENC", "CHCHAN", "PCCHAN", "OTHERS",
)  # fmt: skip
FIRST_SOCIAL_WORKER_REASON = "OTHERS"
SOCIAL_WORKER_REASONS_FROM = date(2023, 4, 1)

# SEND: EHC plans. Pupils with census senprovision E have one; some younger and older too.
EHC_UNDER_FIVE_SHARE = 0.006
EHC_AGED_16_17_NOT_AT_SCHOOL_SHARE = 0.035
# A year, for a child known the year before without a plan: about the under-fives' share over
# their three years, and few at 16-17 (most of their plans continue from school).
EHC_UNDER_FIVE_NEW_SHARE = 0.002
EHC_AGED_16_17_NEW_SHARE = 0.005
EHC_REQUEST_SHARE_OF_SEN_SUPPORT = 0.05
EHC_NEW_PLAN_IN_YEAR_SHARE = 0.12  # of plans, issued in the calendar year before the census
WEEK20_SHARE = 0.5
SEN_TYPES = {
    "ASD": 0.31, "SEMH": 0.17, "SLCN": 0.16, "MLD": 0.1, "SLD": 0.07, "PD": 0.05,
    "SPLD": 0.04, "HI": 0.02, "VI": 0.01, "PMLD": 0.02, "MSI": 0.005, "OTH": 0.035, "DS": 0.01,
}  # fmt: skip
# Where a plan is delivered (SEN2 from 2025): a school by its URN, a college by its UKPRN, and
# only a setting with neither by a SEN setting code (EYP early years provider, NEET, EHE ...).
EARLY_YEARS_SETTING = "EYP"
POST16_PLACEMENTS = {
    "college": 0.6, "NEET": 0.2, "EHE": 0.05, "OPA": 0.05, "OLA": 0.05, "NIEO": 0.05,
}  # fmt: skip
COLLEGE_UKPRNS = ("10099101", "10099102", "10099103")
# Where the plan of a child of school age who has left the authority's schools is delivered.
SCHOOL_AGE_SETTINGS = {"OPA": 0.5, "EHE": 0.3, "OLA": 0.2}
# Plans of young people past school age that ceased in the calendar year before the census.
POST16_PLAN_CEASED_SHARE = 0.25
PLAN_CEASE_REASONS = {"2": 0.3, "3": 0.1, "4": 0.2, "5": 0.2, "6": 0.2}
PLAN_NO_LONGER_NEEDED = "2"  # a pupil the census no longer records with a plan
PLAN_TRANSFERRED = "5"  # the family moved to another authority
PLAN_DECEASED = "8"  # listed from the 2025 return


@dataclass(slots=True)
class Assessment:
    """A child and family assessment."""

    start: date
    authorised: date | None
    factors: tuple[str, ...]


@dataclass(slots=True)
class CinPlan:
    """A child in need plan."""

    start: date
    end: date | None


@dataclass(slots=True)
class Section47:
    """A Section 47 enquiry and whether it led to an initial child protection conference."""

    start: date
    initial_cpc_target: date
    initial_cpc: date | None
    icpc_not_required: bool


@dataclass(slots=True)
class ProtectionPlan:
    """A child protection plan with its review dates."""

    start: date
    end: date | None
    initial_category: str
    latest_category: str
    previous_plans: int
    reviews: list[date] = field(default_factory=list)


@dataclass(slots=True)
class CinEpisode:
    """One referral to children's social care and everything that followed it."""

    referral_date: date
    referral_source: str
    primary_need: str
    referral_nfa: bool
    closure_date: date | None = None
    closure_reason: str = ""
    assessments: list[Assessment] = field(default_factory=list)
    plans: list[CinPlan] = field(default_factory=list)
    section47s: list[Section47] = field(default_factory=list)
    protection_plans: list[ProtectionPlan] = field(default_factory=list)

    @property
    def initial_cpc(self) -> date | None:
        return next((s.initial_cpc for s in self.section47s if s.initial_cpc), None)

    def open_on(self, day: date) -> bool:
        return self.referral_date <= day and (self.closure_date is None or self.closure_date >= day)


@dataclass(slots=True)
class CareEpisode:
    """An SSDA903 episode: a spell with one legal status and one placement."""

    start: date
    reason_new_episode: str
    legal_status: str
    placement: str
    provider: str
    placement_postcode: str
    urn: str
    end: date | None = None
    reason_ceased: str = ""
    # Why the placement changed when this episode ended (REASON_PLACE_CHANGE).
    reason_place_change: str = ""


@dataclass(slots=True)
class Adoption:
    """The adoption journey of a looked-after child (AD1 and PlacedAdoption)."""

    decided: date
    matched: date | None
    placed: date | None
    foster_carer: bool
    adopters: int
    adopter_sexes: str
    adopter_legal_status: str


@dataclass(slots=True)
class PeriodOfCare:
    """A child's time looked after, as episodes, plus what the 903 reports about it."""

    episodes: list[CareEpisode]
    cin_need: str
    uasc: bool = False
    adoption: Adoption | None = None
    reviews: list[tuple[date, str]] = field(default_factory=list)
    missing: list[tuple[str, date, date | None]] = field(default_factory=list)
    social_workers: list[tuple[str, date, date | None, str]] = field(default_factory=list)
    previous_permanence: str = "Z1"
    mother_child_born: date | None = None

    @property
    def start(self) -> date:
        return self.episodes[0].start

    @property
    def end(self) -> date | None:
        return self.episodes[-1].end


@dataclass(slots=True)
class SocialCareChild:
    """A child known to children's social care, under the case-management system's id."""

    child: Child
    la_child_id: str
    unborn: bool
    disabilities: tuple[str, ...]
    episodes: list[CinEpisode]
    care: PeriodOfCare | None = None

    def open_between(self, first: date, last: date) -> bool:
        """Any CIN episode open at some point in ``first``..``last``."""
        return any(
            e.referral_date <= last and (e.closure_date is None or e.closure_date >= first)
            for e in self.episodes
        )

    def last_closed(self) -> date | None:
        ends = [e.closure_date for e in self.episodes]
        return None if None in ends else max(ends)  # type: ignore[type-var]


@dataclass(slots=True)
class EhcRequest:
    """A request for an EHC needs assessment and, if agreed, the assessment."""

    received: date
    outcome: str  # A assess, R refused, W withdrawn, "" pending
    outcome_date: date | None
    assessment_outcome: str = ""  # Y plan issued, N not issued, "" pending
    assessment_outcome_date: date | None = None
    week20: bool | None = None


@dataclass(slots=True)
class EhcPlan:
    """An education, health and care plan."""

    start: date
    setting: str  # a SEN setting code, only where the plan names no URN or UKPRN
    urn: str
    needs: tuple[str, ...]
    cease_date: date | None = None
    cease_reason: str = ""
    ukprn: str = ""


@dataclass(slots=True)
class SendChild:
    """A child in the SEN2 return: requests in the calendar year and an EHC plan."""

    child: Child
    requests: list[EhcRequest]
    plan: EhcPlan | None


@dataclass(frozen=True, slots=True)
class _Ending:
    """The day in the year a child's cases end, and why: ``died``, ``left`` (the family moved
    out of the authority) or ``adult`` (the 18th birthday)."""

    day: date
    why: str


@dataclass(slots=True)
class SocialCareEvents:
    """Everything the CIN census, SSDA903, client extract and SEN2 describe for one year."""

    year: CollectionYear
    sen2_census_day: date
    # Each child's cases as the year's returns know them, cut at the year end.
    children: list[SocialCareChild]
    send: list[SendChild]
    # The same cases as generated in full, by child id (closures and care after the year end
    # included): what the next year continues. Writers read ``children``.
    cases: dict[str, SocialCareChild] = field(default_factory=dict, repr=False)
    # The case-management id of every child known to the system so far, this year or before.
    la_child_ids: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def looked_after(self) -> list[SocialCareChild]:
        return [c for c in self.children if c.care is not None]


def sen2_census_day(year: CollectionYear) -> date:
    """SEN2 counts plans on the third Thursday of January, as the spring School Census."""
    return CensusPeriod(year.start_year + 1, "spring").census_day


# The events are kept in the population's derived models: each year is built once,
# and they go when the population goes.
_EVENTS_ATTRIBUTE = "social_care_events"


def social_care_events(population: Population, year: CollectionYear) -> SocialCareEvents:
    """The year's social-care and SEND events; the same population gives the same events.

    A population with a ``previous`` year continues that year's events (built first)."""
    population.require_year(year)
    cached = population.derived.get(_EVENTS_ATTRIBUTE)
    if cached is not None:
        return cached
    previous = None
    if population.previous is not None:
        previous = social_care_events(population.previous, population.previous.year)
    # A seed from the population itself, so every writer sees the same cases.
    rnd = random.Random(population.derived_seed(f"social care {year.label}"))
    builder = _Builder(population, year, rnd, previous)
    cases = builder.cases()
    events = SocialCareEvents(
        year=year,
        sen2_census_day=sen2_census_day(year),
        children=[_as_known_by(case, year.last_day) for case in cases],
        send=builder.send_children(),
        cases={case.child.child_id: case for case in cases if not case.unborn},
        la_child_ids=builder.la_child_ids,
    )
    population.derived[_EVENTS_ATTRIBUTE] = events
    return events


def _collection_year_of(day: date) -> int:
    """The start year of the collection year (1 April to 31 March) ``day`` falls in."""
    return day.year if day.month >= 4 else day.year - 1


def _pick(rnd: random.Random, shares: dict[str, float]) -> str:
    return rnd.choices(list(shares), list(shares.values()))[0]


def _day_between(rnd: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rnd.randint(0, (last - first).days))


def _cut(episode: CinEpisode, cutoff: date) -> None:
    """Drop what happens after ``cutoff``: the episode as known that day."""

    def keep_end(end: date | None) -> date | None:
        return end if end is not None and end <= cutoff else None

    episode.assessments = [a for a in episode.assessments if a.start <= cutoff]
    for a in episode.assessments:
        a.authorised = keep_end(a.authorised)
    episode.plans = [p for p in episode.plans if p.start <= cutoff]
    for p in episode.plans:
        p.end = keep_end(p.end)
    episode.section47s = [s for s in episode.section47s if s.start <= cutoff]
    for s in episode.section47s:
        if s.initial_cpc is not None and s.initial_cpc > cutoff:
            s.initial_cpc, s.icpc_not_required = None, False
    episode.protection_plans = [p for p in episode.protection_plans if p.start <= cutoff]
    for p in episode.protection_plans:
        p.end = keep_end(p.end)
        p.reviews = [r for r in p.reviews if r <= cutoff]
    if episode.closure_date is not None and episode.closure_date > cutoff:
        episode.closure_date, episode.closure_reason = None, ""


def _close_on(episode: CinEpisode, day: date, reason: str) -> None:
    """Close the episode on ``day`` with everything in it still open (a death, a move away)."""
    episode.closure_date, episode.closure_reason = day, reason
    for a in episode.assessments:
        a.authorised = a.authorised or day
    for p in episode.plans:
        p.end = p.end or day
    for p in episode.protection_plans:
        p.end = p.end or day


def _last_activity(episode: CinEpisode) -> date:
    """The latest day anything in the episode started or ended."""
    days = [episode.referral_date]
    days += [a.authorised or a.start for a in episode.assessments]
    days += [p.end or p.start for p in episode.plans]
    days += [p.end or p.start for p in episode.protection_plans]
    return max(days)


def _as_known_by(case: SocialCareChild, day: date) -> SocialCareChild:
    """A copy of a case as the returns know it on ``day``: nothing after it has happened yet."""
    episodes = [copy.deepcopy(e) for e in case.episodes if e.referral_date <= day]
    for episode in episodes:
        _cut(episode, day)
    care = None
    if case.care is not None and case.care.start <= day:
        care = _care_as_known_by(copy.deepcopy(case.care), day)
    return SocialCareChild(
        case.child, case.la_child_id, case.unborn, case.disabilities, episodes, care
    )


def _care_as_known_by(care: PeriodOfCare, day: date) -> PeriodOfCare:
    """The period of care (a copy, changed in place) as known on ``day``."""
    care.episodes = [e for e in care.episodes if e.start <= day]
    last = care.episodes[-1]
    if last.end is not None and last.end > day:
        last.end, last.reason_ceased, last.reason_place_change = None, "", ""
    care.reviews = [r for r in care.reviews if r[0] <= day]
    care.missing = [
        (kind, gone, back if back is not None and back <= day else None)
        for kind, gone, back in care.missing
        if gone <= day
    ]
    care.social_workers = [
        (worker, start, end if end is not None and end <= day else None, reason)
        for worker, start, end, reason in care.social_workers
        if start <= day
    ]
    _forget_care_after(care, day)
    return care


def _forget_care_after(care: PeriodOfCare, day: date) -> None:
    """Adoption steps and a child's birth after ``day`` have not happened."""
    if care.adoption is not None:
        if care.adoption.matched is not None and care.adoption.matched > day:
            care.adoption.matched = None
        if care.adoption.placed is not None and care.adoption.placed > day:
            care.adoption.placed = None
    if care.mother_child_born is not None and care.mother_child_born > day:
        care.mother_child_born = None


class _Builder:
    """Draws the events child by child in population order, so the result is reproducible."""

    def __init__(
        self,
        population: Population,
        year: CollectionYear,
        rnd: random.Random,
        previous: SocialCareEvents | None,
    ) -> None:
        self.population = population
        self.year = year
        self.rnd = rnd
        self.previous = previous
        self.first = year.first_day
        self.last = year.last_day
        # Alive at some point in the year and born by its end.
        self.children = [
            c
            for c in population.children
            if c.date_of_birth <= self.last and (c.died_on is None or c.died_on >= self.first)
        ]
        self.postcodes = sorted({h.address.postcode for h in population.households})
        self.la_child_ids: dict[str, str] = dict(previous.la_child_ids) if previous else {}
        self._placement_shares: dict[int, dict[str, float]] = {}

    def _placements_from(self, day: date) -> dict[str, float]:
        """Placement shares for an episode starting on ``day``: only the codes the return of
        the collection year it falls in accepts (this year's, for any earlier day) and, on a
        31 March, the next year's return too (the episode is open on its first day)."""
        shares = self._placements_in(_collection_year_of(day))
        if (day.month, day.day) == (3, 31):
            later = self._placements_in(_collection_year_of(day) + 1)
            shares = {code: share for code, share in shares.items() if code in later}
        return shares

    def _placements_in(self, start_year: int) -> dict[str, float]:
        start_year = max(self.year.start_year, start_year)
        if start_year not in self._placement_shares:
            valid = load_codelist("placement").codes(start_year + 1)
            self._placement_shares[start_year] = {
                code: share for code, share in PLACEMENTS.items() if code in valid
            }
        return self._placement_shares[start_year]

    def _risk(self, child: Child) -> float:
        fsm = FSM_RISK if child.household.fsm_periods else 1.0
        return fsm * SEN_RISK.get(child.sen_provision, 1.0)

    def _ending(self, child: Child) -> _Ending | None:
        """The day in the year the child's cases end, if they do: death, the family moving
        out of the authority, or the 18th birthday, whichever comes first."""
        endings = []
        if child.died_on is not None and child.died_on <= self.last:
            endings.append(_Ending(child.died_on, "died"))
        left = child.household.left_on
        if left is not None and left <= self.last:
            endings.append(_Ending(left, "left"))
        adult = birthday(child.date_of_birth, 18)
        if adult <= self.last:
            endings.append(_Ending(adult, "adult"))
        return min(endings, key=lambda e: e.day, default=None)

    def _until(self, child: Child) -> date:
        """Nothing new happens to the child's cases after this day: the year end or ending."""
        ending = self._ending(child)
        return ending.day if ending is not None else self.last

    def _known_from(self, child: Child) -> date:
        """The first day of the year a new referral can fall on: from the child's birth or
        the family's arrival."""
        return max(self.first, child.date_of_birth, child.household.arrived_on or self.first)

    # Children in need -------------------------------------------------------------------
    def cases(self) -> list[SocialCareChild]:
        """Every child's cases this year, generated in full: those going on from the previous
        year, new referrals and entries to care, and pre-birth referrals."""
        rnd = self.rnd
        carried = self._carried()
        risks = [self._risk(c) for c in self.children]
        mean_risk = sum(risks) / len(risks) if risks else 1.0
        fresh = self._fresh_ids(len(self.children) // 4 + 50)
        found: list[SocialCareChild] = []
        for child, risk in zip(self.children, risks, strict=True):
            scale = risk / mean_risk
            looked_after = rnd.random() < LOOKED_AFTER_SHARE * scale
            referred = rnd.random() < REFERRED_IN_YEAR_SHARE * scale
            # Only the first year generated has cases open from before it: a later year's
            # come from the carry-over.
            earlier = rnd.random() < OPEN_FROM_EARLIER_SHARE * scale and self.previous is None
            case = carried.pop(child.child_id, None)
            in_care = case is not None and case.care is not None
            care_start = self._care_start(child) if looked_after and not in_care else None
            if case is None:
                if not (care_start or referred or earlier):
                    continue
                case = SocialCareChild(
                    child=child,
                    la_child_id=self._la_child_id(child.child_id, fresh),
                    unborn=False,
                    disabilities=self._disabilities(child),
                    episodes=[],
                )
            case.child = child
            if in_care:
                self._continue_care(case)
            elif care_start is not None:
                self._start_care(case, care_start)
            elif earlier and child.date_of_birth < self.first - timedelta(days=60):
                start = max(child.date_of_birth, self.first - timedelta(days=rnd.randint(60, 1500)))
                case.episodes.append(self._cin_episode(start, still_open_on=self.first))
            if referred or not case.episodes:
                start = _day_between(rnd, self._known_from(child), self._until(child))
                if all(e.closure_date and e.closure_date < start for e in case.episodes):
                    case.episodes.append(self._cin_episode(start))
            case.episodes.sort(key=lambda e: e.referral_date)
            ending = self._ending(child)
            if ending is not None:
                self._end_cases(case, ending)
            found.append(case)
        # Open cases of children not in this year's population: they turned 18, or died or
        # moved away, on its first day (any later day is in the year's population).
        for case in carried.values():
            adult = birthday(case.child.date_of_birth, 18) <= self.first
            self._end_cases(case, _Ending(self.first, "adult" if adult else "left"))
            found.append(case)
        found.extend(self._unborn(fresh))
        return found

    def _carried(self) -> dict[str, SocialCareChild]:
        """The previous year's cases still open at its end, by child id: copies of the cases
        as generated in full, with only what is still open (closed episodes and a period of
        care that has ended stay in that year's returns)."""
        if self.previous is None:
            return {}
        end = self.previous.year.last_day
        carried = {}
        for child_id, case in self.previous.cases.items():
            episodes = [
                copy.deepcopy(e)
                for e in case.episodes
                if e.closure_date is None or e.closure_date > end
            ]
            care = case.care
            if care is not None and care.end is not None and care.end <= end:
                care = None
            if episodes or care is not None:
                carried[child_id] = SocialCareChild(
                    case.child,
                    case.la_child_id,
                    False,
                    case.disabilities,
                    episodes,
                    copy.deepcopy(care),
                )
        return carried

    def _fresh_ids(self, count: int) -> Iterator[str]:
        """``count`` case-management ids no child has had (the system never reuses one)."""
        used = set(self.la_child_ids.values())
        numbers = self.rnd.sample(range(100000, 1000000), count + len(used))
        return iter([f"LA{n:06d}" for n in numbers if f"LA{n:06d}" not in used][:count])

    def _la_child_id(self, child_id: str, fresh: Iterator[str]) -> str:
        """The child's case-management id: the one given in an earlier year, else a new one."""
        if child_id not in self.la_child_ids:
            self.la_child_ids[child_id] = next(fresh)
        return self.la_child_ids[child_id]

    def _disabilities(self, child: Child) -> tuple[str, ...]:
        if self.rnd.random() >= DISABLED_SHARE.get(child.sen_provision, 0.05):
            return ("NONE",)
        return tuple(sorted(self.rnd.sample(DISABILITIES, self.rnd.choice((1, 1, 2)))))

    def _cin_episode(
        self,
        referral: date,
        still_open_on: date | None = None,
        need: str | None = None,
        in_care: bool = False,
    ) -> CinEpisode:
        """A referral and what followed, in full (the year's returns see it cut at its end).

        ``still_open_on``: the case must still be open that day (cases from earlier years).
        ``in_care``: the child comes into care in this case, which stays open until after the
        care ends (``_end_care`` closes it).
        """
        rnd = self.rnd
        forced_open = still_open_on is not None or in_care
        episode = CinEpisode(
            referral_date=referral,
            referral_source=_pick(rnd, REFERRAL_SOURCES),
            primary_need=need or _pick(rnd, NEED_CODES),
            referral_nfa=not forced_open and rnd.random() < REFERRAL_NFA_SHARE,
        )
        if episode.referral_nfa:
            episode.closure_date = referral
            episode.closure_reason = "RC8"
            return episode
        start = referral + timedelta(days=rnd.randint(0, 7))
        authorised = start + timedelta(days=rnd.randint(10, 60))
        factors = tuple(sorted(rnd.sample(ASSESSMENT_FACTORS, rnd.randint(1, 3))))
        episode.assessments.append(Assessment(start, authorised, factors))
        latest = authorised
        if rnd.random() < SECTION47_SHARE:
            s47_start = start + timedelta(days=rnd.randint(0, 5))
            target = s47_start + timedelta(days=15)
            icpc = None
            if rnd.random() < INITIAL_CPC_SHARE:
                icpc = s47_start + timedelta(days=rnd.randint(5, 20))
            episode.section47s.append(Section47(s47_start, target, icpc, icpc is None))
            if icpc is not None and rnd.random() < CPP_AFTER_CPC_SHARE:
                plan_end = icpc + timedelta(days=rnd.randint(120, 540))
                category = _pick(rnd, ABUSE_CATEGORIES)
                latest_category = category if rnd.random() < 0.9 else _pick(rnd, ABUSE_CATEGORIES)
                reviews = []
                review = icpc + timedelta(days=90)
                while review < plan_end:
                    reviews.append(review)
                    review += timedelta(days=180)
                episode.protection_plans.append(
                    ProtectionPlan(
                        icpc,
                        plan_end,
                        category,
                        latest_category,
                        rnd.choice((0, 0, 0, 1, 1, 2)),
                        reviews,
                    )
                )
                latest = max(latest, plan_end)
        if not episode.protection_plans and rnd.random() < CIN_PLAN_SHARE:
            plan_end = authorised + timedelta(days=rnd.randint(90, 420))
            episode.plans.append(CinPlan(authorised, plan_end))
            latest = max(latest, plan_end)
        if in_care:
            return episode
        closure = latest + timedelta(days=rnd.randint(7, 90))
        episode.closure_reason = _pick(rnd, CLOSURE_REASONS)
        if still_open_on is not None and closure < still_open_on:
            closure = still_open_on + timedelta(days=rnd.randint(0, 400))
        episode.closure_date = closure
        return episode

    def _end_cases(self, case: SocialCareChild, ending: _Ending) -> None:
        """Close whatever is open on the ending day: the period of care (E2 died, E3 taken
        over by another authority, a care leaver's ending at 18), then each CIN episode with
        its assessments and plans (RC2, RC5, RC7). What was to close that day anyway closes
        for the ending's reason; a referral with no further action keeps RC8."""
        care = case.care
        if care is not None and (care.end is None or care.end >= ending.day):
            reason = CARE_ENDING_ON.get(ending.why) or _pick(self.rnd, CARE_ENDINGS_AT_18)
            self._end_care(case, ending.day, reason)
        case.episodes = [e for e in case.episodes if e.referral_date <= ending.day]
        for episode in case.episodes:
            _cut(episode, ending.day)
            if episode.closure_date is None or (
                episode.closure_date == ending.day and not episode.referral_nfa
            ):
                _close_on(episode, ending.day, CLOSURE_ON_ENDING[ending.why])

    def _unborn(self, fresh: Iterator[str]) -> list[SocialCareChild]:
        """Pre-birth referrals: unborn at the reference date (UPNunknown UN6). They are not
        carried into the next year: the baby is not one of the population's children."""
        rnd = self.rnd
        households = [h for h in self.population.households if h.lives_here_on(self.last)]
        count = round(len(self.population.children) * UNBORN_PER_THOUSAND / 1000)
        found = []
        for n in range(count if households else 0):
            household = households[rnd.randrange(len(households))]
            expected = self.last + timedelta(days=rnd.randint(7, 120))
            child = _unborn_child(household, n + 1, self.year, expected)
            referral = self.last - timedelta(days=rnd.randint(10, 150))
            episode = CinEpisode(referral, _pick(rnd, REFERRAL_SOURCES), "N1", False)
            start = referral + timedelta(days=rnd.randint(0, 7))
            episode.assessments.append(
                Assessment(start, None, tuple(sorted(rnd.sample(ASSESSMENT_FACTORS, 2))))
            )
            la_child_id = self._la_child_id(child.child_id, fresh)
            found.append(SocialCareChild(child, la_child_id, True, ("NONE",), [episode]))
        return found

    # Looked after -----------------------------------------------------------------------
    def _care_start(self, child: Child) -> date | None:
        """When a child drawn as looked after in the year came into care: during the year or,
        in the first year generated only, up to five years before it. None where neither can
        be: a baby born in the year's last days, or care from before a later year (the
        carry-over has those)."""
        rnd = self.rnd
        until = self._until(child)
        earliest = max(
            child.date_of_birth + timedelta(days=3),
            child.household.arrived_on or child.date_of_birth,
        )
        if earliest > until:
            return None
        if rnd.random() < CARE_STARTED_IN_YEAR_SHARE or earliest >= self.first:
            return _day_between(rnd, max(self.first, earliest), until)
        if self.previous is not None:
            return None
        return _day_between(rnd, max(earliest, self.first - timedelta(days=1800)), self.first)

    def _start_care(self, case: SocialCareChild, start: date) -> None:
        """A period of care from ``start``, inside an open CIN case, generated up to the
        child's 18th birthday; it ends in the year at ``CARE_ENDS_IN_YEAR_SHARE`` or, for an
        adoption, on the planned day."""
        rnd = self.rnd
        child = case.child
        age = age_on(child.date_of_birth, start)
        adoption = age < 5 and rnd.random() < ADOPTION_SHARE_UNDER_FIVE
        ends_in_year = rnd.random() < CARE_ENDS_IN_YEAR_SHARE
        end: date | None = None
        if adoption:
            end = start + timedelta(days=rnd.randint(400, 900))
            if end < self.first:  # the 903 holds only care that touches the year
                end = _day_between(rnd, self.first, self.last)
        elif ends_in_year:
            end = _day_between(rnd, max(self.first, start + timedelta(days=20)), self.last)
        need = _pick(rnd, CARE_NEEDS)
        self._open_case_for_care(case, start, need)
        horizon = birthday(child.date_of_birth, 18)
        care = PeriodOfCare(self._care_episodes(start, end or horizon, adoption), cin_need=need)
        care.uasc = (
            age_on(child.date_of_birth, self.last) >= 14
            and child.ethnicity != "WBRI"
            and rnd.random() < UASC_SHARE_AGED_14_NOT_WHITE_BRITISH
        )
        if adoption:
            decided = start + timedelta(days=rnd.randint(90, 200))
            matched = decided + timedelta(days=rnd.randint(60, 200))
            placed = matched + timedelta(days=rnd.randint(10, 40))
            adopters = rnd.choice((1, 2, 2, 2))
            care.adoption = Adoption(
                decided,
                matched,
                placed,
                rnd.random() < 0.15,
                adopters,
                "",
                rnd.choice(("L0", "L11", "L12", "L2")),
            )
            care.adoption.adopter_sexes = rnd.choice(("M1", "F1")) if adopters == 1 else "MF"
        # Reviews: the first within 20 working days, then at 3 months and every 6 months.
        review = start + timedelta(days=28)
        gap = 90
        while review <= horizon:
            care.reviews.append((review, rnd.choice(("PN1", "PN1", "PN1", "PN2", "PN0"))))
            review += timedelta(days=gap)
            gap = 182
        worker_start = start
        # The reason is recorded on the episode it starts: why this social worker took over.
        reason = FIRST_SOCIAL_WORKER_REASON if start >= SOCIAL_WORKER_REASONS_FROM else ""
        while worker_start <= horizon:
            worker_end = worker_start + timedelta(days=rnd.randint(90, 700))
            care.social_workers.append(
                (f"SW{rnd.randint(1000, 9999)}", worker_start, worker_end, reason)
            )
            reason = rnd.choice(SOCIAL_WORKER_CHANGE_REASONS)
            worker_start = worker_end + timedelta(days=1)
        if rnd.random() < 0.1:
            care.previous_permanence = rnd.choice(("P1", "P2", "P3", "P4"))
        case.care = care
        if end is not None:
            self._end_care(case, end)
        self._care_in_year(case, new=True)

    def _open_case_for_care(self, case: SocialCareChild, start: date, need: str) -> None:
        """The CIN case a child comes into care in: one open that day, held open while the
        child is in care, else a new referral shortly before (in a year that follows another,
        within the year: an earlier one would be in the previous return)."""
        rnd = self.rnd
        child = case.child
        open_case = next((e for e in case.episodes if e.open_on(start)), None)
        if open_case is not None:
            open_case.closure_date, open_case.closure_reason = None, ""
            return
        earliest = max(
            [child.date_of_birth]
            + [e.closure_date + timedelta(days=1) for e in case.episodes if e.closure_date]
        )
        if self.previous is not None:
            earliest = max(earliest, self._known_from(child))
        referral = min(start, max(earliest, start - timedelta(days=rnd.randint(1, 400))))
        case.episodes.append(self._cin_episode(referral, need=need, in_care=True))

    def _continue_care(self, case: SocialCareChild) -> None:
        """A period of care open at the previous year end goes on: it ends in this year at
        the rate a new one does (an adoption on its planned day) or stays open."""
        care = case.care
        assert care is not None
        if care.end is None and self.rnd.random() < CARE_ENDS_IN_YEAR_SHARE:
            earliest = max(self.first, care.start + timedelta(days=20))
            self._end_care(case, _day_between(self.rnd, earliest, self.last))
        self._care_in_year(case, new=False)

    def _end_care(self, case: SocialCareChild, end: date, reason: str = "") -> None:
        """End the period of care on ``end`` (what was drawn for after it goes), with
        ``reason`` or one drawn, and let the CIN case it sits in close after it."""
        rnd = self.rnd
        care = case.care
        assert care is not None
        episodes = [e for e in care.episodes if e.start < end] or care.episodes[:1]
        if not reason:
            placed = care.adoption is not None and any(e.legal_status == "E1" for e in episodes)
            reason = rnd.choice(tuple(sorted(ADOPTED))) if placed else _pick(rnd, CARE_ENDINGS)
        last = episodes[-1]
        last.end, last.reason_ceased, last.reason_place_change = end, reason, ""
        care.episodes = episodes
        care.reviews = [r for r in care.reviews if r[0] <= end]
        care.missing = [m for m in care.missing if m[1] <= end]
        care.social_workers = [
            (worker, start, min(finish or end, end), why)
            for worker, start, finish, why in care.social_workers
            if start <= end
        ]
        _forget_care_after(care, end)
        for episode in case.episodes:
            if episode.closure_date is None and episode.open_on(care.start):
                closure = max(
                    end + timedelta(days=rnd.randint(0, 60)),
                    _last_activity(episode) + timedelta(days=7),
                )
                episode.closure_date = closure
                episode.closure_reason = "RC1" if reason in ADOPTED else _pick(rnd, CLOSURE_REASONS)

    def _care_in_year(self, case: SocialCareChild, new: bool) -> None:
        """What the year adds to a period of care: times a child aged 11 or over went missing
        or was away, and (drawn once: in the period's first year, or the year she is first
        14 or over in it) whether a girl has had a child."""
        rnd = self.rnd
        child, care = case.child, case.care
        assert care is not None
        from_day = max(care.start, self.first)
        until = min(care.end or self.last, self._until(child))
        age_now = age_on(child.date_of_birth, self.last)
        if age_now >= 11 and rnd.random() < MISSING_SHARE_AGED_11:
            for _ in range(rnd.randint(1, 3)):
                gone = _day_between(rnd, from_day, until)
                back = gone + timedelta(days=rnd.randint(0, 4))
                care.missing.append((rnd.choice(("M", "M", "A")), gone, back))
            care.missing.sort(key=lambda m: m[1])
        first_chance = (
            new
            or self.previous is None
            or age_on(child.date_of_birth, self.first - timedelta(days=1)) < 14
        )
        if (
            child.sex == "F"
            and age_now >= 14
            and first_chance
            and care.mother_child_born is None
            and rnd.random() < MOTHER_SHARE_FEMALE_AGED_14
        ):
            care.mother_child_born = _day_between(rnd, from_day, until)

    def _care_episodes(self, start: date, until: date, adoption: bool) -> list[CareEpisode]:
        """The episodes of a period of care from ``start``, each new one starting by
        ``until``; the last is left open (``_end_care`` ends it)."""
        rnd = self.rnd
        legal = _pick(rnd, LEGAL_STATUS_AT_START)
        episodes = [self._care_episode(start, "S", legal, _pick(rnd, self._placements_from(start)))]
        day = start
        adoption_placed = False
        while True:
            day = day + timedelta(days=rnd.randint(60, 500))
            self._recode_retired_placement(episodes, min(day, until))
            if day > until:
                break
            previous = episodes[-1]
            if adoption and not adoption_placed and day > start + timedelta(days=200):
                # A placement order, then a placement with the adopters.
                reason, legal, place = "U", "E1", rnd.choice(("A5", "A6"))
                adoption_placed = True
            elif previous.legal_status in {"L1", "L2", "C1"}:
                reason, legal, place = "L", "C2", previous.placement
            else:
                reason, place = "P", _pick(rnd, self._placements_from(day))
                if place == previous.placement:
                    continue
            previous.end, previous.reason_ceased = day, "X1"
            episode = self._care_episode(day, reason, legal, place)
            # DfE records why a placement changed on the episode that ended (none for a
            # temporary placement).
            if reason in {"P", "U"} and not previous.placement.startswith("T"):
                previous.reason_place_change = rnd.choice(PLACE_CHANGE_REASONS)
            episodes.append(episode)
        return episodes

    def _recode_retired_placement(self, episodes: list[CareEpisode], through: date) -> None:
        """A placement still open when the next collection year (before ``through``) retires
        its code changes on the year's last day to one both years accept, as an authority
        recodes placements before the new return: each year's 903 has only its own codes."""
        current = episodes[-1]
        year_end = date(_collection_year_of(current.start) + 1, 3, 31)
        while year_end < through:
            if current.placement not in self._placements_from(year_end + timedelta(days=1)):
                place = _pick(self.rnd, self._placements_from(year_end))
                change = self._care_episode(year_end, "P", current.legal_status, place)
                current.end, current.reason_ceased = year_end, "X1"
                current.reason_place_change = RETIRED_PLACEMENT_CHANGE_REASON
                episodes.append(change)
                current = change
            year_end = date(year_end.year + 1, 3, 31)

    def _care_episode(self, start: date, reason: str, legal: str, place: str) -> CareEpisode:
        rnd = self.rnd
        provider = rnd.choice(PROVIDERS.get(place[0], ("PR1", "PR2", "PR4")))
        urn = f"SC{rnd.randint(100000, 999999)}" if place in {"K2", "R1", "R2", "S1"} else "XXXXXXX"
        return CareEpisode(
            start=start,
            reason_new_episode=reason,
            legal_status=legal,
            placement=place,
            provider=provider,
            placement_postcode=rnd.choice(self.postcodes),
            urn=urn,
        )

    # SEND -------------------------------------------------------------------------------
    def send_children(self) -> list[SendChild]:
        """EHC plans on the SEN2 census day and requests in the calendar year before it.

        A plan on last year's census goes on with its start date and needs, or ceases; a child
        known last year without a plan can only have one that started in the calendar year;
        the plan of a child who has left the authority since last year's census ceases."""
        rnd = self.rnd
        census = sen2_census_day(self.year)
        calendar_first = date(census.year - 1, 1, 1)
        calendar_last = date(census.year - 1, 12, 31)
        autumn = CensusPeriod(self.year.start_year, "autumn").census_day
        carried = self._carried_plans()
        earlier_population = self.population.previous
        known_before = (
            {c.child_id for c in earlier_population.children} if earlier_population else set()
        )
        found: list[SendChild] = []
        for child in self.population.children:
            if child.date_of_birth > census:
                continue
            earlier = carried.pop(child.child_id, None)
            if child.died_on is not None and child.died_on <= census:
                if earlier is not None:
                    found.extend(self._ceased(earlier, child, child.died_on, PLAN_DECEASED))
                continue
            age = age_on(child.date_of_birth, census)
            if earlier is not None:
                found.append(self._continued_plan(child, age, earlier, calendar_last, autumn))
                continue
            new_in_year = child.child_id in known_before
            has_plan = child.sen_provision == "E"
            if not child.is_pupil:
                under_five = EHC_UNDER_FIVE_NEW_SHARE if new_in_year else EHC_UNDER_FIVE_SHARE
                older = (
                    EHC_AGED_16_17_NEW_SHARE if new_in_year else EHC_AGED_16_17_NOT_AT_SCHOOL_SHARE
                )
                if (2 <= age < 5 and rnd.random() < under_five) or (
                    age >= 16 and rnd.random() < older
                ):
                    has_plan = True
            if has_plan:
                found.extend(
                    self._with_plan(child, age, calendar_first, calendar_last, autumn, new_in_year)
                )
            elif child.sen_provision == "K" and rnd.random() < EHC_REQUEST_SHARE_OF_SEN_SUPPORT:
                found.append(self._request_only(child, calendar_first, calendar_last))
        for earlier in carried.values():
            found.extend(self._plan_of_a_child_gone(earlier))
        return found

    def _carried_plans(self) -> dict[str, SendChild]:
        """Last year's children with a plan active on its census day, by child id."""
        if self.previous is None:
            return {}
        return {
            send.child.child_id: send
            for send in self.previous.send
            if send.plan is not None and send.plan.cease_date is None
        }

    def _since_last_census(self) -> date:
        """The first day a change to a plan on last year's census can fall on."""
        assert self.previous is not None
        return self.previous.sen2_census_day + timedelta(days=1)

    def _continued_plan(
        self, child: Child, age: int, earlier: SendChild, cal_last: date, autumn: date
    ) -> SendChild:
        """Last year's plan goes on with its start date and needs, delivered where the child
        is now (a pupil's school). It ceases when the census no longer records a pupil with a
        plan and, at the module's rate, for a young person past school age."""
        rnd = self.rnd
        assert earlier.plan is not None
        plan = replace(earlier.plan)
        since = self._since_last_census()
        if child.is_pupil and child.sen_provision != "E":
            latest = min(cal_last, autumn - timedelta(days=7))
            plan.cease_date = _day_between(rnd, since, latest)
            plan.cease_reason = PLAN_NO_LONGER_NEEDED
            return SendChild(child, [], plan)
        if child.is_pupil and child.sen_needs:
            plan.needs = child.sen_needs  # the same needs as the School Census records
        plan.setting, plan.urn, plan.ukprn = self._plan_setting(child, age, earlier.plan)
        if not child.is_pupil and age >= 16 and rnd.random() < POST16_PLAN_CEASED_SHARE:
            plan.cease_date = _day_between(rnd, since, cal_last)
            plan.cease_reason = _pick(rnd, PLAN_CEASE_REASONS)
        return SendChild(child, [], plan)

    def _plan_of_a_child_gone(self, earlier: SendChild) -> list[SendChild]:
        """A plan on last year's census whose child is not in this year's population: it
        ceased when the family moved away (recorded after the census it was last on) or the
        child died. A young person who turned 18 keeps theirs, outside the population."""
        child = earlier.child
        if child.died_on is not None:
            return self._ceased(earlier, child, child.died_on, PLAN_DECEASED)
        left = child.household.left_on
        if left is not None:
            ceased = max(left, self._since_last_census())
            return self._ceased(earlier, child, ceased, PLAN_TRANSFERRED)
        return []

    def _ceased(self, earlier: SendChild, child: Child, day: date, reason: str) -> list[SendChild]:
        """Last year's plan, ceased on ``day``; nothing where the year's return has no code
        for the reason (deceased is listed from 2025)."""
        assert earlier.plan is not None
        census = sen2_census_day(self.year)
        if reason not in load_codelist("sen2_cease_reason").codes(census.year):
            return []
        return [SendChild(child, [], replace(earlier.plan, cease_date=day, cease_reason=reason))]

    def _plan_setting(
        self, child: Child, age: int, earlier: EhcPlan | None
    ) -> tuple[str, str, str]:
        """Where a plan is delivered, as (setting code, URN, UKPRN): a pupil's school, an
        early years provider under five, a college or a post-16 setting, else a setting for
        a child of school age not at an authority school. A plan keeps its setting while the
        child stays in the same kind of place."""
        rnd = self.rnd
        if child.is_pupil and child.school is not None:
            return "", f"1{child.school.estab:05d}", ""
        if age < 5:
            return EARLY_YEARS_SETTING, "", ""
        if age >= 16:
            if earlier is not None and (earlier.ukprn or earlier.setting in POST16_PLACEMENTS):
                return earlier.setting, "", earlier.ukprn
            setting = _pick(rnd, POST16_PLACEMENTS)
            if setting == "college":
                return "", "", rnd.choice(COLLEGE_UKPRNS)
            return setting, "", ""
        if earlier is not None and earlier.setting in SCHOOL_AGE_SETTINGS:
            return earlier.setting, "", ""
        return _pick(rnd, SCHOOL_AGE_SETTINGS), "", ""

    def _with_plan(
        self,
        child: Child,
        age: int,
        cal_first: date,
        cal_last: date,
        autumn: date,
        new_in_year: bool,
    ) -> list[SendChild]:
        """A child with a plan not on last year's census. ``new_in_year``: the child was
        known last year, so the plan started in the calendar year (none if it cannot have)."""
        rnd = self.rnd
        # A pupil's plan is already on the census in the autumn, so it started before then.
        latest_start = autumn - timedelta(days=7) if child.is_pupil else cal_last
        earliest_start = child.date_of_birth + timedelta(days=300)
        requests = []
        received_from = max(cal_first, earliest_start)
        received_by = latest_start - timedelta(days=150)
        if (
            new_in_year or rnd.random() < EHC_NEW_PLAN_IN_YEAR_SHARE
        ) and received_by > received_from:
            received = _day_between(rnd, received_from, received_by)
            decided = received + timedelta(days=rnd.randint(20, 42))
            in_time = rnd.random() < WEEK20_SHARE
            issued = received + timedelta(days=rnd.randint(100, 140) if in_time else 141 + 60)
            issued = min(issued, latest_start)
            requests.append(
                EhcRequest(received, "A", decided, "Y", issued, (issued - received).days <= 140)
            )
            start = issued
        elif new_in_year:
            return []
        else:
            start = _day_between(rnd, earliest_start, min(latest_start, cal_first))
        setting, urn, ukprn = self._plan_setting(child, age, None)
        count = rnd.choice((1, 1, 2, 3))
        drawn = tuple(dict.fromkeys(_pick(rnd, SEN_TYPES) for _ in range(count)))
        # The same needs as the School Census records, where the child is a pupil.
        needs = child.sen_needs or drawn
        plan = EhcPlan(start, setting, urn, needs, ukprn=ukprn)
        if (
            not child.is_pupil
            and age >= 16
            and start < cal_first
            and rnd.random() < POST16_PLAN_CEASED_SHARE
        ):
            plan.cease_date = _day_between(rnd, cal_first, cal_last)
            plan.cease_reason = _pick(rnd, PLAN_CEASE_REASONS)
        return [SendChild(child, requests, plan)]

    def _request_only(self, child: Child, cal_first: date, cal_last: date) -> SendChild:
        rnd = self.rnd
        received = _day_between(rnd, cal_first, cal_last)
        decided = received + timedelta(days=rnd.randint(20, 42))
        if decided > cal_last:
            return SendChild(child, [EhcRequest(received, "", None)], None)
        if rnd.random() < 0.35:
            return SendChild(
                child, [EhcRequest(received, rnd.choice(("R", "R", "W")), decided)], None
            )
        request = EhcRequest(received, "A", decided)
        concluded = received + timedelta(days=rnd.randint(100, 200))
        if concluded <= cal_last:
            # Not issued: a plan issued would have made the census say E.
            request.assessment_outcome = "N"
            request.assessment_outcome_date = concluded
            request.week20 = (concluded - received).days <= 140
        return SendChild(child, [request], None)


def _unborn_child(household: Household, number: int, year: CollectionYear, expected: date) -> Child:
    """An unborn baby of an existing family: known to social care, not yet to anyone else
    (an id of the year's: next year's unborn babies are other children)."""
    return Child(
        index=-number,
        child_id=f"UNBORN-{year.label}-{number:04d}",
        household=household,
        forename="",
        middle_names="",
        surname=household.surname,
        date_of_birth=expected,
        sex="U",
        nhs_number="",
    )


# Where a child has no UPN the returns say why (CIN UPNunknown, the 903's UPN field).
UPN_UNKNOWN_UNDER_SIX = "UN1"  # aged under 6 and not yet given a UPN
UPN_UNKNOWN_OTHER = ("UN2", "UN3", "UN4", "UN5")


def recorded_upn(
    child: Child, wanted: list[str], chance: random.Random, on: date
) -> tuple[str, str, list[str]]:
    """The UPN a social-care or SEND return carries, the UPNunknown code, and errors applied.

    A child with no UPN (not in an LA school) gets an unknown code, which is not an error;
    ``missing_upn`` blanks a UPN the child does have, ``upn_wrong_check_letter`` mistypes it.
    """
    if not child.upn or "missing_upn" in wanted:
        code = (
            UPN_UNKNOWN_UNDER_SIX
            if age_on(child.date_of_birth, on) < 6
            else chance.choice(UPN_UNKNOWN_OTHER)
        )
        return "", code, ["missing_upn"] if child.upn else []
    if "upn_wrong_check_letter" in wanted:
        return wrong_check_letter(child.upn, chance), "", ["upn_wrong_check_letter"]
    return child.upn, "", []


def postcode_on(child: Child, day: date) -> str:
    """The family's postcode on ``day`` (the previous one before a move)."""
    household = child.household
    if household.moved_on is not None and household.previous_address and day < household.moved_on:
        return household.previous_address.postcode
    return household.address.postcode
