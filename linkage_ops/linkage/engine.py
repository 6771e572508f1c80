"""Linkage, in five steps: profile, block, score, cluster, key.

1. **Profile.** Records that agree on every identity field are one profile (a monthly feed
   repeats a child's details every month); everything below compares profiles.
2. **Block** (``blocking.py``). Candidate pairs come from many blocking rules, chosen for this
   data within a pair budget, so that several wrong fields at once do not hide a match.
3. **Score** (``comparisons.py``, ``model.py``). Pairs are compared level by level as arrays
   and weighed by a Fellegi-Sunter model trained on the same profiles without labels. The
   match and review thresholds come from the model's expected precision and recall
   (``thresholds.py``).
4. **Cluster** (``clustering.py``). Shared valid identifiers link first, then scored pairs,
   strongest first, never joining two different valid NHS numbers or UPNs; twins, ambiguous
   and borderline pairs wait for a reviewer; reviewers' decisions are applied first.
5. **Key** (``keys.py``). Clusters keep the person keys their records had last run.

Every setting is in one object, ``settings.LinkageSettings``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linkage_ops.identifiers import one_slip_identifiers
from linkage_ops.linkage.beside import run_beside
from linkage_ops.linkage.blocking import BlockingKeys, candidate_pairs, unique_pairs
from linkage_ops.linkage.clustering import (
    Coherence,
    TwinEvidence,
    cluster_profiles,
    twin_evidence,
)
from linkage_ops.linkage.comparisons import (
    COMPARISONS,
    TERM_FREQUENCY_COMPARISONS,
    ProfileColumns,
    compare,
    level_names,
)
from linkage_ops.linkage.keys import KeyState, assign_person_keys, carried_forward
from linkage_ops.linkage.model import (
    FellegiSunterModel,
    default_model,
    match_weights,
    term_frequencies,
    train_model,
)
from linkage_ops.linkage.settings import DEFAULT_SETTINGS, LinkageSettings
from linkage_ops.linkage.standardise import (
    PERSON_RECORD_COLUMNS,
    first_of_each,
    row_numbers,
    standardise_records,
    unreadable_birth_dates,
)
from linkage_ops.linkage.thresholds import (
    ThresholdChoice,
    choose_thresholds,
    weight_of_probability,
)


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
    # Records of earlier runs absent from this one, with the key each last had: a record that
    # comes back reclaims it (``keys.carried_forward``).
    absent_record_keys: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"record_id": [], "person_key": []}, dtype="string")
    )
    # For reporting: where the model came from; profiles, candidate pairs compared, pairs kept,
    # the blocking rules used, the thresholds and how they were chosen, decisions by kind.
    summary: dict[str, object] = field(default_factory=dict)

    def key_state(self) -> KeyState:
        """The state the next run starts from."""
        return KeyState(
            record_keys=pd.concat(
                [self.bridge[["record_id", "person_key"]], self.absent_record_keys],
                ignore_index=True,
            ),
            registry=self.registry,
        )


# The profile column each term-frequency adjusted comparison counts values of.
TERM_FREQUENCY_COLUMNS = {"first_name": "first_name_std", "last_name": "last_name_std"}


def _profile_frequencies(profiles: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per comparison with a term-frequency adjustment, the frequency of each profile's value."""
    columns = TERM_FREQUENCY_COLUMNS
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
    frequencies: dict[str, np.ndarray] | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """Compare pairs of profile rows level by level and weigh them with the model.

    Returns one row per pair (only those whose match weight reaches ``min_weight``, if given):
    ``row_l``, ``row_r``, the first record id of each profile, each comparison's level and
    weight, the prior weight, the total ``match_weight`` (prior + fields) and
    ``match_probability``. Pairs are compared ``chunk_pairs`` at a time. With
    ``term_frequency``, an exact name agreement is weighted by how common the name is: among
    ``profiles``, or as ``frequencies`` gives it per profile (``profiles`` is then part of a
    population, as on Spark). With ``threads``, that many chunks are scored at once (each
    at most ``chunk_pairs``; the same result).
    """
    columns = columns or ProfileColumns.from_profiles(profiles)
    if not term_frequency:
        frequencies = {}
    elif frequencies is None:
        frequencies = _profile_frequencies(profiles)
    prior_weight = np.float32(model.prior_weight)

    def scored_chunk(chunk_pairs: np.ndarray) -> dict[str, np.ndarray]:
        left, right = chunk_pairs[:, 0], chunk_pairs[:, 1]
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
        return chunk

    # A multiple of the threads in chunks of equal size, none over ``chunk_pairs``.
    threads = max(threads, 1)
    needed = max(-(-len(pairs) // max(chunk_pairs, 1)), 1)
    size = max(-(-len(pairs) // (-(-needed // threads) * threads)), 1)
    chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
    if len(chunks) > 1 and threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            kept = list(pool.map(scored_chunk, chunks))
    else:
        kept = [scored_chunk(chunk) for chunk in chunks]
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


# A record's identity fields: records that agree on all of them are standardised once.
IDENTITY_COLUMNS = [
    column
    for column in PERSON_RECORD_COLUMNS
    if column not in ("record_id", "source", "source_record_id")
]
# Records that agree on every one of these are one identity "profile": a monthly feed repeats
# the same child's details every month, so linking profiles instead of records keeps the number
# of candidate pairs proportional to distinct identities, not to deliveries.
PROFILE_COLUMNS = [
    "first_name_std",
    "middle_names_std",
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
        first = rows[first_of_each(codes)][codes]  # rows ascend: a value's first is its least
        shared = first != rows
        lefts.append(first[shared].astype(np.int64))
        rights.append(rows[shared].astype(np.int64))

    def held(column: str) -> pd.DataFrame:
        rows = np.flatnonzero(profiles[column].notna().to_numpy())
        return pd.DataFrame(
            {"row": rows, "upn": profiles[column].iloc[rows].to_numpy(dtype=object)}
        )

    joined = held("former_upn_valid").merge(
        held("upn_valid"), on="upn", suffixes=("_former", "_current")
    )
    joined = joined[joined.row_former != joined.row_current]
    lefts.append(np.minimum(joined.row_former, joined.row_current).to_numpy(dtype=np.int64))
    rights.append(np.maximum(joined.row_former, joined.row_current).to_numpy(dtype=np.int64))
    return unique_pairs(lefts, rights, len(profiles))


# Identifiers whose check catches a typing slip, each with the column of valid ones.
SLIPPED_IDENTIFIERS = (("nhs_number", "nhs_number_valid"), ("upn", "upn_valid"))
# A slipped identifier links a pair only where the birth dates agree too (within a slip of
# their own) and the names are not both different: a population dense in identifiers holds
# some other child's one slip away.
SLIP_BIRTH_DATE_LEVELS = ("exact", "day_month_swapped", "near")
# The rule recorded on a pair linked through a slipped identifier.
ONE_SLIP_RULE = "identifier_one_slip"


def one_slip_pairs(profiles: pd.DataFrame) -> np.ndarray:
    """Pairs joining a profile whose NHS number or UPN fails its check to the first profile
    holding the valid identifier one typing slip from it (``identifiers.one_slip_identifiers``)
    where this population holds exactly one such identifier (two would leave which was meant
    unknown). Shape (pairs, 2), smaller row first."""
    lefts, rights = [], []
    for raw, valid in SLIPPED_IDENTIFIERS:
        failing = np.flatnonzero((profiles[raw].notna() & profiles[valid].isna()).to_numpy())
        if not len(failing):
            continue
        slips = one_slip_identifiers(profiles[raw].iloc[failing].reset_index(drop=True), raw)
        # The first profile holding each slip identifier (of a county's 400,000 valid NHS
        # numbers, only the few thousand that are some failing value's slips are looked at).
        holding = profiles[valid].reset_index(drop=True)
        holding = holding[holding.isin(set(slips.identifier))]
        holder = pd.Series(holding.index.to_numpy()).groupby(holding.to_numpy()).min()
        slips["holder"] = slips.identifier.map(holder)
        slips = slips.dropna(subset=["holder"])
        one = slips.groupby("position").identifier.transform("nunique") == 1
        slips = slips[one].drop_duplicates("position")
        rows = failing[slips.position.to_numpy()]
        holders = slips.holder.to_numpy(dtype=np.int64)
        lefts.append(np.minimum(rows, holders))
        rights.append(np.maximum(rows, holders))
    return unique_pairs(lefts, rights, len(profiles))


def slip_stands(
    first_name: Any,
    last_name: Any,
    date_of_birth: Any,
    level: Callable[[str, str], object] = lambda comparison, name: name,
) -> Any:
    """Whether pairs through a slipped identifier link, from their levels: the birth dates
    agree and the names are not both different. Works on pandas Series of level names, or on
    Spark columns of level codes (``level`` gives a level as they hold it)."""
    strangers = (first_name == level("first_name", "different")) & (
        last_name == level("last_name", "different")
    )
    dates = [level("date_of_birth", name) for name in SLIP_BIRTH_DATE_LEVELS]
    return date_of_birth.isin(dates) & ~strangers


def with_slipped_identifiers(by_identifier: pd.DataFrame, slipped: pd.DataFrame) -> pd.DataFrame:
    """The scored identifier pairs and the scored pairs through a slipped identifier
    (``one_slip_pairs``) that stand (``slip_stands``), marked by ``rule``; in row order, a
    pair sharing an identifier too kept once."""
    slipped = slipped[
        slip_stands(slipped.first_name_level, slipped.last_name_level, slipped.date_of_birth_level)
    ]
    both = pd.concat(
        [by_identifier.assign(rule=""), slipped.assign(rule=ONE_SLIP_RULE)], ignore_index=True
    )
    both = both.drop_duplicates(["row_l", "row_r"]).sort_values(["row_l", "row_r"])
    return both.reset_index(drop=True)


LINKED_DECISIONS = ("link", "identifier_link", "auto_link", "reviewed_match")
REVIEW_DECISIONS = ("review", "identifier_review", "ambiguous", "possible_twins", "incoherent")
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


def reviewed_profiles(decisions: pd.DataFrame | None, profile_of: pd.Series) -> pd.DataFrame:
    """Reviewers' decisions as pairs of profile rows (smaller first), latest decision kept.
    ``profile_of`` gives the profile of (at least) every record decided on."""
    empty = pd.DataFrame({"row_l": [], "row_r": [], "decision": []}).astype(
        {"row_l": "int64", "row_r": "int64"}
    )
    if decisions is None or decisions.empty:
        return empty
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


# What a reviewer's decision on a pair would change, most consequential first.
IMPACTS = {
    "unlinked_first": "a record that must not stay unlinked (a death) matches no other record",
    "split_key": "a non-match splits a child's key (the records share an identifier)",
    "merge_keys": "a match merges two existing children (one key retires)",
    "join_records": "a match joins records to a child (no existing key retires)",
}


def prioritise_review(
    pairs: pd.DataFrame,
    profile_keys: np.ndarray,
    profile_records: np.ndarray,
    existing: set,
    unlinked_first: np.ndarray | None = None,
    records_of_key: pd.Series | None = None,
) -> pd.DataFrame:
    """The pairs waiting for a reviewer, most consequential first, with ``impact`` (see
    ``IMPACTS``), ``records_affected`` and ``priority`` (1 = first).

    First the pairs of a record that must not stay unlinked (``unlinked_first``: profile rows,
    e.g. a death that linked to nobody), then key-changing pairs (a non-match that would split
    a key, a match that would merge two keys issued in earlier runs), then by how many records
    the decision moves, then the pairs the model is least sure of (probability nearest one
    half). ``records_of_key``, each key's records, is counted from the two arrays unless
    given (they then need only hold the rows of waiting pairs)."""
    waiting = pairs[pairs.decision.isin(REVIEW_DECISIONS)].copy()
    key_l = profile_keys[waiting.row_l.to_numpy()]
    key_r = profile_keys[waiting.row_r.to_numpy()]
    if records_of_key is None:
        records_of_key = pd.Series(profile_records).groupby(profile_keys).sum()
    same = key_l == key_r
    both_existing = pd.Series(key_l).isin(existing).to_numpy() & (
        pd.Series(key_r).isin(existing).to_numpy()
    )
    first = np.zeros(len(waiting), dtype=bool)
    if unlinked_first is not None and len(unlinked_first):
        first = (
            waiting.row_l.isin(unlinked_first).to_numpy()
            | waiting.row_r.isin(unlinked_first).to_numpy()
        )
    waiting["impact"] = np.select(
        [first, same, both_existing],
        ["unlinked_first", "split_key", "merge_keys"],
        default="join_records",
    )
    waiting["records_affected"] = np.where(
        same,
        np.minimum(
            profile_records[waiting.row_l.to_numpy()], profile_records[waiting.row_r.to_numpy()]
        ),
        np.minimum(
            records_of_key.reindex(key_l).to_numpy(), records_of_key.reindex(key_r).to_numpy()
        ),
    ).astype("int64")
    waiting["impact_rank"] = waiting.impact.map({name: i for i, name in enumerate(IMPACTS)})
    waiting["uncertainty"] = (waiting.match_probability - 0.5).abs()
    waiting = waiting.sort_values(
        ["impact_rank", "records_affected", "uncertainty", "record_id_l", "record_id_r"],
        ascending=[True, False, True, True, True],
        kind="stable",
    )
    waiting["priority"] = np.arange(1, len(waiting) + 1)
    return waiting.drop(columns=["impact_rank", "uncertainty"])


def lonely_profiles(std: pd.DataFrame, roots: np.ndarray, sources: tuple[str, ...]) -> np.ndarray:
    """The profiles of children all of whose records come from ``sources`` (a death that links
    to no other source's record)."""
    if not sources:
        return np.zeros(0, dtype=np.int64)
    cluster = roots[std.profile.to_numpy()]
    only_those = pd.Series(std.source.isin(sources).to_numpy()).groupby(cluster).all()
    lonely_clusters = only_those.index[only_those.to_numpy()]
    return np.unique(std.profile.to_numpy()[np.isin(cluster, lonely_clusters)])


def review_unlinked_first(
    pairs: pd.DataFrame,
    lonely: np.ndarray,
    candidates_of: Callable[[np.ndarray], pd.DataFrame],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Records of a child that must not stay unlinked unseen (``lonely_profiles``): each one's
    likeliest candidate pair waits for a reviewer (scored again if it fell below the review
    threshold: ``candidates_of(profiles)`` scores every candidate pair of those profiles),
    unless a reviewer has already decided it. Returns the pairs and the lonely profiles."""
    if not len(lonely):
        return pairs, lonely
    own = pairs.row_l.isin(lonely) | pairs.row_r.isin(lonely)
    reviewed = own & pairs.decision.str.startswith("reviewed_")
    settled = set(pairs.row_l[reviewed]) | set(pairs.row_r[reviewed])
    waiting = lonely[~np.isin(lonely, list(settled))]
    # Each profile's best pair, from those kept or, failing them, from all its candidates.
    kept = pairs[own & ~reviewed]
    known = pd.MultiIndex.from_frame(kept[["row_l", "row_r"]])
    rescored = candidates_of(waiting)
    rescored = rescored[~pd.MultiIndex.from_frame(rescored[["row_l", "row_r"]]).isin(known)].assign(
        decision="below_review_threshold", rule=""
    )
    options = pd.concat([kept.assign(origin="kept"), rescored.assign(origin="new")])
    best = []
    for column in ("row_l", "row_r"):
        mine = options[options[column].isin(waiting)]
        # Ties in weight go to the smaller rows: the same pair whatever order pairs came in.
        mine = mine.sort_values(
            ["match_weight", "row_l", "row_r"], ascending=[False, True, True], kind="stable"
        )
        best.append(mine.drop_duplicates(column))
    best = pd.concat(best).drop_duplicates(["row_l", "row_r"])
    if best.empty:
        return pairs, lonely
    to_review = pd.MultiIndex.from_frame(best[["row_l", "row_r"]])
    in_pairs = pd.MultiIndex.from_frame(pairs[["row_l", "row_r"]]).isin(to_review)
    pairs = pairs.copy()
    pairs.loc[in_pairs & ~pairs.decision.isin(REVIEW_DECISIONS), "decision"] = "review"
    added = best[best.origin == "new"].drop(columns="origin").assign(decision="review")
    return pd.concat([pairs, added[pairs.columns]], ignore_index=True), lonely


def candidates_of(candidates: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    """The candidate pairs (rows of ``candidates``) with one of ``profiles`` on either side."""
    return candidates[np.isin(candidates[:, 0], profiles) | np.isin(candidates[:, 1], profiles)]


def review_queue(profiles: pd.DataFrame, waiting: pd.DataFrame) -> pd.DataFrame:
    """Pairs waiting for a reviewer (from ``prioritise_review``), in priority order: both
    records side by side with each field's level and weight. ``profiles`` is indexed by
    profile number (and need only hold the profiles of waiting pairs)."""
    waiting = waiting.reset_index(drop=True)
    left = profiles.loc[waiting.row_l.to_numpy(), REVIEW_FIELDS].reset_index(drop=True)
    right = profiles.loc[waiting.row_r.to_numpy(), REVIEW_FIELDS].reset_index(drop=True)
    weights = [column for column in waiting.columns if column.endswith(("_level", "_weight"))]
    return pd.concat(
        [
            waiting[["priority", "record_id_l", "record_id_r", "decision", "impact"]],
            waiting[["records_affected", "match_weight", "match_probability"]],
            left.add_suffix("_l"),
            right.add_suffix("_r"),
            waiting[[w for w in weights if w != "match_weight"]],
        ],
        axis=1,
    ).astype({"date_of_birth_l": "string", "date_of_birth_r": "string"})


def _within_review_budget(waiting: pd.DataFrame, keys: np.ndarray, budget: int) -> np.ndarray:
    """Per waiting pair (in priority order): whether it fits in the queue, which holds at most
    ``budget`` children. Pairs beyond it wait for a later refresh (``review_deferred``)."""
    children: set = set()
    fits = np.zeros(len(waiting), dtype=bool)
    for position, (left, right) in enumerate(
        zip(keys[waiting.row_l.to_numpy()], keys[waiting.row_r.to_numpy()], strict=True)
    ):
        more = {left, right} - children
        if len(children) + len(more) <= budget:
            children |= more
            fits[position] = True
    return fits


def _profiles_of(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Standardise each distinct set of identity fields once, then group the standardised
    rows into profiles. Returns the records with their standardised identifiers and profile
    number, and one row per profile (its first record's fields)."""
    # Only the person-record columns (a record may carry others: its period, flags).
    frame = records[[column for column in PERSON_RECORD_COLUMNS if column in records.columns]]
    frame = frame.reset_index(drop=True)  # copy-on-write: the caller's frame is untouched
    for column in PERSON_RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    distinct_of = row_numbers(frame, IDENTITY_COLUMNS)
    first_rows = first_of_each(distinct_of)
    # Records already distinct (repeats dropped upstream) need no copy: numbered in order,
    # each is its own first row.
    all_distinct = len(first_rows) == len(frame)
    distinct = standardise_records(frame if all_distinct else frame.iloc[first_rows])
    distinct["profile"] = row_numbers(distinct, PROFILE_COLUMNS)
    std = frame[["record_id", "source", "source_record_id"]].copy()
    carried = ["profile", "nhs_number_valid", "upn_valid", "la_child_id_std"]
    for column in carried:
        std[column] = distinct[column].to_numpy()[distinct_of]
    std["birth_date_unreadable"] = unreadable_birth_dates(distinct)[distinct_of]
    # Profiles are numbered in order of first appearance, so each one's first distinct row and
    # first record come in profile order.
    profiles = distinct.iloc[first_of_each(distinct.profile.to_numpy())].reset_index(drop=True)
    # A profile is shown (review queue, pair table) through its first record.
    first_record = first_of_each(std.profile.to_numpy())
    # Plain object columns: every scoring reads the ids as Python strings.
    for column in ("record_id", "source"):
        values = std[column].to_numpy(dtype=object)[first_record]
        profiles[column] = pd.Series(values, dtype=object)
    # How many sources gave exactly these identity fields.
    source, names = pd.factorize(std.source)  # a missing source (-1) is not counted
    given = source >= 0
    held = pd.unique(
        std.profile.to_numpy(dtype=np.int64)[given] * max(len(names), 1) + source[given]
    )
    profiles["sources"] = np.bincount(held // max(len(names), 1), minlength=len(profiles))
    return std, profiles


class Stopwatch:
    """Seconds spent in each step, for the summary."""

    def __init__(self, steps: tuple[str, ...] = ()) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(steps, 0.0)
        self._last = time.perf_counter()

    def add(self, step: str, seconds: float) -> None:
        """Seconds a step took apart (in another thread, or beside another step)."""
        self.seconds[step] = round(self.seconds.get(step, 0.0) + seconds, 2)

    def lap(self, step: str | None = None) -> None:
        """The seconds since the last lap count for ``step`` (or for none: waiting for a step
        timed apart)."""
        now = time.perf_counter()
        if step is not None:
            self.add(step, now - self._last)
        self._last = now


def _timed(function: Callable[..., object], *args: object) -> tuple[object, float]:
    """``function(*args)`` and the seconds it took."""
    start = time.perf_counter()
    result = function(*args)
    return result, round(time.perf_counter() - start, 2)


def link_records(
    records: pd.DataFrame,
    settings: LinkageSettings | None = None,
    state: KeyState | None = None,
    run_id: str = "run",
    decisions: pd.DataFrame | None = None,
    model: FellegiSunterModel | None = None,
) -> LinkageResult:
    """Link person records (see ``PERSON_RECORD_COLUMNS``) into one person_key per child.

    ``settings`` (default ``DEFAULT_SETTINGS``) shape every step. ``state`` holds the keys of
    the previous run (see ``keys.py``): clusters keep them. ``decisions`` holds reviewers'
    decisions (``record_id_l``, ``record_id_r``, ``decision``: ``match`` or ``non_match``; a
    later row overrides an earlier one): every run honours them. ``model`` is a trained model
    to reuse; without one, a model is trained on these records (or, if they are too few to
    train on, the shipped default model is used). The pair table compares profiles; each pair
    names the first record of each profile.
    """
    settings = settings or DEFAULT_SETTINGS
    stopwatch = Stopwatch(("profile", "train", "block", "score", "cluster", "key"))
    # 1. Profile.
    std, profiles = _profiles_of(records)
    blocking_keys = BlockingKeys(profiles)
    stopwatch.lap("profile")
    enough_to_train = len(profiles) >= settings.training.min_profiles
    # Blocking (2.) beside the comparison columns and training (in a child process where
    # that is safe: ``beside.py``), and later the twin evidence beside the identifier links:
    # each reads only the profiles, so they run at once (their seconds overlap).
    with (
        ThreadPoolExecutor(max(settings.threads, 1)) as pool,
        run_beside(
            pool,
            _timed,
            candidate_pairs,
            blocking_keys,
            settings.blocking,
            fork=settings.threads > 1,
        ) as blocking,
    ):
        columns, seconds = _timed(ProfileColumns.from_profiles, profiles)
        stopwatch.add("profile", seconds)
        if model is not None:
            origin = "given"
        elif enough_to_train:
            model, seconds = _timed(train_model, profiles, columns, settings, blocking_keys)
            origin = "trained"
            stopwatch.add("train", seconds)
        else:
            model, origin = default_model(), "default"
        # A handful of records is not a population in which each has a one-in-a-few chance
        # of a match: the prior is never scaled up beyond a population of ``min_profiles``.
        model = model.for_population(max(len(profiles), settings.training.min_profiles))
        thresholds = choose_thresholds(model, settings.thresholds)
        # 3. Score. Name frequencies from a handful of records say nothing about how common a
        # name is. Pairs sharing an identifier, while blocking may still run.
        stopwatch.lap()
        score = {
            "model": model,
            "columns": columns,
            "chunk_pairs": settings.chunk_pairs,
            "term_frequency": enough_to_train,
            # Counted once for every scoring below.
            "frequencies": _profile_frequencies(profiles) if enough_to_train else None,
        }
        twins_found = pool.submit(twin_evidence, profiles, columns, settings.twins)
        by_identifier = with_slipped_identifiers(
            score_pairs(profiles, identifier_pairs(profiles), **score),
            score_pairs(profiles, one_slip_pairs(profiles), **score),
        )
        twins = twins_found.result()
        stopwatch.lap("score")
        candidates, seconds = blocking.result()
        stopwatch.add("block", seconds)
        stopwatch.lap()
    n = len(profiles)
    already = (
        pd.Index(by_identifier.row_l * n + by_identifier.row_r).get_indexer(
            candidates.pairs[:, 0] * n + candidates.pairs[:, 1]
        )
        >= 0
    )
    scored = score_pairs(
        profiles,
        candidates.pairs[~already],
        min_weight=thresholds.review_threshold,
        threads=settings.threads,
        **score,
    )
    stopwatch.lap("score")
    # 4. Cluster.
    coherence = None
    if settings.thresholds.min_average_probability is not None:
        probability = settings.thresholds.min_average_probability
        coherence = Coherence(
            score=lambda left, right: score_pairs(
                profiles, np.c_[left, right].astype(np.int64), threads=settings.threads, **score
            ),
            min_weight=weight_of_probability(probability),
            records_per_profile=np.bincount(std.profile.to_numpy(), minlength=len(profiles)),
        )
    roots, pairs = cluster_profiles(
        profiles,
        columns,
        by_identifier,
        scored,
        reviewed_profiles(decisions, std.set_index("record_id").profile),
        thresholds,
        settings.auto_rules,
        twins,
        coherence,
    )
    pairs, unlinked_first = review_unlinked_first(
        pairs,
        lonely_profiles(std, roots, settings.review_first_sources),
        lambda waiting: score_pairs(profiles, candidates_of(candidates.pairs, waiting), **score),
    )
    stopwatch.lap("cluster")
    # 5. Key.
    std["cluster"] = roots[std.profile.to_numpy()]
    keys = assign_person_keys(std[["record_id", "cluster"]], state, run_id)
    absent_record_keys = carried_forward(state, std.record_id, keys.registry)
    std["person_key"] = keys.cluster_keys.reindex(std.cluster.to_numpy()).to_numpy()

    # The review queue: most consequential pairs first, within the review budget.
    profile_keys = keys.cluster_keys.reindex(roots).to_numpy()
    children = int(std.person_key.nunique())
    pairs, waiting, deferred = queue_for_review(
        pairs,
        profile_keys,
        np.bincount(std.profile.to_numpy(), minlength=n),
        state,
        unlinked_first,
        children,
        settings,
    )
    std["best_probability"] = std.profile.map(best_probability(pairs)).astype(float)
    bridge = bridge_rows(std)
    stopwatch.lap("key")
    return LinkageResult(
        bridge=bridge,
        pairs=pairs.drop(columns=["row_l", "row_r"]),
        review_queue=review_queue(profiles, waiting),
        registry=keys.registry,
        history=keys.history,
        model=model,
        absent_record_keys=absent_record_keys,
        summary=linkage_summary(
            origin=origin,
            records=len(std),
            profiles=len(profiles),
            candidate_pairs=len(candidates.pairs),
            blocking_rules=candidates.report(),
            thresholds=thresholds,
            model=model,
            twins=twins,
            pairs=pairs,
            waiting=waiting,
            deferred=len(deferred),
            children=children,
            profile_keys=profile_keys,
            unreadable_birth_dates=count_by_source(std.source[std.birth_date_unreadable]),
            seconds=stopwatch.seconds,
        ),
    )


def queue_for_review(
    pairs: pd.DataFrame,
    profile_keys: np.ndarray,
    profile_records: np.ndarray,
    state: KeyState | None,
    unlinked_first: np.ndarray,
    children: int,
    settings: LinkageSettings,
    records_of_key: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Index]:
    """The pairs waiting for a reviewer in priority order (``prioritise_review``), at most
    ``ThresholdSettings.review_share`` of the ``children`` found (or
    ``min_review_children``); the rest are ``review_deferred`` in ``pairs``. Returns the
    pairs, those waiting and the index (in ``pairs``) of those deferred."""
    existing = set(state.registry.person_key) if state is not None else set()
    waiting = prioritise_review(
        pairs, profile_keys, profile_records, existing, unlinked_first, records_of_key
    )
    budget = max(
        int(settings.thresholds.review_share * children), settings.thresholds.min_review_children
    )
    fits = _within_review_budget(waiting, profile_keys, budget)
    deferred = waiting.index[~fits]
    pairs.loc[deferred, "decision"] = "review_deferred"
    return pairs, waiting[fits], deferred


def best_probability(pairs: pd.DataFrame) -> pd.Series:
    """Per profile row, the probability of its likeliest pair that linked it."""
    linked = pairs[pairs.decision.isin(LINKED_DECISIONS)]
    return (
        pd.concat(
            [
                pd.DataFrame({"row": linked.row_l, "probability": linked.match_probability}),
                pd.DataFrame({"row": linked.row_r, "probability": linked.match_probability}),
            ]
        )
        .groupby("row")
        .probability.max()
    )


def bridge_rows(std: pd.DataFrame) -> pd.DataFrame:
    """The bridge: each record's ``person_key``, how it was linked (``match_method``) and how
    sure that is (``match_probability``). ``std`` holds each record's ids, ``cluster``,
    ``person_key``, valid identifiers and ``best_probability`` (``best_probability``). Only a
    record's own cluster matters, so any set of whole clusters can be done apart."""
    cluster_size = std.groupby("cluster").record_id.transform("size")

    def shares(column: str) -> pd.Series:
        """The record's identifier is held by another record of its cluster."""
        held_by = std.groupby(["cluster", column]).record_id.transform("size")
        return std[column].notna() & (held_by.reindex(std.index, fill_value=0) > 1)

    match_method = np.select(
        [
            shares("nhs_number_valid"),
            shares("upn_valid"),
            shares("la_child_id_std"),
            cluster_size > 1,
        ],
        ["nhs_number", "upn", "la_child_id", "probabilistic"],
        default="singleton",
    )
    # Linked on a shared identifier: certain. Linked by the model: its best link's probability.
    match_probability = np.select(
        [
            np.isin(match_method, ["nhs_number", "upn", "la_child_id"]),
            match_method == "probabilistic",
        ],
        [1.0, std.best_probability],
        default=np.nan,
    )
    bridge = std[["source", "source_record_id", "record_id", "person_key"]].copy()
    bridge["match_method"] = match_method
    bridge["match_probability"] = match_probability
    return bridge


def count_by_source(sources: pd.Series) -> dict[str, int]:
    """How many of these records each source sent (a record without a source is not
    counted), sources in order."""
    counts = sources.dropna().value_counts()
    return {str(source): int(counts[source]) for source in sorted(counts.index)}


def linkage_summary(
    *,
    origin: str,
    records: int,
    profiles: int,
    candidate_pairs: int,
    blocking_rules: list[dict[str, object]],
    thresholds: ThresholdChoice,
    model: FellegiSunterModel,
    twins: TwinEvidence,
    pairs: pd.DataFrame,
    waiting: pd.DataFrame,
    deferred: int,
    children: int,
    profile_keys: np.ndarray,
    unreadable_birth_dates: dict[str, int],
    seconds: dict[str, float],
) -> dict[str, object]:
    """What a run reports: where the model came from, profiles, candidate pairs compared,
    pairs kept, the blocking rules used, the thresholds and how they were chosen, decisions
    by kind, the review queue and the seconds each step took."""
    return {
        "model": origin,
        "records": records,
        "profiles": profiles,
        "candidate_pairs": candidate_pairs,
        "pairs_kept": len(pairs),
        "blocking_rules": blocking_rules,
        "thresholds": thresholds.as_dict(),
        "em_converged": model.training.get("em_converged"),
        "twins": twins.report(),
        "decisions": {
            str(decision): int(count)
            for decision, count in pairs.decision.value_counts().sort_index().items()
        },
        "auto_rules": {
            str(rule): int(count)
            for rule, count in pairs.rule[pairs.decision.str.startswith("auto_")]
            .value_counts()
            .sort_index()
            .items()
        },
        # Pairs linked through an NHS number or UPN mistyped by one slip.
        "slipped_identifier_links": int(
            ((pairs.rule == ONE_SLIP_RULE) & (pairs.decision == "identifier_link")).sum()
        ),
        "review_pairs": len(waiting),
        "review_deferred": deferred,
        "children": children,
        "children_in_review": len(
            set(profile_keys[waiting.row_l]) | set(profile_keys[waiting.row_r])
        ),
        # Records whose date of birth is not a date, by source: kept, linked without it.
        "unreadable_birth_dates": unreadable_birth_dates,
        "seconds": seconds,
    }
