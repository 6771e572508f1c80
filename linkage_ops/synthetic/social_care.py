"""The social-care and SEND events of the year: one consistent truth for CIN, SSDA903, the
case-management client extract and SEN2.

Every writer of those sources is handed its own random generator for recording errors, but
they must all describe the same cases. So the events are a function of the population and
the collection year alone: ``social_care_events`` seeds itself from the population's
identifiers, and any writer that calls it gets the same referrals, plans and care episodes.
Rates and code lists are data at the top of the module.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from linkage_ops.ingest.schema import load_codelist
from linkage_ops.synthetic.population import Child, Household, Population
from linkage_ops.synthetic.recording_errors import wrong_check_letter
from linkage_ops.synthetic.school_year import CensusPeriod, CollectionYear, age_on

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
# Plans of young people past school age that ceased in the calendar year before the census.
POST16_PLAN_CEASED_SHARE = 0.25
PLAN_CEASE_REASONS = {"2": 0.3, "3": 0.1, "4": 0.2, "5": 0.2, "6": 0.2}


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


@dataclass(slots=True)
class SocialCareEvents:
    """Everything the CIN census, SSDA903, client extract and SEN2 describe for one year."""

    year: CollectionYear
    sen2_census_day: date
    children: list[SocialCareChild]
    send: list[SendChild]

    @property
    def looked_after(self) -> list[SocialCareChild]:
        return [c for c in self.children if c.care is not None]


def sen2_census_day(year: CollectionYear) -> date:
    """SEN2 counts plans on the third Thursday of January, as the spring School Census."""
    return CensusPeriod(year.start_year + 1, "spring").census_day


def social_care_events(population: Population, year: CollectionYear) -> SocialCareEvents:
    """The year's social-care and SEND events; the same population gives the same events."""
    population.require_year(year)
    # A seed from the population itself, so every writer sees the same cases.
    rnd = random.Random(population.derived_seed(f"social care {year.label}"))
    builder = _Builder(population, year, rnd)
    return SocialCareEvents(
        year=year,
        sen2_census_day=sen2_census_day(year),
        children=builder.social_care_children(),
        send=builder.send_children(),
    )


def _pick(rnd: random.Random, shares: dict[str, float]) -> str:
    return rnd.choices(list(shares), list(shares.values()))[0]


def _day_between(rnd: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rnd.randint(0, (last - first).days))


