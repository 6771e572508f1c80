"""Clusters of profiles: which candidate pairs become one child.

Order: reviewers' decisions, then shared identifiers (unless the two records clearly disagree on
both date of birth and first name: then a reviewer decides), then scored candidate pairs,
strongest first. A cluster never holds two different valid NHS numbers or two different valid
UPNs: a link that would join such clusters is refused (``identifier_conflict``). Because links
are taken strongest first, the refused link is always the weakest of the chain that would have
joined two identified children (this is what keeps twins apart).

Between the review and match thresholds:

- pairs with two different valid identifiers are different children (``distinct_identifiers``);
- a record that matches, equally well, children that identifiers tell apart waits for a
  reviewer (``ambiguous``), and so does a pair born the same day with different first names
  where twins are plausible: same surname or address (``possible_twins``). The model takes
  fields as independent, but twins agree on everything else;
- obvious classes are decided by the settings' auto rules (``auto_link`` / ``auto_non_match``,
  with the rule's name in ``rule``);
- pairs whose two profiles end up in one child anyway need no reviewer (``already_linked``);
- the rest wait for a reviewer (``review``).

Links taken one at a time can chain: a record with its first name missing matches a boy on
his birthday and address and his sister on her surname and address, and the two children
become one. So a cluster joined by scored links must also hold together as a whole (average
linkage, ``split_incoherent``): its parts, held together by identifiers and reviewers, are
joined again, the most alike first, only while a record drawn from one and a record drawn from
the other are on average at least ``ThresholdSettings.min_average_probability`` likely to be
one child, where some record of one has a birth date beyond a typo from some record of the
other (``parts_conflict``). A link that ends up between two clusters is ``incoherent`` and waits
for a reviewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from linkage_ops.linkage.blocking import pairs_within_groups
from linkage_ops.linkage.comparisons import COMPARISONS, ProfileColumns, compare
from linkage_ops.linkage.settings import AutoRule, TwinSettings
from linkage_ops.linkage.standardise import factorised, first_of_each, row_numbers
from linkage_ops.linkage.thresholds import ThresholdChoice


class Clusters:
    """Union-find that refuses to join clusters holding different valid identifiers, or
    holding two profiles a reviewer said are not the same child."""

    def __init__(self, nhs: np.ndarray, upn: np.ndarray) -> None:
        """``nhs`` and ``upn``: each profile's valid identifiers as integer codes, -1 where it
        has none (``standardise.factorised``): a county's clustering compares millions."""
        self.parent = np.arange(len(nhs), dtype=np.int64)
        # A cluster holds at most one valid NHS number and one valid UPN (at its root).
        self.nhs, self.upn = np.array(nhs, dtype=np.int64), np.array(upn, dtype=np.int64)
        self.forbidden: dict[int, set[int]] = {}  # root -> profiles it must never join

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = int(self.parent[root])
        while self.parent[item] != root:
            self.parent[item], item = root, int(self.parent[item])
        return root

    def roots(self) -> np.ndarray:
        """Every item's root, by following parents as arrays until nothing changes."""
        parent = self.parent.copy()
        while True:
            grandparent = parent[parent]
            if (grandparent == parent).all():
                return parent
            parent = grandparent

    def forbid(self, left: int, right: int) -> None:
        """Never put these two in one cluster (a reviewer's non-match)."""
        self.forbidden.setdefault(self.find(left), set()).add(right)
        self.forbidden.setdefault(self.find(right), set()).add(left)

    def _forbidden_between(self, a: int, b: int) -> bool:
        return any(self.find(item) == b for item in self.forbidden.get(a, ())) or any(
            self.find(item) == a for item in self.forbidden.get(b, ())
        )

    def union(self, left: int, right: int) -> str:
        """Join two clusters. Returns ``link``, or why not: ``identifier_conflict`` or
        ``reviewed_non_match`` (and nothing changes)."""
        a, b = self.find(left), self.find(right)
        if a == b:
            return "link"
        nhs_a, nhs_b, upn_a, upn_b = self.nhs[a], self.nhs[b], self.upn[a], self.upn[b]
        if (min(nhs_a, nhs_b) >= 0 and nhs_a != nhs_b) or (
            min(upn_a, upn_b) >= 0 and upn_a != upn_b
        ):
            return "identifier_conflict"
        if self.forbidden and self._forbidden_between(a, b):
            return "reviewed_non_match"
        self.parent[b] = a
        self.nhs[a], self.upn[a] = max(nhs_a, nhs_b), max(upn_a, upn_b)
        if b in self.forbidden:
            self.forbidden.setdefault(a, set()).update(self.forbidden.pop(b))
        return "link"

    def union_all(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``union`` of each pair in turn; returns each pair's outcome.

        Pairs are joined one at a time only where their order can matter: in a group of
        clusters (joined by these pairs) that holds two different valid NHS numbers or UPNs, or
        a reviewer's non-match. Every other group is joined at once, as each of its unions would
        succeed whatever came first."""
        outcomes = np.full(len(left), "link", dtype=object)
        if not len(left):
            return outcomes
        roots = self.roots()
        nodes, ends = np.unique(np.r_[roots[left], roots[right]], return_inverse=True)
        k = len(nodes)
        graph = coo_matrix(
            (np.ones(len(left), dtype=np.int8), (ends[: len(left)], ends[len(left) :])),
            shape=(k, k),
        )
        groups, group = connected_components(graph, directed=False)
        identifiers = [values[nodes] for values in (self.nhs, self.upn)]
        in_order = np.zeros(groups, dtype=bool)
        for codes in identifiers:  # -1: none
            held = codes >= 0
            span = int(codes.max(initial=0)) + 1
            distinct = np.unique(group[held].astype(np.int64) * span + codes[held]) // span
            in_order |= np.bincount(distinct, minlength=groups) > 1
        if self.forbidden:
            forbidden = np.isin(nodes, list(self.forbidden))
            in_order |= np.bincount(group[forbidden], minlength=groups) > 0
        in_order = in_order[group]
        # Each group joined at once goes under its smallest cluster (nodes are sorted: a
        # group's first node), which takes the group's identifiers (at most one of each).
        head = nodes[first_of_each(group)][group]
        at_once = ~in_order
        self.parent[nodes[at_once]] = head[at_once]
        for values, codes in zip((self.nhs, self.upn), identifiers, strict=True):
            held = at_once & (codes >= 0)
            values[head[held]] = values[nodes[held]]
        for position in np.flatnonzero(in_order[ends[: len(left)]]).tolist():
            outcomes[position] = self.union(int(left[position]), int(right[position]))
        return outcomes


def _ambiguous_best_matches(
    scored: pd.DataFrame, clusters: Clusters, threshold: float
) -> np.ndarray:
    """Pairs above the threshold whose record matches, equally well, records of two or more
    children that identifiers tell apart: a nameless A&E record with a twin's birth date and
    address must not be given to either twin. They go to review."""
    weights = scored.match_weight.to_numpy()
    above = np.flatnonzero(weights >= threshold)
    row_l, row_r = scored.row_l.to_numpy()[above], scored.row_r.to_numpy()[above]
    profile, partner = np.r_[row_l, row_r], np.r_[row_r, row_l]
    weight = np.r_[weights[above], weights[above]]
    if not len(profile):
        return np.zeros(len(scored), dtype=bool)
    highest = np.full(int(profile.max()) + 1, -np.inf)
    np.maximum.at(highest, profile, weight)
    is_best = weight == highest[profile]
    # Only a profile with two or more best partners can be torn between them.
    several = is_best & (np.bincount(profile[is_best])[profile] > 1)
    best = pd.DataFrame({"profile": profile[several], "partner": partner[several]})
    # Torn: the best partners' clusters carry different valid NHS numbers or UPNs.
    roots = clusters.roots()[best.partner.to_numpy()]
    nhs, upn = (
        pd.Series(np.where(codes >= 0, codes, np.nan), index=best.index)
        for codes in (clusters.nhs[roots], clusters.upn[roots])
    )
    torn_profiles = (nhs.groupby(best.profile).nunique() > 1) | (
        upn.groupby(best.profile).nunique() > 1
    )
    torn_best = best[best.profile.isin(torn_profiles[torn_profiles].index)]
    span = len(highest)  # every row_l and row_r of a pair above the threshold is below it
    torn_pairs = np.minimum(torn_best.profile, torn_best.partner).to_numpy(
        dtype=np.int64
    ) * span + np.maximum(torn_best.profile, torn_best.partner).to_numpy(dtype=np.int64)
    pairs = scored.row_l.to_numpy(dtype=np.int64) * span + scored.row_r.to_numpy(dtype=np.int64)
    return (weights >= threshold) & np.isin(pairs, torn_pairs)


@dataclass
class TwinEvidence:
    """What the population says about twins (see ``TwinSettings``)."""

    attested: np.ndarray  # per profile: another record born that day there gives its name
    in_twin_household: np.ndarray  # per profile: twins seem to live at its birthday and postcode
    households: int  # households (birthday and surname, or postcode) showing two first names
    attested_households: int  # ... of which both names are attested
    one_offs_held: bool  # one-off first names are held as possible twins too

    def report(self) -> dict[str, object]:
        return {
            "households_with_two_first_names": self.households,
            "with_both_names_attested": self.attested_households,
            "one_off_names_held_as_twins": self.one_offs_held,
        }


@dataclass
class HouseholdEvidence:
    """What the households of some profiles show, before the population decides what it means
    (``twins_from``). Households never span two birthdays, so the evidence of profiles
    grouped by birthday, put together, is the population's."""

    attested: np.ndarray  # per profile: its first name is attested (``twin_evidence``)
    households: int  # households showing two first names on one birthday
    attested_households: int  # ... of which both names are attested
    two_names: np.ndarray  # per profile: its postcode household shows two first names
    two_attested_names: np.ndarray  # ... both attested
    two_identifiers: np.ndarray  # ... or two different valid NHS numbers or UPNs


def household_evidence(profiles: pd.DataFrame, columns: ProfileColumns) -> HouseholdEvidence:
    """Per profile, whether its first name is attested: two sources give the profile, or
    another profile born the same day, under its surname or at its postcode, gives (nearly)
    the same first name. A twin is a child of their own, recorded again and again under their
    own name; a first name mistyped beyond recognition or replaced by another is a one-off in
    its record. And how many households (birthday and surname, or birthday and postcode) show
    two first names, and how many of those show both attested."""
    first_name = COMPARISONS["first_name"]
    agree = [first_name.index(level) for level in ("exact", "nickname", "close")]
    attested = np.array(profiles.sources > 1, dtype=bool)  # a writable copy
    grouped = []
    for place in ("last_name_std", "postcode_std"):
        named = np.flatnonzero(
            (profiles.first_name_std != "").to_numpy()
            & (profiles.dob_text != "").to_numpy()
            & (profiles[place] != "").to_numpy()
        )
        household = row_numbers(profiles, ["dob_text", place])
        left, right = pairs_within_groups(household[named], named)
        levels = compare(columns, left, right, only=("first_name",))["first_name"]
        same_name = np.isin(levels, agree)
        attested[left[same_name]] = True
        attested[right[same_name]] = True
        grouped.append((household, left, right, levels == first_name.index("different")))

    households = attested_households = 0
    for household, left, right, different in grouped:
        both = different & attested[left] & attested[right]
        households += len(np.unique(household[left[different]]))
        attested_households += len(np.unique(household[left[both]]))
    # Households at one postcode where twins seem to live: two first names on one birthday
    # (both attested, or either), or two different valid NHS numbers or UPNs.
    household, left, right, different = grouped[1]
    both = different & attested[left] & attested[right]
    by_postcode = profiles.groupby(household)
    children = np.maximum(
        by_postcode.nhs_number_valid.transform("nunique").to_numpy(),
        by_postcode.upn_valid.transform("nunique").to_numpy(),
    )
    return HouseholdEvidence(
        attested=attested,
        households=households,
        attested_households=attested_households,
        two_names=np.isin(household, household[left[different]]),
        two_attested_names=np.isin(household, household[left[both]]),
        two_identifiers=(children > 1) & (profiles.postcode_std != "").to_numpy(),
    )


def twins_from(evidence: HouseholdEvidence, settings: TwinSettings) -> TwinEvidence:
    """What the population's households say about twins: whether one-off first names are held
    as possible twins too, and so which households twins seem to live in."""
    one_offs_held = (
        evidence.households < settings.min_households
        or evidence.attested_households >= settings.min_attested_share * evidence.households
    )
    twins = evidence.two_names if one_offs_held else evidence.two_attested_names
    return TwinEvidence(
        evidence.attested,
        twins | evidence.two_identifiers,
        evidence.households,
        evidence.attested_households,
        one_offs_held,
    )


def twin_evidence(
    profiles: pd.DataFrame, columns: ProfileColumns, settings: TwinSettings
) -> TwinEvidence:
    """Per profile, whether its first name is attested (``household_evidence``), and, per
    population, how often two first names on one birthday in one household are both
    attested: where that is common, one-off first names are held as possible twins too."""
    return twins_from(household_evidence(profiles, columns), settings)


def _auto_decisions(
    scored: pd.DataFrame, rules: tuple[AutoRule, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: the decision of the first auto rule it meets (or ``""``), the rule's name, and
    whether the rule applies above the match threshold too."""
    decision = np.full(len(scored), "", dtype=object)
    name = np.full(len(scored), "", dtype=object)
    any_weight = np.zeros(len(scored), dtype=bool)
    for rule in rules:
        meets = decision == ""
        for comparison, allowed in rule.levels:
            meets &= scored[f"{comparison}_level"].isin(allowed).to_numpy()
        decision[meets] = "auto_" + rule.decision
        name[meets] = rule.name
        any_weight[meets] = rule.any_weight
    return decision, name, any_weight


@dataclass(frozen=True)
class Coherence:
    """What ``split_incoherent`` needs: how to score pairs of profiles, the lowest mean
    weight that keeps two conflicting groups of a cluster together, and each profile's record
    count."""

    score: Callable[[np.ndarray, np.ndarray], pd.DataFrame]
    min_weight: float
    records_per_profile: np.ndarray


def cluster_profiles(
    profiles: pd.DataFrame,
    columns: ProfileColumns,
    by_identifier: pd.DataFrame,
    scored: pd.DataFrame,
    reviewed: pd.DataFrame,
    thresholds: ThresholdChoice,
    auto_rules: tuple[AutoRule, ...],
    twins: TwinEvidence,
    coherence: Coherence | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster identity profiles. ``by_identifier`` holds the scored pairs that share an
    identifier, ``scored`` the scored candidate pairs from the review threshold up. With
    ``coherence``, clusters joined by scored links are re-joined by average linkage.

    Returns each profile's cluster root and the pairs with their ``decision`` (and ``rule``
    for auto decisions).
    """
    identifiers = [factorised(profiles[column])[0] for column in ("nhs_number_valid", "upn_valid")]
    clusters = Clusters(*identifiers)
    for left, right in reviewed.loc[reviewed.decision == "non_match", ["row_l", "row_r"]].values:
        clusters.forbid(int(left), int(right))
    for left, right in reviewed.loc[reviewed.decision == "match", ["row_l", "row_r"]].values:
        clusters.union(int(left), int(right))

    conflicting = clearly_conflicting(by_identifier)
    identifier_decisions = np.full(len(by_identifier), "identifier_review", dtype=object)
    row_l, row_r = by_identifier.row_l.to_numpy(), by_identifier.row_r.to_numpy()
    outcomes = clusters.union_all(row_l[~conflicting], row_r[~conflicting])
    identifier_decisions[~conflicting] = np.where(outcomes == "link", "identifier_link", outcomes)
    # A pair through a slipped identifier keeps its rule (``engine.ONE_SLIP_RULE``).
    rule = by_identifier["rule"].to_numpy() if "rule" in by_identifier.columns else ""
    by_identifier = by_identifier.drop(columns="rule", errors="ignore").assign(
        decision=identifier_decisions, rule=rule
    )

    scored = scored.sort_values(
        ["match_weight", "row_l", "row_r"], ascending=[False, True, True]
    ).reset_index(drop=True)
    weights = scored.match_weight.to_numpy()
    # Two different valid identifiers settle a borderline pair (twins): no review needed.
    distinct_identifiers = np.zeros(len(scored), dtype=bool)
    for codes in identifiers:
        a, b = codes[scored.row_l.to_numpy()], codes[scored.row_r.to_numpy()]
        distinct_identifiers |= (a >= 0) & (b >= 0) & (a != b)
    ambiguous = _ambiguous_best_matches(scored, clusters, thresholds.match_threshold)
    # Born the same day with different first names, at one address or under one surname, is
    # how twins look: the model, which takes the fields as independent, would link them, so a
    # reviewer decides. So does a nameless record that matches on birthday and address in a
    # household where twins live.
    same_birthday = (scored.date_of_birth_level == "exact").to_numpy()
    # Twins' records with a typo in the birth date still look like twins.
    birthday_within_a_typo = scored.date_of_birth_level.isin(
        ["exact", "near", "day_month_swapped"]
    ).to_numpy()
    one_household = scored.last_name_level.isin(["exact", "part_or_former"]).to_numpy() | (
        scored.postcode_level.isin(["full", "sector"]).to_numpy()
    )
    # Twins seen in any of a child's records count: an NHS number carries the home household's
    # evidence to a nameless A&E record at the other parent's address.
    children = clusters.roots()
    twin_child = np.zeros(len(children), dtype=bool)
    twin_child[children[twins.in_twin_household]] = True
    in_twin_family = twin_child[children]
    nameless_in_twin_household = (
        same_birthday
        & (scored.first_name_level == "missing").to_numpy()
        & (scored.postcode_level == "full").to_numpy()
        & (in_twin_family[scored.row_l.to_numpy()] | in_twin_family[scored.row_r.to_numpy()])
    )
    # Twins are two children each recorded under their own name (or of different sexes). A
    # first name that is a one-off in its record is held too only where the population shows
    # twins (see ``TwinSettings``).
    twins_plausible = (
        twins.attested[scored.row_l.to_numpy()] & twins.attested[scored.row_r.to_numpy()]
    ) | (scored.sex_level == "disagree").to_numpy()
    if twins.one_offs_held:
        twins_plausible[:] = True
    possible_twins = (
        birthday_within_a_typo
        & one_household
        & (scored.first_name_level == "different").to_numpy()
        & twins_plausible
    ) | nameless_in_twin_household
    auto_decision, auto_rule, any_weight = _auto_decisions(scored, auto_rules)
    settled = distinct_identifiers | ambiguous | possible_twins
    auto_decision[settled] = ""
    above = weights >= thresholds.match_threshold
    auto = (auto_decision != "") & (~above | any_weight)
    held_back = ambiguous | possible_twins | (auto & (auto_decision == "auto_non_match"))
    decisions = np.select(
        [distinct_identifiers, ambiguous, possible_twins, auto],
        ["distinct_identifiers", "ambiguous", "possible_twins", auto_decision],
        default="review",
    ).astype(object)
    rule = np.where(auto, auto_rule, "")
    row_l, row_r = scored.row_l.to_numpy(), scored.row_r.to_numpy()
    # Above the threshold, a pair with two different identifiers is tried too, and refused
    # (``identifier_conflict``), so the pair table shows what kept the children apart.
    automatic = ~held_back & (above | (auto & (auto_decision == "auto_link")))
    outcomes = clusters.union_all(row_l[automatic], row_r[automatic])
    decisions[automatic] = np.where(
        (outcomes == "link") & auto[automatic] & ~above[automatic], "auto_link", outcomes
    )
    scored = scored.assign(decision=decisions, rule=rule)

    pairs = pd.concat([by_identifier, scored], ignore_index=True)
    roots = clusters.roots()
    if coherence is not None:
        hard = np.r_[
            by_identifier.loc[
                by_identifier.decision == "identifier_link", ["row_l", "row_r"]
            ].to_numpy(dtype=np.int64),
            reviewed.loc[reviewed.decision == "match", ["row_l", "row_r"]].to_numpy(dtype=np.int64),
        ]
        roots = split_incoherent(
            roots, hard, coherence.records_per_profile, coherence.score, coherence.min_weight
        )
        linked = pairs.decision.isin(["link", "auto_link"]).to_numpy()
        apart = roots[pairs.row_l.to_numpy()] != roots[pairs.row_r.to_numpy()]
        pairs.loc[linked & apart, "decision"] = "incoherent"
    # A borderline pair whose profiles ended up in one child anyway needs no reviewer; nor does
    # one whose children hold different valid identifiers (a match could never join them).
    waiting = pairs.decision.isin(
        ["review", "possible_twins", "ambiguous", "incoherent", "auto_non_match"]
    ).to_numpy()
    root_l, root_r = roots[pairs.row_l.to_numpy()], roots[pairs.row_r.to_numpy()]
    pairs.loc[waiting & (root_l == root_r), "decision"] = "already_linked"
    held_apart = np.zeros(len(pairs), dtype=bool)
    for held in (clusters.nhs, clusters.upn):
        a, b = held[root_l], held[root_r]
        held_apart |= (a >= 0) & (b >= 0) & (a != b)
    waiting = waiting & (pairs.decision != "auto_non_match").to_numpy()
    pairs.loc[waiting & (root_l != root_r) & held_apart, "decision"] = "distinct_identifiers"
    if len(reviewed):  # (a million pairs' decisions, rewritten for none, cost a second)
        decided = reviewed.set_index(["row_l", "row_r"]).decision
        keys = pd.MultiIndex.from_arrays([pairs.row_l, pairs.row_r])
        reviewer = decided.reindex(keys).to_numpy()
        hit = np.flatnonzero(pd.notna(reviewer))
        pairs.loc[hit, "decision"] = [f"reviewed_{decision}" for decision in reviewer[hit]]
    return roots, pairs


# Profiles of one part of a cluster (held together by identifiers or reviewers) compared with
# another part's: the part's profiles with the most records, at most this many.
_REPRESENTATIVES = 3


def clearly_conflicting(pairs: pd.DataFrame) -> np.ndarray:
    """Per scored pair: both records have a date of birth and a first name, and neither agrees
    (a birth year alone is not agreement). A blank field is no evidence either way."""
    return (
        pairs.date_of_birth_level.isin(["different", "year_only", "year_month"]).to_numpy()
        & (pairs.first_name_level == "different").to_numpy()
    )


def parts_conflict(pairs: pd.DataFrame) -> np.ndarray:
    """Per scored pair: both records have a date of birth and they disagree beyond a typo (a
    different date, or only the year, or year and month, agreeing). A blank field is no
    evidence either way; namesakes born years apart are two children."""
    return pairs.date_of_birth_level.isin(["different", "year_only", "year_month"]).to_numpy()


def split_incoherent(
    roots: np.ndarray,
    hard_links: np.ndarray,
    records_per_profile: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], pd.DataFrame],
    min_weight: float,
) -> np.ndarray:
    """Clusters re-joined by average linkage (see the module docstring): each profile's new
    cluster root.

    ``hard_links`` are the profile pairs that stay together whatever their weight (shared
    identifiers, reviewers' matches); the profiles they join are a cluster's parts. Parts are
    compared through their representatives (the profiles with the most records, at most
    ``_REPRESENTATIVES`` each), scored by ``score(left, right)`` (a frame with each pair's
    levels and ``match_weight``, prior included). Inside each cluster, the two groups with the
    highest mean weight across them are joined first, while they may be: their mean weight
    reaches ``min_weight``, or no record of one conflicts with a record of the other
    (``parts_conflict``: birth dates that disagree beyond a typo). A record that only lacks
    evidence (a nameless record at another address) is no reason to split a child; namesakes
    born years apart, chained by a record without a birth date, are."""
    n = len(roots)
    parts = Clusters(np.full(n, -1), np.full(n, -1))
    parts.union_all(hard_links[:, 0], hard_links[:, 1])
    part = parts.roots()
    # Clusters of more than one part.
    frame = pd.DataFrame({"profile": np.arange(n), "root": roots, "part": part})
    parts_per_cluster = frame.groupby("root").part.transform("nunique").to_numpy()
    frame = frame[parts_per_cluster > 1]
    if frame.empty:
        return roots
    frame = frame.assign(records=records_per_profile[frame.profile.to_numpy()])
    frame = frame.sort_values(["part", "records", "profile"], ascending=[True, False, True])
    chosen = frame[frame.groupby("part").cumcount() < _REPRESENTATIVES]
    left, right = pairs_within_groups(chosen.root.to_numpy(), chosen.profile.to_numpy())
    cross = part[left] != part[right]
    left, right = left[cross], right[cross]
    scored = score(left, right)
    between = pd.DataFrame(
        {
            "root": roots[left],
            "a": np.minimum(part[left], part[right]),
            "b": np.maximum(part[left], part[right]),
            "weight": scored.match_weight.to_numpy(),
            "conflict": parts_conflict(scored),
        }
    )
    totals = between.groupby(["root", "a", "b"]).agg(
        sum=("weight", "sum"), count=("weight", "size"), conflict=("conflict", "any")
    )
    # Only a cluster with two parts that may not be joined directly is agglomerated: where
    # every two parts may be, groups of them may be too (a mean of means at or above the bar).
    refused = totals.conflict & ((totals["sum"] / totals["count"]) < min_weight)
    doubtful = refused.groupby(level="root").any()
    totals = totals[doubtful.reindex(totals.index.get_level_values("root")).to_numpy()]
    if totals.empty:
        return roots
    new_roots = roots.copy()
    # Each doubtful part's profiles (only those: grouping every part's would cost seconds).
    index = totals.index
    wanted = np.unique(np.r_[index.get_level_values("a"), index.get_level_values("b")])
    chosen = frame[frame.part.isin(wanted)].sort_values("part")
    starts = np.flatnonzero(np.r_[True, chosen.part.to_numpy()[1:] != chosen.part.to_numpy()[:-1]])
    members = dict(
        zip(
            chosen.part.to_numpy()[starts],
            np.split(chosen.profile.to_numpy(), starts[1:]),
            strict=True,
        )
    )
    for _, cluster_totals in totals.groupby(level="root", sort=True):
        groups = _average_linkage(cluster_totals.droplevel("root"), min_weight)
        if len(groups) == 1:
            continue
        # Each group is labelled by one of its own profiles: labels stay unique.
        for group_parts in groups:
            profiles = np.concatenate([members[p] for p in group_parts])
            new_roots[profiles] = profiles.min()
    return new_roots


def _average_linkage(totals: pd.DataFrame, min_weight: float) -> list[list[int]]:
    """Groups of parts: starting from each part alone, join the two groups with the highest
    mean weight across them (``totals``: ``sum`` and ``count`` of weights and whether any pair
    ``conflict``s, per pair of parts) while they may be joined: the mean reaches
    ``min_weight`` or nothing across them conflicts. Ties go to the smaller part numbers."""
    ids = sorted(set(totals.index.get_level_values(0)) | set(totals.index.get_level_values(1)))
    position = {part: i for i, part in enumerate(ids)}
    k = len(ids)
    sums, counts = np.zeros((k, k)), np.zeros((k, k))
    conflict = np.zeros((k, k), dtype=bool)
    a = np.array([position[p] for p in totals.index.get_level_values(0)])
    b = np.array([position[p] for p in totals.index.get_level_values(1)])
    sums[a, b] = sums[b, a] = totals["sum"].to_numpy()
    counts[a, b] = counts[b, a] = totals["count"].to_numpy()
    conflict[a, b] = conflict[b, a] = totals.conflict.to_numpy(dtype=bool)
    groups = {i: [ids[i]] for i in range(k)}
    alive = np.ones(k, dtype=bool)
    while alive.sum() > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, sums / counts, -np.inf)
        allowed = (mean >= min_weight) | ~conflict
        allowed &= alive[:, None] & alive[None, :] & (counts > 0)
        np.fill_diagonal(allowed, False)
        if not allowed.any():
            break
        best = int(np.argmax(np.where(allowed, mean, -np.inf)))  # first: smallest positions
        i, j = sorted(divmod(best, k))
        for matrix in (sums, counts, conflict):
            matrix[i, :] += matrix[j, :]
            matrix[:, i] += matrix[:, j]
            matrix[i, i] = 0
        alive[j] = False
        groups[i] += groups.pop(j)
    return list(groups.values())
