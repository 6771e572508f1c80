"""Linkage: exact identifiers, then a Fellegi-Sunter model, then clusters that respect
identifiers.

1. Records that agree on every identity field are one *profile* (a monthly feed repeats a
   child's details every month); everything below compares profiles.
2. Profiles sharing a valid NHS number, a valid UPN (current or former) or an LA child id (the
   social care case-management id) are the same child, unless both date of birth and first name
   clearly disagree: then a reviewer decides.
3. Candidate pairs come from several blocking rules (so that one wrong field does not hide a
   match), are compared level by level as arrays (``comparisons.py``) and weighted by a
   Fellegi-Sunter model trained on the same profiles without labels (``model.py``).
4. Pairs at or above the threshold are linked, strongest first. A cluster never holds two
   different valid NHS numbers or two different valid UPNs: a link that would join such
   clusters is refused and recorded as ``identifier_conflict``. Because links are taken
   strongest first, the refused link is always the weakest of the chain that would have joined
   two identified children (this is what keeps twins apart). A record that matches, equally
   well, children that identifiers tell apart goes to review (``ambiguous``), and so does a
   pair born the same day with different first names (``possible_twins``): the model takes
   fields as independent, but twins agree on everything else.
5. Pairs between the review threshold and the threshold wait for a reviewer; reviewers'
   decisions are applied first on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage_ops.linkage.comparisons import (
    COMPARISONS,
    TERM_FREQUENCY_COMPARISONS,
    ProfileColumns,
    compare,
    level_names,
)
from linkage_ops.linkage.keys import KeyState, assign_person_keys
from linkage_ops.linkage.model import (
    FellegiSunterModel,
    TrainingSettings,
    block_pairs,
    default_model,
    match_weights,
    pairs_within_groups,
    term_frequencies,
    train_model,
)
from linkage_ops.linkage.standardise import PERSON_RECORD_COLUMNS, standardise_records

# Candidate pairs agree on every column of at least one rule, so that one wrong field does not
# hide a match. Each rule is as narrow as the evidence allows: date of birth is never a block on
# its own (at county scale one birthday holds hundreds of profiles), and a pair agreeing only on
# birthday and postcode district could never reach the review threshold anyway.
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("dob_text", "first_name_canonical"),
    ("dob_text", "last_name_std"),
    ("dob_text", "postcode_sector"),
    ("last_name_std", "postcode_sector", "birth_year"),
    ("postcode_std", "birth_year"),
    ("first_name_canonical", "last_name_std"),
)


@dataclass(frozen=True)
class MatchRules:
    """Thresholds on the match weight (log2 odds that a pair is one child: 0 is even odds,
    8 is 256 to 1, a probability of 0.996) and how the model is trained."""

    threshold: float = 8.0
    # Pairs from here (4 to 1, probability 0.8) up to the threshold go to clerical review.
    review_threshold: float = 2.0
    training: TrainingSettings = field(default_factory=TrainingSettings)
    # Pairs are compared this many at a time, to bound memory at county scale.
    chunk_pairs: int = 2_000_000


@dataclass
class LinkageResult:
    """The bridge (one row per record), the scored pairs that explain it, the review queue, the
    key registry and what changed in it this run, and the model that weighed the pairs."""

    bridge: pd.DataFrame
    pairs: pd.DataFrame
    review_queue: pd.DataFrame
    registry: pd.DataFrame
    history: pd.DataFrame
    model: FellegiSunterModel
    # For reporting: where the model came from; profiles, candidate pairs compared, pairs kept.
    summary: dict[str, object] = field(default_factory=dict)

    def key_state(self) -> KeyState:
        """The state the next run starts from."""
        return KeyState(
            record_keys=self.bridge[["record_id", "person_key"]], registry=self.registry
        )


class _Clusters:
    """Union-find that refuses to join clusters holding different valid identifiers, or
    holding two profiles a reviewer said are not the same child."""

    def __init__(self, nhs: list[str | None], upn: list[str | None]) -> None:
        self.parent = list(range(len(nhs)))
        # A cluster holds at most one valid NHS number and one valid UPN.
        self.nhs = [value if isinstance(value, str) else None for value in nhs]
        self.upn = [value if isinstance(value, str) else None for value in upn]
        self.forbidden: dict[int, set[int]] = {}  # root -> profiles it must never join

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def roots(self) -> np.ndarray:
        """Every item's root, by following parents as arrays until nothing changes."""
        parent = np.array(self.parent, dtype=np.int64)
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
        if (nhs_a and nhs_b and nhs_a != nhs_b) or (upn_a and upn_b and upn_a != upn_b):
            return "identifier_conflict"
        if self.forbidden and self._forbidden_between(a, b):
            return "reviewed_non_match"
        self.parent[b] = a
        self.nhs[a], self.upn[a] = nhs_a or nhs_b, upn_a or upn_b
        if b in self.forbidden:
            self.forbidden.setdefault(a, set()).update(self.forbidden.pop(b))
        return "link"


