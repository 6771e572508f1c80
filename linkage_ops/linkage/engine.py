"""First-cut linkage: exact identifiers, then a weighted name/DOB/postcode rule.

1. Records sharing a valid NHS number, a valid UPN (current or former) or an LA child id (the
   social care case-management id) are the same child.
2. Candidate pairs from several blocking rules (so one wrong field does not hide a match) are
   scored field by field as arrays (rapidfuzz ``cpdist``), each field's agreement level adding
   a weight; pairs at or above the threshold are linked, strongest first.
3. Clusters never hold two different valid NHS numbers or two different valid UPNs: a link
   that would break that rule is refused (this keeps twins apart).

The weights are data (``MatchRules``) so that every link can be explained field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from linkage_ops.linkage.keys import KeyState, assign_person_keys
from linkage_ops.linkage.standardise import standardise_records

BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("dob_text",),
    ("last_name_std", "birth_year"),
    ("postcode_std", "birth_year"),
    ("first_name_canonical", "last_name_std"),
)


@dataclass(frozen=True)
class MatchRules:
    """Agreement levels and their weights; the threshold a pair's total must reach."""

    threshold: float = 8.0
    # Pairs from here up to the threshold go to clerical review instead of being decided.
    review_threshold: float = 6.0
    first_name: dict[str, float] = field(
        default_factory=lambda: {
            "exact": 4.0,
            "close": 2.5,
            "similar": 0.5,
            "different": -6.0,
            "missing": 0.0,
        }
    )
    last_name: dict[str, float] = field(
        default_factory=lambda: {
            "exact": 4.0,
            "close": 2.5,
            "similar": 0.5,
            "different": -2.0,
            "missing": 0.0,
        }
    )
    date_of_birth: dict[str, float] = field(
        default_factory=lambda: {
            "exact": 5.0,
            "day_month_swapped": 3.0,
            "near": 2.0,
            "different": -5.0,
        }
    )
    postcode: dict[str, float] = field(
        default_factory=lambda: {
            "full": 3.0,
            "sector": 1.0,
            "district": 0.3,
            "different": -0.5,
            "missing": 0.0,
        }
    )
    sex: dict[str, float] = field(
        default_factory=lambda: {"agree": 0.3, "disagree": -2.0, "missing": 0.0}
    )
    close_similarity: float = 0.92
    similar_similarity: float = 0.82
    exact_similarity: float = 0.97


@dataclass
class LinkageResult:
    """The bridge (one row per record), the scored candidate pairs that explain it, the key
    registry and what changed in it this run."""

    bridge: pd.DataFrame
    pairs: pd.DataFrame
    review_queue: pd.DataFrame
    registry: pd.DataFrame
    history: pd.DataFrame

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
        self.nhs = [{value} if isinstance(value, str) else set() for value in nhs]
        self.upn = [{value} if isinstance(value, str) else set() for value in upn]
        self.members = [{item} for item in range(len(nhs))]
        self.forbidden: list[set[int]] = [set() for _ in range(len(nhs))]

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def forbid(self, left: int, right: int) -> None:
        """Never put these two in one cluster (a reviewer's non-match)."""
        self.forbidden[self.find(left)].add(right)
        self.forbidden[self.find(right)].add(left)

    def union(self, left: int, right: int) -> str:
        """Join two clusters. Returns ``link``, or why not: ``identifier_conflict`` or
        ``reviewed_non_match`` (and nothing changes)."""
        a, b = self.find(left), self.find(right)
        if a == b:
            return "link"
        if len(self.nhs[a] | self.nhs[b]) > 1 or len(self.upn[a] | self.upn[b]) > 1:
            return "identifier_conflict"
        if self.members[b] & self.forbidden[a]:
            return "reviewed_non_match"
        self.parent[b] = a
        self.nhs[a] |= self.nhs[b]
        self.upn[a] |= self.upn[b]
        self.members[a] |= self.members[b]
        self.forbidden[a] |= self.forbidden[b]
        return "link"