class _Builder:
    """Draws the events child by child in population order, so the result is reproducible."""

    def __init__(self, population: Population, year: CollectionYear, rnd: random.Random) -> None:
        self.population = population
        self.year = year
        self.rnd = rnd
        self.first = year.first_day
        self.last = year.last_day
        # Alive at some point in the year and born by its end.
        self.children = [
            c
            for c in population.children
            if c.date_of_birth <= self.last and (c.died_on is None or c.died_on >= self.first)
        ]
        self.postcodes = sorted({h.address.postcode for h in population.households})
        valid = load_codelist("placement").codes(year.start_year + 1)
        self.placements = {code: share for code, share in PLACEMENTS.items() if code in valid}

    def _risk(self, child: Child) -> float:
        fsm = FSM_RISK if child.household.fsm_periods else 1.0
        return fsm * SEN_RISK.get(child.sen_provision, 1.0)

    def _cutoff(self, child: Child) -> date:
        """Nothing is recorded after the year end or the child's death."""
        if child.died_on is not None and child.died_on < self.last:
            return child.died_on
        return self.last

    # Children in need -------------------------------------------------------------------
    def social_care_children(self) -> list[SocialCareChild]:
        rnd = self.rnd
        risks = [self._risk(c) for c in self.children]
        mean_risk = sum(risks) / len(risks) if risks else 1.0
        ids = rnd.sample(range(100000, 1000000), len(self.children) // 4 + 50)
        found: list[SocialCareChild] = []
        for child, risk in zip(self.children, risks, strict=True):
            scale = risk / mean_risk
            looked_after = rnd.random() < LOOKED_AFTER_SHARE * scale
            # A baby born in the last days of the year cannot yet have come into care.
            looked_after &= child.date_of_birth + timedelta(days=3) <= self._cutoff(child)
            referred = rnd.random() < REFERRED_IN_YEAR_SHARE * scale
            earlier = rnd.random() < OPEN_FROM_EARLIER_SHARE * scale
            if not (looked_after or referred or earlier):
                continue
            record = SocialCareChild(
                child=child,
                la_child_id=f"LA{ids[len(found)]:06d}",
                unborn=False,
                disabilities=self._disabilities(child),
                episodes=[],
            )
            if looked_after:
                self._looked_after(record)
            elif earlier and child.date_of_birth < self.first - timedelta(days=60):
                start = max(child.date_of_birth, self.first - timedelta(days=rnd.randint(60, 1500)))
                record.episodes.append(self._cin_episode(child, start, still_open_on=self.first))
            if referred or not record.episodes:
                start = _day_between(rnd, max(self.first, child.date_of_birth), self._cutoff(child))
                if all(e.closure_date and e.closure_date < start for e in record.episodes):
                    record.episodes.append(self._cin_episode(child, start))
            record.episodes.sort(key=lambda e: e.referral_date)
            found.append(record)
        found.extend(self._unborn(ids[len(found) :]))
        return found

    def _disabilities(self, child: Child) -> tuple[str, ...]:
        if self.rnd.random() >= DISABLED_SHARE.get(child.sen_provision, 0.05):
            return ("NONE",)
        return tuple(sorted(self.rnd.sample(DISABILITIES, self.rnd.choice((1, 1, 2)))))

    def _cin_episode(
        self,
        child: Child,
        referral: date,
        still_open_on: date | None = None,
        need: str | None = None,
        open_until: date | None = None,
    ) -> CinEpisode:
        """A referral and what followed, cut at the year end or death.

        ``still_open_on``: the case must still be open that day (cases from earlier years).
        ``open_until``: the case stays open at least until then (a child in care).
        """
        rnd = self.rnd
        cutoff = self._cutoff(child)
        forced_open = still_open_on is not None or open_until is not None
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
        closure = latest + timedelta(days=rnd.randint(7, 90))
        episode.closure_reason = _pick(rnd, CLOSURE_REASONS)
        if still_open_on is not None and closure < still_open_on:
            closure = still_open_on + timedelta(days=rnd.randint(0, 400))
        if open_until is not None and closure < open_until:
            closure = open_until + timedelta(days=rnd.randint(0, 60))
        episode.closure_date = closure
        self._cut(episode, cutoff, child)
        return episode

    def _cut(self, episode: CinEpisode, cutoff: date, child: Child) -> None:
        """Drop what happens after ``cutoff``; a death closes the case (RC2)."""

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
        died = child.died_on
        if died is not None and died <= cutoff and episode.closure_date is None:
            # A child who died has everything closed that day.
            episode.closure_date, episode.closure_reason = died, "RC2"
            for a in episode.assessments:
                a.authorised = a.authorised or died
            for p in episode.plans:
                p.end = p.end or died
            for p in episode.protection_plans:
                p.end = p.end or died

    def _unborn(self, ids: list[int]) -> list[SocialCareChild]:
        """Pre-birth referrals: unborn at the reference date (UPNunknown UN6)."""
        rnd = self.rnd
        households = self.population.households
        count = round(len(self.population.children) * UNBORN_PER_THOUSAND / 1000)
        found = []
        for n in range(count):
            household = households[rnd.randrange(len(households))]
            expected = self.last + timedelta(days=rnd.randint(7, 120))
            child = _unborn_child(household, n + 1, expected)
            referral = self.last - timedelta(days=rnd.randint(10, 150))
            episode = CinEpisode(referral, _pick(rnd, REFERRAL_SOURCES), "N1", False)
            start = referral + timedelta(days=rnd.randint(0, 7))
            episode.assessments.append(
                Assessment(start, None, tuple(sorted(rnd.sample(ASSESSMENT_FACTORS, 2))))
            )
            found.append(SocialCareChild(child, f"LA{ids[n]:06d}", True, ("NONE",), [episode]))
        return found

    # Looked after -----------------------------------------------------------------------
    def _looked_after(self, record: SocialCareChild) -> None:
        """A period of care overlapping the year, inside an open CIN case."""
        rnd = self.rnd
        child = record.child
        cutoff = self._cutoff(child)
        earliest = child.date_of_birth + timedelta(days=3)
        if rnd.random() < CARE_STARTED_IN_YEAR_SHARE or earliest >= self.first:
            start = _day_between(rnd, max(self.first, earliest), cutoff)
        else:
            start = _day_between(rnd, max(earliest, self.first - timedelta(days=1800)), self.first)
        age = age_on(child.date_of_birth, start)
        adoption = age < 5 and rnd.random() < ADOPTION_SHARE_UNDER_FIVE
        ends_in_year = rnd.random() < CARE_ENDS_IN_YEAR_SHARE
        care_end: date | None = None
        if adoption:
            care_end = start + timedelta(days=rnd.randint(400, 900))
            if care_end < self.first:  # the 903 holds only care that touches the year
                care_end = _day_between(rnd, self.first, self.last)
        elif ends_in_year:
            care_end = _day_between(rnd, max(self.first, start + timedelta(days=20)), self.last)
        if child.died_on is not None and child.died_on <= self.last:
            care_end = min(care_end or child.died_on, child.died_on)
        if care_end is not None and care_end > cutoff:
            care_end = None
        need = _pick(rnd, {"N1": 0.65, "N4": 0.1, "N5": 0.1, "N2": 0.05, "N8": 0.1})
        referral = max(child.date_of_birth, start - timedelta(days=rnd.randint(1, 400)))
        record.episodes.append(
            self._cin_episode(child, referral, need=need, open_until=care_end or self.last)
        )
        episodes = self._care_episodes(child, start, care_end, adoption)
        care = PeriodOfCare(episodes=episodes, cin_need=need)
        age_now = age_on(child.date_of_birth, self.last)
        care.uasc = (
            age_now >= 14
            and child.ethnicity != "WBRI"
            and rnd.random() < UASC_SHARE_AGED_14_NOT_WHITE_BRITISH
        )
        if adoption:
            decided = start + timedelta(days=rnd.randint(90, 200))
            matched = decided + timedelta(days=rnd.randint(60, 200))
            placed = matched + timedelta(days=rnd.randint(10, 40))
            care.adoption = Adoption(
                decided,
                matched if matched <= cutoff else None,
                placed if placed <= cutoff else None,
                rnd.random() < 0.15,
                rnd.choice((1, 2, 2, 2)),
                "",
                rnd.choice(("L0", "L11", "L12", "L2")),
            )
            care.adoption.adopter_sexes = (
                rnd.choice(("M1", "F1")) if care.adoption.adopters == 1 else "MF"
            )
        # Reviews: the first within 20 working days, then at 3 months and every 6 months.
        review = start + timedelta(days=28)
        gap = 90
        while review <= (care.end or cutoff):
            care.reviews.append((review, rnd.choice(("PN1", "PN1", "PN1", "PN2", "PN0"))))
            review += timedelta(days=gap)
            gap = 182
        if age_now >= 11 and rnd.random() < MISSING_SHARE_AGED_11:
            for _ in range(rnd.randint(1, 3)):
                gone = _day_between(rnd, max(start, self.first), care.end or cutoff)
                back = gone + timedelta(days=rnd.randint(0, 4))
                care.missing.append(
                    (rnd.choice(("M", "M", "A")), gone, back if back <= cutoff else None)
                )
            care.missing.sort(key=lambda m: m[1])
        worker_start = start
        # The reason is recorded on the episode it starts: why this social worker took over.
        reason = FIRST_SOCIAL_WORKER_REASON if start >= SOCIAL_WORKER_REASONS_FROM else ""
        for _ in range(rnd.randint(1, 3)):
            worker_end = worker_start + timedelta(days=rnd.randint(90, 700))
            ended = worker_end if worker_end <= (care.end or cutoff) else None
            care.social_workers.append(
                (f"SW{rnd.randint(1000, 9999)}", worker_start, ended, reason)
            )
            if ended is None:
                break
            reason = rnd.choice(SOCIAL_WORKER_CHANGE_REASONS)
            worker_start = worker_end + timedelta(days=1)
        if rnd.random() < 0.1:
            care.previous_permanence = rnd.choice(("P1", "P2", "P3", "P4"))
        if child.sex == "F" and age_now >= 14 and rnd.random() < MOTHER_SHARE_FEMALE_AGED_14:
            care.mother_child_born = _day_between(rnd, max(start, self.first), cutoff)
        record.care = care

    def _care_episodes(
        self, child: Child, start: date, end: date | None, adoption: bool
    ) -> list[CareEpisode]:
        rnd = self.rnd
        cutoff = self._cutoff(child)
        legal = _pick(rnd, LEGAL_STATUS_AT_START)
        episodes = [self._care_episode(start, "S", legal, _pick(rnd, self.placements))]
        day = start
        adoption_placed = False
        while True:
            day = day + timedelta(days=rnd.randint(60, 500))
            if day > (end or cutoff) or day > cutoff:
                break
            previous = episodes[-1]
            if adoption and not adoption_placed and day > start + timedelta(days=200):
                # A placement order, then a placement with the adopters.
                reason, legal, place = "U", "E1", rnd.choice(("A5", "A6"))
                adoption_placed = True
            elif previous.legal_status in {"L1", "L2", "C1"}:
                reason, legal, place = "L", "C2", previous.placement
            else:
                reason, place = "P", _pick(rnd, self.placements)
                if place == previous.placement:
                    continue
            previous.end, previous.reason_ceased = day, "X1"
            episode = self._care_episode(day, reason, legal, place)
            # DfE records why a placement changed on the episode that ended (none for a
            # temporary placement).
            if reason in {"P", "U"} and not previous.placement.startswith("T"):
                previous.reason_place_change = rnd.choice(PLACE_CHANGE_REASONS)
            episodes.append(episode)
        if end is not None:
            episodes[-1].end = end
            if child.died_on is not None and end == child.died_on:
                episodes[-1].reason_ceased = "E2"
            elif adoption and adoption_placed:
                episodes[-1].reason_ceased = rnd.choice(("E11", "E12"))
            else:
                episodes[-1].reason_ceased = _pick(rnd, CARE_ENDINGS)
        return episodes

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
        """EHC plans on the SEN2 census day and requests in the calendar year before it."""
        rnd = self.rnd
        census = sen2_census_day(self.year)
        calendar_first = date(census.year - 1, 1, 1)
        calendar_last = date(census.year - 1, 12, 31)
        autumn = CensusPeriod(self.year.start_year, "autumn").census_day
        found: list[SendChild] = []
        for child in self.population.children:
            if child.date_of_birth > census or (
                child.died_on is not None and child.died_on <= census
            ):
                continue
            age = age_on(child.date_of_birth, census)
            has_plan = child.sen_provision == "E"
            if not child.is_pupil and (
                (2 <= age < 5 and rnd.random() < EHC_UNDER_FIVE_SHARE)
                or (age >= 16 and rnd.random() < EHC_AGED_16_17_NOT_AT_SCHOOL_SHARE)
            ):
                has_plan = True
            if has_plan:
                found.append(self._with_plan(child, age, calendar_first, calendar_last, autumn))
            elif child.sen_provision == "K" and rnd.random() < EHC_REQUEST_SHARE_OF_SEN_SUPPORT:
                found.append(self._request_only(child, calendar_first, calendar_last))
        return found

    def _with_plan(
        self, child: Child, age: int, cal_first: date, cal_last: date, autumn: date
    ) -> SendChild:
        rnd = self.rnd
        # A pupil's plan is already on the census in the autumn, so it started before then.
        latest_start = autumn - timedelta(days=7) if child.is_pupil else cal_last
        earliest_start = child.date_of_birth + timedelta(days=300)
        requests = []
        if rnd.random() < EHC_NEW_PLAN_IN_YEAR_SHARE and latest_start - timedelta(days=150) > max(
            cal_first, earliest_start
        ):
            received = _day_between(
                rnd, max(cal_first, earliest_start), latest_start - timedelta(days=150)
            )
            decided = received + timedelta(days=rnd.randint(20, 42))
            in_time = rnd.random() < WEEK20_SHARE
            issued = received + timedelta(days=rnd.randint(100, 140) if in_time else 141 + 60)
            issued = min(issued, latest_start)
            requests.append(
                EhcRequest(received, "A", decided, "Y", issued, (issued - received).days <= 140)
            )
            start = issued
        else:
            start = _day_between(rnd, earliest_start, min(latest_start, cal_first))
        setting, urn, ukprn = "", "", ""
        if child.is_pupil and child.school is not None:
            urn = f"1{child.school.estab:05d}"
        elif age < 5:
            setting = EARLY_YEARS_SETTING
        else:
            setting = _pick(rnd, POST16_PLACEMENTS)
            if setting == "college":
                setting, ukprn = "", rnd.choice(COLLEGE_UKPRNS)
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
        return SendChild(child, requests, plan)

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


def _unborn_child(household: Household, number: int, expected: date) -> Child:
    """An unborn baby of an existing family: known to social care, not yet to anyone else."""
    return Child(
        index=-number,
        child_id=f"UNBORN{number:04d}",
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
