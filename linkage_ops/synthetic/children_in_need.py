"""The Children in Need census as the authority submits it: one XML file per year.

``Message`` holds a ``Header`` and one ``Child`` per child with a CIN episode open at some
point in the year, under the case-management system's ``LAchildID``. It carries no names. A
case open at the reference date is in the next year's file under the same ``LAchildID`` with
the same referral (``social_care`` carries cases over).
The file follows DfE's layout for its year, as ``linkage_ops/schemas/xsd/children_in_need_<year>
.xsd`` states it (tests validate the files against it): DfE's element order (``ReferralNFA``
after the ``Section47`` blocks), ``1``/``0`` for yes/no, no empty ``Reviews`` or wrapper
elements, and the child's sex element of the year's schema (``GenderCurrent`` 1/2/0 up to the
2023-24 return, ``Sex`` M/F/U from 2024-25). Referrals that led to no further action usually
carry no ``PrimaryNeedCode``: no assessment decided one.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np

from linkage_ops.ingest.schema import load_schema
from linkage_ops.synthetic.output import remove_csv_files
from linkage_ops.synthetic.population import LA_NUMBER, Population
from linkage_ops.synthetic.recording_errors import (
    draw_candidate_errors,
    joined_errors,
    record_person,
)
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.social_care import (
    CinEpisode,
    SocialCareChild,
    recorded_upn,
    social_care_events,
)
from linkage_ops.synthetic.truth import TruthRecord

SOURCE = "children_in_need"
# The child's sex element (whichever the year's schema has) and its code for M/F/U.
CHILD_SEX_CODES: dict[str, dict[str, str]] = {
    "Sex": {"M": "M", "F": "F", "U": "U"},
    "GenderCurrent": {"M": "1", "F": "2", "U": "0"},
}
UNBORN_SEX = "U"  # GenderCurrent 0 "not recorded or unborn"; Sex U
# Most referrals that led to no further action carry no primary need code.
NFA_WITHOUT_NEED_SHARE = 0.75
YES_NO = {True: "1", False: "0"}
SOFTWARE_CODE = "SyntheticCMS"
RELEASE = "ver 3.1.21"
SERIAL_NO = "001"
# A fixed time of export, so reruns are byte-identical.
EXPORT_TIME = "T09:00:00"
UNBORN_UPN_UNKNOWN = "UN6"
NFA_ONLY_UPN_UNKNOWN = "UN7"


def return_year(year: CollectionYear) -> int:
    """The ``Year`` of a return: the calendar year its reference date falls in (2025)."""
    return year.last_day.year


def child_sex_element(year: CollectionYear) -> tuple[str, dict[str, str]]:
    """The sex element of ``year``'s return (from the year's schema) and its codes."""
    columns = load_schema(SOURCE).for_year(return_year(year)).tables["child"].column_names
    element = next(name for name in CHILD_SEX_CODES if name in columns)
    return element, CHILD_SEX_CODES[element]


def cin_file(landing_dir: Path, year: CollectionYear) -> Path:
    """``landing/children_in_need/2024-25/CIN_2024-25.xml``."""
    return landing_dir / SOURCE / year.label / f"CIN_{year.label}.xml"


def write_children_in_need(
    population: Population,
    year: CollectionYear,
    months: list[str],
    landing_dir: Path,
    rng: np.random.Generator,
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the CIN census XML for ``year`` (``months`` is ignored: an annual return)."""
    chance = random.Random(int(rng.integers(1 << 62)))
    events = social_care_events(population, year)
    first, last = year.first_day, year.last_day
    children = sorted(cin_children(events.children, year), key=lambda c: c.la_child_id)
    candidates = draw_candidate_errors(SOURCE, len(children), rng)
    sex_element, sex_codes = child_sex_element(year)

    message = ET.Element("Message")
    _header(message, year)
    children_element = ET.SubElement(message, "Children")
    truth: list[TruthRecord] = []
    for record, wanted in zip(children, candidates, strict=True):
        child = record.child
        applied: list[str] = []
        element = ET.SubElement(children_element, "Child")
        identifiers = ET.SubElement(element, "ChildIdentifiers")
        _text(identifiers, "LAchildID", record.la_child_id)
        if record.unborn:
            _text(identifiers, "UPNunknown", UNBORN_UPN_UNKNOWN)
            _text(identifiers, "ExpectedPersonBirthDate", child.date_of_birth.isoformat())
        else:
            person, applied = record_person(child, wanted, chance, not_after=last)
            upn, unknown, upn_errors = recorded_upn(child, wanted, chance, last)
            applied += upn_errors
            if not upn and all(e.referral_nfa for e in record.episodes):
                unknown = NFA_ONLY_UPN_UNKNOWN
            _text(identifiers, "UPN", upn)
            _text(identifiers, "FormerUPN", child.former_upn)
            _text(identifiers, "UPNunknown", unknown)
            _text(identifiers, "PersonBirthDate", person.date_of_birth.isoformat())
        _text(identifiers, sex_element, sex_codes[UNBORN_SEX if record.unborn else child.sex])
        if child.died_on is not None and child.died_on <= last:
            _text(identifiers, "PersonDeathDate", child.died_on.isoformat())
        characteristics = ET.SubElement(element, "ChildCharacteristics")
        _text(characteristics, "Ethnicity", "NOBT" if record.unborn else child.ethnicity)
        disabilities = ET.SubElement(characteristics, "Disabilities")
        for code in record.disabilities:
            _text(disabilities, "Disability", code)
        for episode in record.episodes:
            if episode.referral_date <= last and (
                episode.closure_date is None or episode.closure_date >= first
            ):
                without_need = episode.referral_nfa and chance.random() < NFA_WITHOUT_NEED_SHARE
                _cin_details(element, episode, without_need)
        truth.append(
            TruthRecord(
                SOURCE, year.label, record.la_child_id, child.child_id,
                joined_errors(SOURCE, applied),
            )
        )  # fmt: skip

    ET.indent(message, space="  ")
    path = cin_file(landing_dir, year)
    remove_csv_files(path.parent, "*.xml")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(message).write(path, encoding="utf-8", xml_declaration=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    return [path], truth


def _text(parent: ET.Element, tag: str, value: str | None) -> None:
    """A child element with text; nothing for a blank value (optional items are left out)."""
    if value:
        ET.SubElement(parent, tag).text = value


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _header(message: ET.Element, year: CollectionYear) -> None:
    header = ET.SubElement(message, "Header")
    details = ET.SubElement(header, "CollectionDetails")
    _text(details, "Collection", "CIN")
    _text(details, "Year", str(return_year(year)))
    _text(details, "ReferenceDate", year.last_day.isoformat())
    source = ET.SubElement(header, "Source")
    _text(source, "SourceLevel", "L")
    _text(source, "LEA", str(LA_NUMBER))
    _text(source, "SoftwareCode", SOFTWARE_CODE)
    _text(source, "Release", RELEASE)
    _text(source, "SerialNo", SERIAL_NO)
    # Exported the month after the reference date, at a fixed synthetic time.
    _text(source, "DateTime", f"{year.last_day.year}-05-01{EXPORT_TIME}")


def _cin_details(parent: ET.Element, episode: CinEpisode, without_need: bool) -> None:
    """One ``CINdetails`` in DfE's element order: the episode's items, its assessments, plans
    and section 47 enquiries, ``ReferralNFA``, then its child protection plans."""
    details = ET.SubElement(parent, "CINdetails")
    _text(details, "CINreferralDate", episode.referral_date.isoformat())
    _text(details, "ReferralSource", episode.referral_source)
    _text(details, "PrimaryNeedCode", None if without_need else episode.primary_need)
    _text(details, "CINclosureDate", _day(episode.closure_date))
    _text(details, "ReasonForClosure", episode.closure_reason)
    _text(details, "DateOfInitialCPC", _day(episode.initial_cpc))
    for assessment in episode.assessments:
        element = ET.SubElement(details, "Assessments")
        _text(element, "AssessmentActualStartDate", assessment.start.isoformat())
        _text(element, "AssessmentInternalReviewDate", _day(assessment.authorised))
        _text(element, "AssessmentAuthorisationDate", _day(assessment.authorised))
        if assessment.factors:
            factors = ET.SubElement(element, "FactorsIdentifiedAtAssessment")
            for factor in assessment.factors:
                _text(factors, "AssessmentFactors", factor)
    for plan in episode.plans:
        element = ET.SubElement(details, "CINPlanDates")
        _text(element, "CINPlanStartDate", plan.start.isoformat())
        _text(element, "CINPlanEndDate", _day(plan.end))
    for enquiry in episode.section47s:
        element = ET.SubElement(details, "Section47")
        _text(element, "S47ActualStartDate", enquiry.start.isoformat())
        _text(element, "InitialCPCtarget", enquiry.initial_cpc_target.isoformat())
        _text(element, "DateOfInitialCPC", _day(enquiry.initial_cpc))
        _text(element, "ICPCnotRequired", YES_NO[enquiry.icpc_not_required])
    _text(details, "ReferralNFA", YES_NO[episode.referral_nfa])
    for plan in episode.protection_plans:
        element = ET.SubElement(details, "ChildProtectionPlans")
        _text(element, "CPPstartDate", plan.start.isoformat())
        _text(element, "CPPendDate", _day(plan.end))
        _text(element, "InitialCategoryOfAbuse", plan.initial_category)
        _text(element, "LatestCategoryOfAbuse", plan.latest_category)
        _text(element, "NumberOfPreviousCPP", str(plan.previous_plans))
        if plan.reviews:  # Reviews holds at least one date or is left out
            reviews = ET.SubElement(element, "Reviews")
            for review in plan.reviews:
                _text(reviews, "CPPreviewDate", review.isoformat())


def cin_children(children: list[SocialCareChild], year: CollectionYear) -> list[SocialCareChild]:
    """The children a return for ``year`` holds: a CIN episode open at some point in it."""
    return [c for c in children if c.open_between(year.first_day, year.last_day)]