def candidate_pairs(records: pd.DataFrame) -> pd.DataFrame:
    """Index pairs (left < right) that share a blocking key under any rule."""
    frames = []
    indexed = records.reset_index(names="row")
    for rule in BLOCKING_RULES:
        keyed = indexed[["row", *rule]]
        for column in rule:
            keyed = keyed[(keyed[column] != "") & (keyed[column] != 0)]
        joined = keyed.merge(keyed, on=list(rule), suffixes=("_l", "_r"))
        frames.append(joined.loc[joined.row_l < joined.row_r, ["row_l", "row_r"]])
    # A day/month swap puts the same child in different DOB blocks: join the swapped date too.
    swapped = indexed.loc[indexed.dob_swapped_text != "", ["row", "dob_swapped_text"]]
    plain = indexed.loc[indexed.dob_text != "", ["row", "dob_text"]]
    joined = swapped.merge(plain, left_on="dob_swapped_text", right_on="dob_text")
    joined = joined[joined.row_x != joined.row_y]
    frames.append(
        pd.DataFrame(
            {
                "row_l": np.minimum(joined.row_x, joined.row_y),
                "row_r": np.maximum(joined.row_x, joined.row_y),
            }
        )
    )
    pairs = pd.concat(frames, ignore_index=True).drop_duplicates()
    return pairs.sort_values(["row_l", "row_r"]).reset_index(drop=True)