def _unique_pairs(
    lefts: list[np.ndarray], rights: list[np.ndarray], n: int, sort: bool = True
) -> np.ndarray:
    """Distinct (left, right) pairs as an array of shape (pairs, 2); sorted unless ``sort`` is
    false (hashing millions of candidate pairs is much faster than sorting them)."""
    if not lefts:
        return np.zeros((0, 2), dtype=np.int64)
    keys = pd.unique(np.concatenate(lefts) * n + np.concatenate(rights))
    if sort:
        keys = np.sort(keys)
    return np.stack([keys // n, keys % n], axis=1)


def candidate_pairs(columns: ProfileColumns) -> np.ndarray:
    """Profile row pairs (left < right) that agree on every column of a blocking rule, as an
    array of shape (pairs, 2)."""
    lefts, rights = [], []
    for rule in BLOCKING_RULES:
        left, right, _ = block_pairs(columns, rule)
        lefts.append(left)
        rights.append(right)
    # A day/month swap puts the same child under another birthday: join the swapped date to
    # the plain one within the postcode sector.
    sector = columns.codes("postcode_sector")
    plain = np.flatnonzero((columns.dob_day >= 0) & (sector >= 0))
    swapped = np.flatnonzero((columns.dob_swapped_day >= 0) & (sector >= 0))
    joined = pd.DataFrame(
        {"row_s": swapped, "day": columns.dob_swapped_day[swapped], "sector": sector[swapped]}
    ).merge(pd.DataFrame({"row": plain, "day": columns.dob_day[plain], "sector": sector[plain]}))
    joined = joined[joined.row != joined.row_s]
    lefts.append(np.minimum(joined.row, joined.row_s).to_numpy(dtype=np.int64))
    rights.append(np.maximum(joined.row, joined.row_s).to_numpy(dtype=np.int64))
    return _unique_pairs(lefts, rights, len(columns.dob_day), sort=False)


def _profile_frequencies(profiles: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per comparison with a term-frequency adjustment, the frequency of each profile's value."""
    columns = {"first_name": "first_name_std", "last_name": "last_name_std"}
    return {
        name: profiles[columns[name]]
        .map(term_frequencies(profiles[columns[name]]))
        .fillna(0.0)
        .to_numpy(dtype=float)
        for name in TERM_FREQUENCY_COMPARISONS
    }


def score_pairs(
    profiles: pd.DataFrame,
    pairs: np.ndarray,
    model: FellegiSunterModel,
    columns: ProfileColumns | None = None,
    min_weight: float | None = None,
    chunk_pairs: int = 2_000_000,
    term_frequency: bool = True,
) -> pd.DataFrame:
    """Compare pairs of profile rows level by level and weigh them with the model.

    Returns one row per pair (only those whose match weight reaches ``min_weight``, if given):
    ``row_l``, ``row_r``, the first record id of each profile, each comparison's level and
    weight, the prior weight, the total ``match_weight`` (prior + fields) and
    ``match_probability``. Pairs are compared ``chunk_pairs`` at a time. With
    ``term_frequency``, an exact name agreement is weighted by how common the name is.
    """
    columns = columns or ProfileColumns.from_profiles(profiles)
    frequencies = _profile_frequencies(profiles) if term_frequency else {}
    prior_weight = np.float32(model.prior_weight)
    kept: list[dict[str, np.ndarray]] = []
    for start in range(0, len(pairs), chunk_pairs):
        left = pairs[start : start + chunk_pairs, 0]
        right = pairs[start : start + chunk_pairs, 1]
        levels = compare(columns, left, right)
        weights = match_weights(
            model, levels, {name: values[left] for name, values in frequencies.items()}
        )
        total = prior_weight + np.sum(list(weights.values()), axis=0, dtype=np.float32)
        keep = total >= min_weight if min_weight is not None else np.ones(len(left), bool)
        chunk = {"row_l": left[keep], "row_r": right[keep], "match_weight": total[keep]}
        for name in COMPARISONS:
            chunk[f"{name}_level"] = levels[name][keep]
            chunk[f"{name}_weight"] = weights[name][keep]
        kept.append(chunk)
    if not kept:
        kept.append(
            {"row_l": np.zeros(0, np.int64), "row_r": np.zeros(0, np.int64)}
            | {"match_weight": np.zeros(0, np.float32)}
            | {f"{name}_level": np.zeros(0, np.int8) for name in COMPARISONS}
            | {f"{name}_weight": np.zeros(0, np.float32) for name in COMPARISONS}
        )
    merged = {key: np.concatenate([chunk[key] for chunk in kept]) for key in kept[0]}
    record_ids = profiles.record_id.to_numpy(dtype=object)
    scored = pd.DataFrame(
        {
            "row_l": merged["row_l"],
            "row_r": merged["row_r"],
            # Plain object columns: converting millions of ids to Arrow strings costs seconds.
            "record_id_l": pd.Series(record_ids[merged["row_l"]], dtype=object),
            "record_id_r": pd.Series(record_ids[merged["row_r"]], dtype=object),
        }
    )
    for name in COMPARISONS:
        scored[f"{name}_level"] = level_names(name, merged[f"{name}_level"])
        scored[f"{name}_weight"] = merged[f"{name}_weight"].astype(float)
    scored["prior_weight"] = float(prior_weight)
    scored["match_weight"] = merged["match_weight"].astype(float)
    scored["match_probability"] = 1 / (1 + np.exp2(-scored.match_weight.to_numpy()))
    return scored


# Records that agree on every one of these are one identity "profile": a monthly feed repeats
# the same child's details every month, so linking profiles instead of records keeps the number
# of candidate pairs proportional to distinct identities, not to deliveries.
PROFILE_COLUMNS = [
    "first_name_std",
    "last_name_std",
    "former_last_name_std",
    "dob_text",
    "postcode_std",
    "sex",
    "nhs_number_valid",
    "upn_valid",
    "former_upn_valid",
    "la_child_id_std",
]


def identifier_pairs(profiles: pd.DataFrame) -> np.ndarray:
    """Pairs of profiles that share a valid NHS number, UPN (current or former) or LA child
    id: each member of a group paired with the group's first profile. Shape (pairs, 2)."""
    lefts, rights = [], []
    for column in ("nhs_number_valid", "upn_valid", "la_child_id_std"):
        values = profiles[column]
        rows = np.flatnonzero(values.notna().to_numpy())
        codes, _ = pd.factorize(values.iloc[rows])
        first = pd.Series(rows).groupby(codes).transform("min").to_numpy()
        shared = first != rows
        lefts.append(first[shared].astype(np.int64))
        rights.append(rows[shared].astype(np.int64))
    former = profiles.dropna(subset=["former_upn_valid"]).reset_index(names="row_former")
    current = profiles.dropna(subset=["upn_valid"]).reset_index(names="row_current")
    joined = former.merge(current, left_on="former_upn_valid", right_on="upn_valid")
    joined = joined[joined.row_former != joined.row_current]
    lefts.append(np.minimum(joined.row_former, joined.row_current).to_numpy(dtype=np.int64))
    rights.append(np.maximum(joined.row_former, joined.row_current).to_numpy(dtype=np.int64))
    return _unique_pairs(lefts, rights, len(profiles))


def _ambiguous_best_matches(
    scored: pd.DataFrame, clusters: _Clusters, rules: MatchRules
) -> np.ndarray:
    """Pairs above the threshold whose record matches, equally well, records of two or more
    children that identifiers tell apart: a nameless A&E record with a twin's birth date and
    address must not be given to either twin. They go to review."""
    above = scored[scored.match_weight >= rules.threshold]
    if above.empty:
        return np.zeros(len(scored), dtype=bool)
    both_ways = pd.DataFrame(
        {
            "profile": np.r_[above.row_l, above.row_r],
            "partner": np.r_[above.row_r, above.row_l],
            "weight": np.r_[above.match_weight, above.match_weight],
        }
    )
    best = both_ways[both_ways.weight == both_ways.groupby("profile").weight.transform("max")]
    # Torn: the best partners' clusters carry different valid NHS numbers or UPNs.
    roots = clusters.roots()[best.partner.to_numpy()]
    nhs = pd.Series([clusters.nhs[root] for root in roots], index=best.index)
    upn = pd.Series([clusters.upn[root] for root in roots], index=best.index)
    torn_profiles = (nhs.groupby(best.profile).nunique() > 1) | (
        upn.groupby(best.profile).nunique() > 1
    )
    torn_best = best[best.profile.isin(torn_profiles[torn_profiles].index)]
    torn_pairs = pd.MultiIndex.from_arrays(
        [
            np.minimum(torn_best.profile, torn_best.partner),
            np.maximum(torn_best.profile, torn_best.partner),
        ]
    )
    return pd.MultiIndex.from_arrays([scored.row_l, scored.row_r]).isin(torn_pairs)


def _in_twin_household(profiles: pd.DataFrame, columns: ProfileColumns) -> np.ndarray:
    """Per profile: two children born the same day seem to live at its postcode. Profiles
    sharing its birthday and postcode carry two different valid NHS numbers or UPNs, or two
    first names that are not variants of each other."""
    key = ["dob_text", "postcode_std"]
    grouped = profiles.groupby(key)
    children = np.maximum(
        grouped.nhs_number_valid.transform("nunique").to_numpy(),
        grouped.upn_valid.transform("nunique").to_numpy(),
    )
    twins = children > 1
    household = grouped.ngroup().to_numpy()
    named = np.flatnonzero(
        (profiles.first_name_std != "").to_numpy()
        & (profiles.dob_text != "").to_numpy()
        & (profiles.postcode_std != "").to_numpy()
    )
    left, right = pairs_within_groups(household[named], named)
    if len(left):
        first_names = compare(columns, left, right)["first_name"]
        different = first_names == COMPARISONS["first_name"].index("different")
        twins |= np.isin(household, household[left[different]]) & (household >= 0)
    return twins


def _cluster_profiles(
    profiles: pd.DataFrame,
    model: FellegiSunterModel,
    rules: MatchRules,
    reviewed: pd.DataFrame,
    columns: ProfileColumns,
    term_frequency: bool = True,
) -> tuple[np.ndarray, pd.DataFrame, int]:
    """Cluster identity profiles. Returns each profile's cluster root, the pairs worth keeping
    (identifier pairs and scored pairs from the review threshold up) with their decisions, and
    how many candidate pairs were compared.

    Order: reviewers' decisions, then shared identifiers (unless the two records clearly
    disagree on both date of birth and first name: then a reviewer decides), then scored
    candidate pairs, strongest first; pairs between the review and match thresholds wait for
    a reviewer.
    """
    clusters = _Clusters(profiles.nhs_number_valid.tolist(), profiles.upn_valid.tolist())
    for left, right in reviewed.loc[reviewed.decision == "non_match", ["row_l", "row_r"]].values:
        clusters.forbid(int(left), int(right))
    for left, right in reviewed.loc[reviewed.decision == "match", ["row_l", "row_r"]].values:
        clusters.union(int(left), int(right))

    score = {
        "model": model,
        "columns": columns,
        "chunk_pairs": rules.chunk_pairs,
        "term_frequency": term_frequency,
    }
    by_identifier = score_pairs(profiles, identifier_pairs(profiles), **score)
    # "Clearly conflicting": both records have a date of birth and a first name, and neither
    # agrees (a birth year alone is not agreement). A blank field is no evidence either way.
    conflicting = (
        by_identifier.date_of_birth_level.isin(["different", "year_only"]).to_numpy()
        & (by_identifier.first_name_level == "different").to_numpy()
    )
    identifier_decisions = np.full(len(by_identifier), "identifier_review", dtype=object)
    row_l, row_r = by_identifier.row_l.to_numpy(), by_identifier.row_r.to_numpy()
    for position in np.flatnonzero(~conflicting):
        outcome = clusters.union(int(row_l[position]), int(row_r[position]))
        identifier_decisions[position] = "identifier_link" if outcome == "link" else outcome
    by_identifier["decision"] = identifier_decisions

    candidates = candidate_pairs(columns)
    already = (
        pd.Index(by_identifier.row_l * len(profiles) + by_identifier.row_r).get_indexer(
            candidates[:, 0] * len(profiles) + candidates[:, 1]
        )
        >= 0
    )
    scored = score_pairs(profiles, candidates[~already], min_weight=rules.review_threshold, **score)
    scored = scored.sort_values(
        ["match_weight", "row_l", "row_r"], ascending=[False, True, True]
    ).reset_index(drop=True)
    weights = scored.match_weight.to_numpy()
    # Two different valid identifiers settle a borderline pair (twins): no review needed.
    distinct_identifiers = np.zeros(len(scored), dtype=bool)
    for column in ("nhs_number_valid", "upn_valid"):
        values = profiles[column].to_numpy(dtype=object)
        a, b = values[scored.row_l.to_numpy()], values[scored.row_r.to_numpy()]
        distinct_identifiers |= pd.notna(a) & pd.notna(b) & (a != b)
    ambiguous = _ambiguous_best_matches(scored, clusters, rules)
    # Born the same day with different first names is how twins look: the model, which takes
    # the fields as independent, would link them, so a reviewer decides. So does a nameless
    # record that matches on birthday and address in a household where twins live.
    same_birthday = (scored.date_of_birth_level == "exact").to_numpy()
    nameless_in_twin_household = (
        same_birthday
        & (scored.first_name_level == "missing").to_numpy()
        & (scored.postcode_level == "full").to_numpy()
        & _in_twin_household(profiles, columns)[scored.row_l.to_numpy()]
    )
    possible_twins = (
        same_birthday & (scored.first_name_level == "different").to_numpy()
    ) | nameless_in_twin_household
    decisions = np.select(
        [distinct_identifiers, ambiguous, possible_twins],
        ["distinct_identifiers", "ambiguous", "possible_twins"],
        default="review",
    ).astype(object)
    row_l, row_r = scored.row_l.to_numpy(), scored.row_r.to_numpy()
    automatic = (weights >= rules.threshold) & ~ambiguous & ~possible_twins
    for position in np.flatnonzero(automatic):
        decisions[position] = clusters.union(int(row_l[position]), int(row_r[position]))
    scored["decision"] = decisions

    pairs = pd.concat([by_identifier, scored], ignore_index=True)
    decided = reviewed.set_index(["row_l", "row_r"]).decision
    keys = pd.MultiIndex.from_arrays([pairs.row_l, pairs.row_r])
    reviewer = decided.reindex(keys).to_numpy()
    pairs["decision"] = np.where(
        pd.isna(reviewer), pairs.decision, "reviewed_" + pd.Series(reviewer).astype(str)
    )
    return clusters.roots(), pairs, len(candidates)


LINKED_DECISIONS = ("link", "identifier_link", "reviewed_match")
REVIEW_DECISIONS = ("review", "identifier_review", "ambiguous", "possible_twins")
REVIEW_FIELDS = [
    "source",
    "first_name",
    "middle_names",
    "last_name",
    "date_of_birth",
    "sex",
    "postcode",
    "nhs_number",
    "upn",
    "la_child_id",
]


def _reviewed_profiles(std: pd.DataFrame, decisions: pd.DataFrame | None) -> pd.DataFrame:
    """Reviewers' decisions as pairs of profile rows (smaller first), latest decision kept."""
    empty = pd.DataFrame({"row_l": [], "row_r": [], "decision": []}).astype(
        {"row_l": "int64", "row_r": "int64"}
    )
    if decisions is None or decisions.empty:
        return empty
    profile_of = std.set_index("record_id").profile
    left = decisions.record_id_l.map(profile_of)
    right = decisions.record_id_r.map(profile_of)
    known = left.notna() & right.notna() & (left != right)
    if not known.any():
        return empty
    reviewed = pd.DataFrame(
        {
            "row_l": np.minimum(left[known], right[known]).astype("int64"),
            "row_r": np.maximum(left[known], right[known]).astype("int64"),
            "decision": decisions.decision[known].to_numpy(),
        }
    )
    unknown = set(reviewed.decision) - {"match", "non_match"}
    if unknown:
        raise ValueError(f"review decisions must be match or non_match, not {sorted(unknown)}")
    return reviewed.drop_duplicates(["row_l", "row_r"], keep="last").reset_index(drop=True)


def review_queue(profiles: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs waiting for a reviewer: both records side by side with each field's weight."""
    waiting = pairs[pairs.decision.isin(REVIEW_DECISIONS)].reset_index(drop=True)
    left = profiles.iloc[waiting.row_l.to_numpy()][REVIEW_FIELDS].reset_index(drop=True)
    right = profiles.iloc[waiting.row_r.to_numpy()][REVIEW_FIELDS].reset_index(drop=True)
    weights = [column for column in waiting.columns if column.endswith(("_level", "_weight"))]
    return pd.concat(
        [
            waiting[["record_id_l", "record_id_r", "decision"]],
            left.add_suffix("_l"),
            right.add_suffix("_r"),
            waiting[weights],
        ],
        axis=1,
    ).astype({"date_of_birth_l": "string", "date_of_birth_r": "string"})


def _profiles_of(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Standardise each distinct set of identity fields once, then group the standardised
    rows into profiles. Returns the records with their standardised identifiers and profile
    number, and one row per profile (its first record's fields)."""
    frame = records.reset_index(drop=True)  # copy-on-write: the caller's frame is untouched
    for column in PERSON_RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    identity = [c for c in PERSON_RECORD_COLUMNS if c not in ("record_id", "source_record_id")]
    identity.remove("source")
    distinct_of = frame.groupby(identity, dropna=False, sort=False).ngroup().to_numpy()
    first_rows = pd.Series(np.arange(len(frame))).groupby(distinct_of).min().to_numpy()
    distinct = standardise_records(frame.iloc[first_rows])
    distinct["profile"] = distinct.groupby(PROFILE_COLUMNS, dropna=False, sort=False).ngroup()
    std = frame[["record_id", "source", "source_record_id"]].copy()
    carried = ["profile", "nhs_number_valid", "upn_valid", "la_child_id_std"]
    for column in carried:
        std[column] = distinct[column].to_numpy()[distinct_of]
    # Profiles are numbered in order of first appearance, so each one's first distinct row and
    # first record come in profile order.
    _, first_distinct = np.unique(distinct.profile.to_numpy(), return_index=True)
    profiles = distinct.iloc[first_distinct].reset_index(drop=True)
    # A profile is shown (review queue, pair table) through its first record.
    _, first_record = np.unique(std.profile.to_numpy(), return_index=True)
    profiles["record_id"] = std.record_id.to_numpy()[first_record]
    profiles["source"] = std.source.to_numpy()[first_record]
    return std, profiles


def link_records(
    records: pd.DataFrame,
    rules: MatchRules | None = None,
    state: KeyState | None = None,
    run_id: str = "run",
    decisions: pd.DataFrame | None = None,
    model: FellegiSunterModel | None = None,
) -> LinkageResult:
    """Link person records (see ``PERSON_RECORD_COLUMNS``) into one person_key per child.

    ``state`` holds the keys of the previous run (see ``keys.py``): clusters keep them.
    ``decisions`` holds reviewers' decisions (``record_id_l``, ``record_id_r``, ``decision``:
    ``match`` or ``non_match``; a later row overrides an earlier one): every run honours them.
    ``model`` is a trained model to reuse; without one, a model is trained on these records
    (or, if they are too few to train on, the shipped default model is used).
    The pair table compares profiles; each pair names the first record of each profile.
    """
    rules = rules or MatchRules()
    std, profiles = _profiles_of(records)
    columns = ProfileColumns.from_profiles(profiles)
    enough_to_train = len(profiles) >= rules.training.min_profiles
    if model is not None:
        origin = "given"
    elif enough_to_train:
        model, origin = train_model(profiles, columns, rules.training), "trained"
    else:
        model, origin = default_model(), "default"
    model = model.for_population(len(profiles))
    # Name frequencies from a handful of records say nothing about how common a name is.
    roots, pairs, compared = _cluster_profiles(
        profiles, model, rules, _reviewed_profiles(std, decisions), columns, enough_to_train
    )
    std["cluster"] = roots[std.profile.to_numpy()]
    keys = assign_person_keys(std[["record_id", "cluster"]], state, run_id)
    std["person_key"] = keys.cluster_keys.reindex(std.cluster.to_numpy()).to_numpy()

    cluster_size = std.groupby("cluster").record_id.transform("size")

    def shares(column: str) -> pd.Series:
        """The record's identifier is held by another record of its cluster."""
        held_by = std.groupby(["cluster", column]).record_id.transform("size")
        return std[column].notna() & (held_by.reindex(std.index, fill_value=0) > 1)

    std["match_method"] = np.select(
        [
            shares("nhs_number_valid"),
            shares("upn_valid"),
            shares("la_child_id_std"),
            cluster_size > 1,
        ],
        ["nhs_number", "upn", "la_child_id", "probabilistic"],
        default="singleton",
    )
    linked = pairs[pairs.decision.isin(LINKED_DECISIONS)]
    best_probability = (
        pd.concat(
            [
                pd.DataFrame({"row": linked.row_l, "probability": linked.match_probability}),
                pd.DataFrame({"row": linked.row_r, "probability": linked.match_probability}),
            ]
        )
        .groupby("row")
        .probability.max()
    )
    # Linked on a shared identifier: certain. Linked by the model: its best link's probability.
    std["match_probability"] = np.select(
        [
            std.match_method.isin(["nhs_number", "upn", "la_child_id"]),
            std.match_method == "probabilistic",
        ],
        [1.0, std.profile.map(best_probability).astype(float)],
        default=np.nan,
    )
    bridge = std[
        [
            "source",
            "source_record_id",
            "record_id",
            "person_key",
            "match_method",
            "match_probability",
        ]
    ].copy()
    return LinkageResult(
        bridge=bridge,
        pairs=pairs.drop(columns=["row_l", "row_r"]),
        review_queue=review_queue(profiles, pairs),
        registry=keys.registry,
        history=keys.history,
        model=model,
        summary={
            "model": origin,
            "records": len(std),
            "profiles": len(profiles),
            "candidate_pairs": compared,
            "pairs_kept": len(pairs),
        },
    )
