"""A Fellegi-Sunter model of identity profiles, trained without labels.

For each comparison level, ``m`` is the probability of the level among pairs of profiles of one
child, ``u`` among pairs of different children. A pair's match weight is the log2 of the prior
odds plus, for each comparison, ``log2(m / u)`` of its level (0 when a field is missing), so a
weight of 0 is a probability of one half.

Training (``train_model``), as Splink does it:

1. ``u`` from random pairs of profiles (nearly all pairs of different children; pairs sharing a
   valid NHS number, UPN or LA child id are left out so that known matches do not inflate it).
2. ``m`` by expectation maximisation on blocked candidate pairs with ``u`` held fixed. Each
   session blocks on one rule and estimates only the comparisons outside it (a block on date of
   birth says nothing about how often a child's date of birth agrees); ``m`` is the mean over
   the sessions that estimated it.
3. The prior (probability that two random profiles are one child) from how many matches each
   session found, scaled by how often a match meets that session's blocking rule.

Term frequency: the exact level of a name is worth more for a rare name than for a common one,
``log2(u_exact / frequency of the name)`` is added to the exact level's weight.

The model is plain data: ``to_json`` / ``from_json`` keep it between runs and report it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from linkage_ops.linkage.comparisons import (
    COMPARISONS,
    TERM_FREQUENCY_COMPARISONS,
    ProfileColumns,
    compare,
    level_code,
)

# The blocking rules of the EM sessions (columns of the standardised profiles).
TRAINING_BLOCKS: tuple[tuple[str, ...], ...] = (
    ("dob_text",),
    ("first_name_canonical", "last_name_std"),
)
# Which comparison each blocking column belongs to (those are fixed in a session).
BLOCKED_COMPARISON = {
    "dob_text": "date_of_birth",
    "birth_year": "date_of_birth",
    "first_name_canonical": "first_name",
    "last_name_std": "last_name",
    "postcode_std": "postcode",
    "postcode_district": "postcode",
}
# Trained on the 10,000-child synthetic authority (``linkage-ops link ... --save-model``); used
# when the records to link are too few to train on.
DEFAULT_MODEL_PATH = (
    Path(__file__).resolve().parent.parent / "reference_data" / "linkage_model.json"
)
# Where EM starts: the first level after ``missing`` is the best agreement.
_START_M = {"exact": 0.85, "full": 0.8, "agree": 0.95}


@dataclass
class TrainingSettings:
    u_sample_pairs: int = 1_000_000
    em_max_pairs: int = 1_000_000
    em_max_iterations: int = 50
    em_tolerance: float = 1e-5
    # Pseudo-count that keeps a level never seen among matches from an infinite weight.
    pseudo_count: float = 1.0
    seed: int = 2024
    # Fewer profiles than this are too few to train on: the shipped model is used instead.
    min_profiles: int = 1_000


@dataclass
class FellegiSunterModel:
    prior: float
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    training: dict = field(default_factory=dict)

    def for_population(self, profiles: int) -> FellegiSunterModel:
        """The same model for a population of another size: each profile is expected to have
        as many matches as in training, so the prior scales with 1 / (profiles - 1)."""
        trained_on = int(self.training.get("profiles", 0))
        if trained_on < 2 or profiles < 2 or profiles == trained_on:
            return self
        prior = min(self.prior * (trained_on - 1) / (profiles - 1), 0.5)
        # The prior now belongs to this population; say so, so that it is not scaled twice.
        training = self.training | {"profiles": profiles, "prior_scaled_from_profiles": trained_on}
        return FellegiSunterModel(prior=prior, m=self.m, u=self.u, training=training)

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def level_weights(self, comparison: str) -> np.ndarray:
        """log2(m/u) per level code; 0 for ``missing``."""
        weights = [
            0.0
            if level == "missing"
            else math.log2(self.m[comparison][level] / self.u[comparison][level])
            for level in COMPARISONS[comparison]
        ]
        return np.array(weights)

    def report(self) -> pd.DataFrame:
        """One row per comparison level: m, u and the weight (log2 Bayes factor)."""
        rows = []
        for comparison, levels in COMPARISONS.items():
            weights = self.level_weights(comparison)
            for code, level in enumerate(levels):
                if level == "missing":
                    continue
                rows.append(
                    (
                        comparison,
                        level,
                        self.m[comparison][level],
                        self.u[comparison][level],
                        float(weights[code]),
                    )
                )
        return pd.DataFrame(rows, columns=["comparison", "level", "m", "u", "weight"])

    def report_markdown(self) -> str:
        """The report as a Markdown table, with the prior first."""
        lines = [
            "| comparison | level | m | u | weight |",
            "|---|---|---|---|---|",
            f"| prior | | | {self.prior:.3g} | {self.prior_weight:.2f} |",
        ]
        for row in self.report().itertuples(index=False):
            lines.append(
                f"| {row.comparison} | {row.level} | {row.m:.4g} | {row.u:.4g} | {row.weight:.2f} |"
            )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "model": "fellegi_sunter",
                "prior": self.prior,
                "prior_weight": self.prior_weight,
                "comparisons": {
                    comparison: {
                        level: {
                            "m": self.m[comparison][level],
                            "u": self.u[comparison][level],
                            "weight": float(weight),
                        }
                        for level, weight in zip(
                            levels, self.level_weights(comparison), strict=True
                        )
                        if level != "missing"
                    }
                    for comparison, levels in COMPARISONS.items()
                },
                "term_frequency_adjusted": list(TERM_FREQUENCY_COMPARISONS),
                "training": self.training,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> FellegiSunterModel:
        data = json.loads(text)
        comparisons = data["comparisons"]
        return cls(
            prior=data["prior"],
            m={c: {lv: p["m"] for lv, p in levels.items()} for c, levels in comparisons.items()},
            u={c: {lv: p["u"] for lv, p in levels.items()} for c, levels in comparisons.items()},
            training=data.get("training", {}),
        )


@cache
def default_model() -> FellegiSunterModel:
    """The shipped model, for inputs too small to train on."""
    return FellegiSunterModel.from_json(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


def term_frequencies(values: pd.Series) -> pd.Series:
    """Share of non-blank profiles holding each value."""
    present = values[values != ""]
    return present.value_counts(normalize=True)


def block_pairs(
    columns: ProfileColumns,
    rule: tuple[str, ...],
    max_pairs: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of profile rows (left < right) agreeing on every column of ``rule`` (blank
    never agrees). With ``max_pairs``, a random share of profiles is kept so that about that
    many pairs come back (every pair equally likely to be kept). Also returns the number of
    pairs the rule gives without sampling."""
    group = columns.block_key(rule)
    sizes = np.bincount(group[group >= 0])
    total = int((sizes * (sizes - 1) // 2).sum())
    rows = np.flatnonzero(group >= 0)
    if max_pairs is not None and total > max_pairs:
        rng = rng or np.random.default_rng(0)
        rows = rows[rng.random(len(rows)) < math.sqrt(max_pairs / total)]
    left, right = pairs_within_groups(group[rows], rows)
    return left, right, total


def pairs_within_groups(group: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of ``rows`` (smaller first) that share a ``group`` value."""
    order = np.argsort(group, kind="stable")
    group, rows = group[order], rows[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    lefts, rights = [], []
    # One pass per position within a group: pair every member with each later member.
    for offset in range(1, int(sizes.max(initial=1))):
        members = sizes > offset
        if not members.any():
            break
        # Member i of a group pairs with member i + offset, for every i that has one.
        for_starts = starts[members]
        counts = sizes[members] - offset
        first = np.repeat(for_starts, counts) + _ranges(counts)
        lefts.append(rows[first])
        rights.append(rows[first + offset])
    if not lefts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    return np.minimum(left, right).astype(np.int64), np.maximum(left, right).astype(np.int64)


def _ranges(counts: np.ndarray) -> np.ndarray:
    """``[0..c0-1, 0..c1-1, ...]`` for each count."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1]) - np.repeat(ends - counts, counts)


def _known_matches(profiles: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    known = np.zeros(len(left), dtype=bool)
    for column in ("nhs_number_valid", "upn_valid", "la_child_id_std"):
        values = profiles[column].to_numpy(dtype=object)
        a, b = values[left], values[right]
        known |= pd.notna(a) & (a == b)
    return known


def estimate_u(
    profiles: pd.DataFrame, columns: ProfileColumns, settings: TrainingSettings
) -> tuple[dict[str, dict[str, float]], int]:
    """u per level from random pairs of profiles. Returns u and the pairs used."""
    rng = np.random.default_rng(settings.seed)
    n = len(profiles)
    left = rng.integers(0, n, settings.u_sample_pairs)
    right = rng.integers(0, n, settings.u_sample_pairs)
    keep = left != right
    left, right = left[keep], right[keep]
    keep = ~_known_matches(profiles, left, right)
    left, right = left[keep], right[keep]
    levels = compare(columns, left, right)
    u = {}
    for comparison, codes in levels.items():
        count = len(COMPARISONS[comparison])
        observed = np.bincount(codes, minlength=count)[1:].astype(float)
        # Half a pair for a level never seen, so no level has u = 0.
        observed = observed + 0.5
        u[comparison] = dict(
            zip(COMPARISONS[comparison][1:], observed / observed.sum(), strict=True)
        )
    return u, len(left)


def _expectation_maximisation(
    levels: dict[str, np.ndarray],
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    settings: TrainingSettings,
) -> tuple[dict[str, dict[str, float]], float, int, bool]:
    """EM for m (u fixed) over the comparisons in ``levels``. Works on the distinct
    comparison vectors with their counts. Returns m, the share of matches, iterations and
    whether it converged."""
    names = list(levels)
    # Each comparison vector as one integer (a digit per comparison), counted.
    base = max(len(COMPARISONS[name]) for name in names)
    key = np.zeros(len(levels[names[0]]), dtype=np.int64)
    for name in names:
        key = key * base + levels[name]
    distinct, counts = np.unique(key, return_counts=True)
    vectors = np.zeros((len(distinct), len(names)), dtype=np.int64)
    for column in reversed(range(len(names))):
        distinct, vectors[:, column] = np.divmod(distinct, base)
    counts = counts.astype(float)
    log_u = [np.log([1.0] + [u[name][level] for level in COMPARISONS[name][1:]]) for name in names]
    m = {name: dict(m[name]) for name in names}
    share = 0.5
    converged = False
    iteration = 0
    while not converged and iteration < settings.em_max_iterations:
        iteration += 1
        log_m = [
            np.log([1.0] + [m[name][level] for level in COMPARISONS[name][1:]]) for name in names
        ]
        log_bayes = np.zeros(len(vectors))
        for column in range(len(names)):
            log_bayes += log_m[column][vectors[:, column]] - log_u[column][vectors[:, column]]
        logit = np.log(share / (1 - share)) + log_bayes
        probability = 1 / (1 + np.exp(-np.clip(logit, -700, 700)))
        weight = counts * probability
        new_share = float(weight.sum() / counts.sum())
        change = abs(new_share - share)
        for column, name in enumerate(names):
            level_count = len(COMPARISONS[name])
            matched = np.bincount(vectors[:, column], weights=weight, minlength=level_count)[1:]
            matched = matched + settings.pseudo_count / (level_count - 1)
            estimate = matched / matched.sum()
            for level, value in zip(COMPARISONS[name][1:], estimate, strict=True):
                change = max(change, abs(value - m[name][level]))
                m[name][level] = float(value)
        share = min(max(new_share, 1e-9), 1 - 1e-9)
        converged = change < settings.em_tolerance
    return m, share, iteration, converged


def _starting_m() -> dict[str, dict[str, float]]:
    m = {}
    for comparison, levels in COMPARISONS.items():
        agreeing = levels[1]
        best = _START_M.get(agreeing, 0.8)
        rest = (1 - best) / (len(levels) - 2)
        m[comparison] = {level: (best if level == agreeing else rest) for level in levels[1:]}
    return m


def train_model(
    profiles: pd.DataFrame,
    columns: ProfileColumns | None = None,
    settings: TrainingSettings | None = None,
) -> FellegiSunterModel:
    """Estimate u by random sampling and m by EM on ``profiles`` (standardised, deduplicated
    identity profiles); see the module docstring."""
    settings = settings or TrainingSettings()
    columns = columns or ProfileColumns.from_profiles(profiles)
    u, u_pairs = estimate_u(profiles, columns, settings)
    rng = np.random.default_rng(settings.seed + 1)
    estimates: dict[str, list[dict[str, float]]] = {name: [] for name in COMPARISONS}
    sessions = []
    session_results = []
    for rule in TRAINING_BLOCKS:
        fixed = {BLOCKED_COMPARISON[column] for column in rule}
        left, right, total = block_pairs(columns, rule, settings.em_max_pairs, rng)
        levels = compare(columns, left, right)
        estimated = {name: codes for name, codes in levels.items() if name not in fixed}
        m, share, iterations, converged = _expectation_maximisation(
            estimated, _starting_m(), u, settings
        )
        for name in estimated:
            estimates[name].append(m[name])
        session_results.append((rule, share, total))
        sessions.append(
            {
                "blocking_rule": list(rule),
                "pairs_in_block": total,
                "pairs_used": len(left),
                "estimated": sorted(estimated),
                "iterations": iterations,
                "converged": bool(converged),
                "share_of_matches": float(share),
            }
        )
    m = {
        name: {
            level: float(np.mean([estimate[level] for estimate in estimates[name]]))
            for level in COMPARISONS[name][1:]
        }
        for name in COMPARISONS
    }
    prior, prior_estimates = _prior(profiles, m, session_results)
    return FellegiSunterModel(
        prior=prior,
        m=m,
        u=u,
        training={
            "profiles": len(profiles),
            "u_random_pairs": u_pairs,
            "em_sessions": sessions,
            "prior_by_session": prior_estimates,
            "seed": settings.seed,
        },
    )


def _prior(
    profiles: pd.DataFrame,
    m: dict[str, dict[str, float]],
    session_results: list[tuple[tuple[str, ...], float, int]],
) -> tuple[float, list[float]]:
    """The probability that two random profiles are one child: matches found in each session's
    block, divided by the chance a match falls in that block, over all pairs of profiles."""
    all_pairs = len(profiles) * (len(profiles) - 1) / 2
    estimates = []
    for rule, share, total in session_results:
        chance = 1.0
        for name in {BLOCKED_COMPARISON[column] for column in rule}:
            agreeing = ["exact"] + (["nickname"] if name == "first_name" else [])
            chance *= sum(m[name][level] for level in agreeing)
        estimates.append(float(share * total / chance / all_pairs))
    return float(np.clip(np.mean(estimates), 1e-12, 0.5)), estimates


def match_weights(
    model: FellegiSunterModel,
    levels: dict[str, np.ndarray],
    frequencies: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Weight of each comparison for each pair (log2 Bayes factor). Where ``frequencies``
    gives a comparison's term frequency of each pair's left value, its exact level is
    adjusted: a rare name agreeing is stronger evidence than a common one."""
    weights = {}
    for name, codes in levels.items():
        weight = model.level_weights(name)[codes]
        if frequencies and name in frequencies:
            exact = codes == level_code(name, "exact")
            frequency = frequencies[name]
            u_exact = model.u[name]["exact"]
            adjustment = np.log2(u_exact / np.where(frequency > 0, frequency, u_exact))
            weight = np.where(exact, weight + adjustment, weight)
        weights[name] = weight.astype(np.float32)
    return weights