def _similarity(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Jaro-Winkler similarity of aligned string arrays; 0 where either side is blank."""
    scores = cpdist(
        left.tolist(), right.tolist(), scorer=JaroWinkler.normalized_similarity, workers=-1
    )
    blank = (left.to_numpy() == "") | (right.to_numpy() == "")
    return np.where(blank, 0.0, scores)


def _differing_characters(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Positions at which two aligned arrays of 8-character dates differ (8 if either is blank)."""
    a = np.frombuffer(left.to_numpy(dtype="S8").tobytes(), dtype=np.uint8).reshape(-1, 8)
    b = np.frombuffer(right.to_numpy(dtype="S8").tobytes(), dtype=np.uint8).reshape(-1, 8)
    differing = (a != b).sum(axis=1)
    blank = (left.to_numpy() == "") | (right.to_numpy() == "")
    return np.where(blank, 8, differing)


def _name_level(similarity: np.ndarray, missing: np.ndarray, rules: MatchRules) -> np.ndarray:
    """Agreement level of a name; ``missing`` where either record has no name (many health
    feeds carry none): no evidence either way."""
    return np.select(
        [
            missing,
            similarity >= rules.exact_similarity,
            similarity >= rules.close_similarity,
            similarity >= rules.similar_similarity,
        ],
        ["missing", "exact", "close", "similar"],
        default="different",
    )


def score_pairs(records: pd.DataFrame, pairs: pd.DataFrame, rules: MatchRules) -> pd.DataFrame:
    """Compare every candidate pair field by field; add levels, weights and the total."""
    left = records.iloc[pairs.row_l.to_numpy()].reset_index(drop=True)
    right = records.iloc[pairs.row_r.to_numpy()].reset_index(drop=True)
    scored = pairs.copy()
    scored["record_id_l"] = left.record_id.to_numpy()
    scored["record_id_r"] = right.record_id.to_numpy()

    first = np.maximum(
        _similarity(left.first_name_std, right.first_name_std),
        _similarity(left.first_name_canonical, right.first_name_canonical),
    )
    scored["first_name_level"] = _name_level(
        first,
        (left.first_name_std == "").to_numpy() | (right.first_name_std == "").to_numpy(),
        rules,
    )

    # Double-barrelled and changed surnames: agreeing on any part, or with a former surname,
    # counts as agreement.
    last = np.maximum.reduce(
        [
            _similarity(left.last_name_std, right.last_name_std),
            _similarity(left.last_name_std.str.split(" ").str[0], right.last_name_std),
            _similarity(left.last_name_std.str.split(" ").str[-1], right.last_name_std),
            _similarity(left.last_name_std, right.last_name_std.str.split(" ").str[0]),
            _similarity(left.last_name_std, right.last_name_std.str.split(" ").str[-1]),
            _similarity(left.former_last_name_std, right.last_name_std),
            _similarity(left.last_name_std, right.former_last_name_std),
        ]
    )
    scored["last_name_level"] = _name_level(
        last, (left.last_name_std == "").to_numpy() | (right.last_name_std == "").to_numpy(), rules
    )

    same_dob = (left.dob_text == right.dob_text) & (left.dob_text != "")
    swapped_dob = (left.dob_swapped_text == right.dob_text) & (left.dob_swapped_text != "")
    days_apart = (left.dob - right.dob).abs().dt.days
    one_digit_off = _differing_characters(left.dob_text, right.dob_text) == 1
    scored["date_of_birth_level"] = np.select(
        [same_dob, swapped_dob, (days_apart <= 1) | one_digit_off],
        ["exact", "day_month_swapped", "near"],
        default="different",
    )

    either_blank = (left.postcode_std == "") | (right.postcode_std == "")
    scored["postcode_level"] = np.select(
        [
            either_blank,
            left.postcode_std == right.postcode_std,
            left.postcode_sector == right.postcode_sector,
            left.postcode_district == right.postcode_district,
        ],
        ["missing", "full", "sector", "district"],
        default="different",
    )

    sex_missing = (left.sex == "U") | (right.sex == "U")
    scored["sex_level"] = np.select(
        [sex_missing, left.sex == right.sex], ["missing", "agree"], default="disagree"
    )

    total = np.zeros(len(scored))
    for comparison in ("first_name", "last_name", "date_of_birth", "postcode", "sex"):
        weights = getattr(rules, comparison)
        weight = scored[f"{comparison}_level"].map(weights).astype(float)
        scored[f"{comparison}_weight"] = weight
        total += weight.to_numpy()
    scored["match_weight"] = total
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


def identifier_pairs(profiles: pd.DataFrame) -> pd.DataFrame:
    """Pairs of profiles that share a valid NHS number, UPN (current or former) or LA child
    id: each member of a group paired with the group's first profile."""
    frames = []
    for column in ("nhs_number_valid", "upn_valid", "la_child_id_std"):
        for rows in profiles.groupby(column, dropna=True).indices.values():
            if len(rows) > 1:
                frames.append(pd.DataFrame({"row_l": rows[0], "row_r": rows[1:]}))
    former = profiles.dropna(subset=["former_upn_valid"]).reset_index(names="row_former")
    current = profiles.dropna(subset=["upn_valid"]).reset_index(names="row_current")
    joined = former.merge(current, left_on="former_upn_valid", right_on="upn_valid")
    frames.append(
        pd.DataFrame(
            {
                "row_l": np.minimum(joined.row_former, joined.row_current),
                "row_r": np.maximum(joined.row_former, joined.row_current),
            }
        )
    )
    pairs = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"row_l": [], "row_r": []})
    )
    pairs = pairs[pairs.row_l != pairs.row_r].astype("int64")
    return pairs.drop_duplicates().sort_values(["row_l", "row_r"]).reset_index(drop=True)


def _ambiguous_best_matches(
    scored: pd.DataFrame, clusters: _Clusters, rules: MatchRules
) -> np.ndarray:
    """Pairs above the threshold whose record matches, equally well, records of two or more
    children that identifiers tell apart: a nameless A&E record with a twin's birth date and
    address must not be given to either twin. They go to review."""
    above = scored[scored.match_weight >= rules.threshold]
    if above.empty:
        return np.zeros(len(scored), dtype=bool)
    both_ways = pd.concat(
        [
            pd.DataFrame(
                {"profile": above.row_l, "partner": above.row_r, "weight": above.match_weight}
            ),
            pd.DataFrame(
                {"profile": above.row_r, "partner": above.row_l, "weight": above.match_weight}
            ),
        ]
    )
    best = both_ways[both_ways.weight == both_ways.groupby("profile").weight.transform("max")]
    # Torn: the best partners carry different valid NHS numbers or UPNs (different children).
    torn_profiles = set()
    for profile, partners in best.groupby("profile").partner:
        roots = {clusters.find(int(partner)) for partner in partners}
        nhs = set().union(*(clusters.nhs[root] for root in roots))
        upn = set().union(*(clusters.upn[root] for root in roots))
        if len(nhs) > 1 or len(upn) > 1:
            torn_profiles.add(profile)
    torn_best = best[best.profile.isin(torn_profiles)]
    torn_pairs = pd.MultiIndex.from_arrays(
        [
            np.minimum(torn_best.profile, torn_best.partner),
            np.maximum(torn_best.profile, torn_best.partner),
        ]
    )
    return pd.MultiIndex.from_arrays([scored.row_l, scored.row_r]).isin(torn_pairs)


def _cluster_profiles(
    profiles: pd.DataFrame, rules: MatchRules, reviewed: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster identity profiles. Returns each profile's cluster root and every compared pair
    with its decision.

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

    by_identifier = score_pairs(profiles, identifier_pairs(profiles), rules)
    # "Clearly conflicting": both records have a date of birth and a first name, and neither
    # agrees. A blank field is no evidence either way.
    left = profiles.iloc[by_identifier.row_l.to_numpy()]
    right = profiles.iloc[by_identifier.row_r.to_numpy()]
    both_known = (
        (left.dob_text.to_numpy() != "")
        & (right.dob_text.to_numpy() != "")
        & (left.first_name_std.to_numpy() != "")
        & (right.first_name_std.to_numpy() != "")
    )
    conflicting = (
        both_known
        & (by_identifier.date_of_birth_level == "different").to_numpy()
        & (by_identifier.first_name_level == "different").to_numpy()
    )
    identifier_decisions = np.full(len(by_identifier), "identifier_review", dtype=object)
    for position in np.flatnonzero(~conflicting):
        outcome = clusters.union(
            int(by_identifier.row_l.iat[position]), int(by_identifier.row_r.iat[position])
        )
        identifier_decisions[position] = "identifier_link" if outcome == "link" else outcome
    by_identifier["decision"] = identifier_decisions

    scored = score_pairs(profiles, candidate_pairs(profiles), rules)
    already = by_identifier.set_index(["row_l", "row_r"]).index
    scored = scored[~scored.set_index(["row_l", "row_r"]).index.isin(already)]
    scored = scored.sort_values(
        ["match_weight", "record_id_l", "record_id_r"], ascending=[False, True, True]
    ).reset_index(drop=True)
    weights = scored.match_weight.to_numpy()
    # Two different valid identifiers settle a borderline pair (twins): no review needed.
    left = profiles.iloc[scored.row_l.to_numpy()]
    right = profiles.iloc[scored.row_r.to_numpy()]
    distinct_identifiers = np.zeros(len(scored), dtype=bool)
    for column in ("nhs_number_valid", "upn_valid"):
        a, b = left[column].to_numpy(), right[column].to_numpy()
        distinct_identifiers |= pd.notna(a) & pd.notna(b) & (a != b)
    ambiguous = _ambiguous_best_matches(scored, clusters, rules)
    decisions = np.select(
        [distinct_identifiers, ambiguous, weights >= rules.review_threshold],
        ["distinct_identifiers", "ambiguous", "review"],
        default="below_threshold",
    ).astype(object)
    for position in np.flatnonzero((weights >= rules.threshold) & ~ambiguous):
        decisions[position] = clusters.union(
            int(scored.row_l.iat[position]), int(scored.row_r.iat[position])
        )
    scored["decision"] = decisions

    pairs = pd.concat([by_identifier, scored], ignore_index=True)
    decided = reviewed.set_index(["row_l", "row_r"]).decision
    keys = pd.MultiIndex.from_arrays([pairs.row_l, pairs.row_r])
    reviewer = decided.reindex(keys).to_numpy()
    pairs["decision"] = np.where(
        pd.isna(reviewer), pairs.decision, "reviewed_" + pd.Series(reviewer).astype(str)
    )
    roots = np.array([clusters.find(row) for row in range(len(profiles))], dtype=np.int64)
    return roots, pairs


LINKED_DECISIONS = ("link", "identifier_link", "reviewed_match")
REVIEW_DECISIONS = ("review", "identifier_review", "ambiguous")
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


def link_records(
    records: pd.DataFrame,
    rules: MatchRules | None = None,
    state: KeyState | None = None,
    run_id: str = "run",
    decisions: pd.DataFrame | None = None,
) -> LinkageResult:
    """Link person records (see ``PERSON_RECORD_COLUMNS``) into one person_key per child.

    ``state`` holds the keys of the previous run (see ``keys.py``): clusters keep them.
    ``decisions`` holds reviewers' decisions (``record_id_l``, ``record_id_r``, ``decision``:
    ``match`` or ``non_match``; a later row overrides an earlier one): every run honours them.
    The pair table compares profiles; each pair names the first record of each profile.
    """
    rules = rules or MatchRules()
    std = standardise_records(records)
    std["profile"] = std.groupby(PROFILE_COLUMNS, dropna=False, sort=False).ngroup()
    profiles = std.drop_duplicates("profile").sort_values("profile").reset_index(drop=True)
    roots, pairs = _cluster_profiles(profiles, rules, _reviewed_profiles(std, decisions))
    std["cluster"] = roots[std.profile.to_numpy()]
    keys = assign_person_keys(std[["record_id", "cluster"]], state, run_id)
    std["person_key"] = keys.cluster_keys.reindex(std.cluster.to_numpy()).to_numpy()

    cluster_size = std.groupby("cluster").record_id.transform("size")
    shares_nhs = std.nhs_number_valid.notna() & (
        std.groupby(["cluster", "nhs_number_valid"]).record_id.transform("size") > 1
    ).reindex(std.index, fill_value=False)
    shares_upn = std.upn_valid.notna() & (
        std.groupby(["cluster", "upn_valid"]).record_id.transform("size") > 1
    ).reindex(std.index, fill_value=False)
    shares_la_child_id = std.la_child_id_std.notna() & (
        std.groupby(["cluster", "la_child_id_std"]).record_id.transform("size") > 1
    ).reindex(std.index, fill_value=False)
    std["match_method"] = np.select(
        [shares_nhs, shares_upn, shares_la_child_id, cluster_size > 1],
        ["nhs_number", "upn", "la_child_id", "probabilistic"],
        default="singleton",
    )
    linked_pairs = pairs[pairs.decision.isin(LINKED_DECISIONS)]
    best_weight = (
        pd.concat(
            [
                pd.DataFrame({"row": linked_pairs.row_l, "weight": linked_pairs.match_weight}),
                pd.DataFrame({"row": linked_pairs.row_r, "weight": linked_pairs.match_weight}),
            ]
        )
        .groupby("row")
        .weight.max()
    )
    std["match_weight"] = std.profile.map(best_weight)

    bridge = std[
        ["source", "source_record_id", "record_id", "person_key", "match_method", "match_weight"]
    ].copy()
    return LinkageResult(
        bridge=bridge,
        pairs=pairs.drop(columns=["row_l", "row_r"]),
        review_queue=review_queue(profiles, pairs),
        registry=keys.registry,
        history=keys.history,
    )
