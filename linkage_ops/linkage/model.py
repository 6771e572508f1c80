"""A Fellegi-Sunter model of identity profiles, trained without labels.

For each comparison level, ``m`` is the probability of the level among pairs of profiles of one
child, ``u`` among pairs of different children. A pair's match weight is the log2 of the prior
odds plus, for each comparison, ``log2(m / u)`` of its level (0 when a field is missing), so a
weight of 0 is a probability of one half.

Training (``train_model``), as Splink does it:

1. ``u`` from random pairs of profiles (nearly all pairs of different children; pairs sharing a
   valid NHS number, UPN or LA child id are left out so that known matches do not inflate it).
2. ``m`` by expectation maximisation on blocked candidate pairs with ``u`` held fixed. Each
   session blocks on one rule (``TrainingSettings.blocks``) and leaves out the comparisons
   inside it (a block on date of birth says nothing about how often a child's date of birth
   agrees). What an earlier session estimated, a later one holds at that estimate: on its own,
   a session blocked on names with only the birth date and the address left to estimate can
   settle on a "match" class that is every pair of namesakes. A session with nothing left to
   estimate is skipped (a fallback block). Each session reports whether it converged, and why
   not if it did not.
3. The prior (probability that two random profiles are one child) from how many matches each
   session found, scaled by how often a match meets that session's blocking rule.
4. The household: brothers and sisters share a surname and an address, so agreeing on both is
   far commoner among different children than the product of the two ``u`` says, and a model
   that multiplies them links a sibling whose record lacks the birth date. ``household_u`` is
   counted instead: pairs of profiles sharing both values, less the matches expected among
   them, over all pairs of different children. A pair at both levels (``settings.household``)
   weighs ``log2(m_surname * m_address / household_u)`` for the two together.

Term frequency: the exact level of a name is worth more for a rare name than for a common one,
``log2(u_exact / frequency of the name)`` is added to the exact level's weight.

Both ``u`` and EM need only how many pairs have each comparison vector (``LevelCounts``), so
the pairs can be compared wherever the profiles are (``TrainingPopulation``: a pandas frame,
or Spark) and only those counts brought together.

The model is plain data: ``to_json`` / ``from_json`` keep it between runs and report it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from linkage_ops.linkage.blocking import BlockingKeys, block_pairs
from linkage_ops.linkage.comparisons import (
    COMPARISONS,
    TERM_FREQUENCY_COMPARISONS,
    ProfileColumns,
    compare,
    level_code,
)
from linkage_ops.linkage.settings import (
    DEFAULT_SETTINGS,
    LinkageSettings,
    TrainingSettings,
    check_levels,
)
from linkage_ops.linkage.standardise import row_numbers

# Which comparisons each blocking key fixes (a session blocked on it does not estimate them).
BLOCKED_COMPARISONS = {
    "dob_text": ("date_of_birth",),
    "birth_year": ("date_of_birth",),
    "dob_year_month": ("date_of_birth",),
    "dob_month_day": ("date_of_birth",),
    "dob_year_day": ("date_of_birth",),
    "first_name_canonical": ("first_name",),
    "first_name_std": ("first_name",),
    "first_name_soundex": ("first_name",),
    "last_name_std": ("last_name",),
    "last_name_soundex": ("last_name",),
    "names_soundex": ("first_name", "last_name"),
    "names_initials": ("first_name", "last_name"),
    "names_prefixes": ("first_name", "last_name"),
    "postcode_std": ("postcode",),
    "postcode_sector": ("postcode",),
    "postcode_district": ("postcode",),
    "sex": ("sex",),
}
# Trained on one collection year (2023) of the 10,000-child synthetic authority's person records
# (``linkage-ops link ... --save-model``); used when the records to link are too few to train on.
DEFAULT_MODEL_PATH = (
    Path(__file__).resolve().parent.parent / "reference_data" / "linkage_model.json"
)
# Where EM starts: the first level after ``missing`` is the best agreement.
_START_M = {"exact": 0.85, "full": 0.8, "agree": 0.95}


@dataclass
class FellegiSunterModel:
    prior: float
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    training: dict = field(default_factory=dict)
    # The settings it was trained with (saved with it).
    settings: LinkageSettings = DEFAULT_SETTINGS
    # Probability that two different children are at every ``settings.household`` level
    # (None: not estimated; the levels are then taken as independent).
    household_u: float | None = None

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        return self.settings.levels

    def for_population(self, profiles: int) -> FellegiSunterModel:
        """The same model for a population of another size: each profile is expected to have
        as many matches as in training, so the prior scales with 1 / (profiles - 1)."""
        trained_on = int(self.training.get("profiles", 0))
        if trained_on < 2 or profiles < 2 or profiles == trained_on:
            return self
        scale = (trained_on - 1) / (profiles - 1)
        prior = min(self.prior * scale, 0.5)
        # Brothers and sisters per child stay as they were, as matches do.
        household_u = None if self.household_u is None else min(self.household_u * scale, 1.0)
        # The prior now belongs to this population; say so, so that it is not scaled twice.
        training = self.training | {"profiles": profiles, "prior_scaled_from_profiles": trained_on}
        return FellegiSunterModel(
            prior=prior,
            m=self.m,
            u=self.u,
            training=training,
            settings=self.settings,
            household_u=household_u,
        )

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    @property
    def household_weight(self) -> float | None:
        """The weight of a pair at every household level together (see the module docstring)."""
        if self.household_u is None:
            return None
        m = math.prod(self.m[name][level] for name, level in self.settings.household)
        return math.log2(m / self.household_u)

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
                "household": {
                    "levels": [list(level) for level in self.settings.household],
                    "u": self.household_u,
                    "weight": self.household_weight,
                },
                "training": self.training,
                "settings": self.settings.to_dict(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> FellegiSunterModel:
        """A saved model. One trained with other comparison levels than this engine's is
        refused (``ModelLevelsMismatch``) with a message saying how to retrain."""
        data = json.loads(text)
        comparisons = data["comparisons"]
        check_levels({name: ["missing", *levels] for name, levels in comparisons.items()}, where)
        return cls(
            prior=data["prior"],
            m={c: {lv: p["m"] for lv, p in levels.items()} for c, levels in comparisons.items()},
            u={c: {lv: p["u"] for lv, p in levels.items()} for c, levels in comparisons.items()},
            # The file records the settings it was trained with; only the comparison levels
            # must agree with this engine (checked above), so the engine's own settings apply.
            training=data.get("training", {}),
            household_u=(data.get("household") or {}).get("u"),
        )


@cache
def default_model() -> FellegiSunterModel:
    """The shipped model, for inputs too small to train on."""
    return FellegiSunterModel.from_json(
        DEFAULT_MODEL_PATH.read_text(encoding="utf-8"), str(DEFAULT_MODEL_PATH)
    )


def term_frequencies(values: pd.Series) -> pd.Series:
    """Share of non-blank profiles holding each value."""
    present = values[values != ""]
    return present.value_counts(normalize=True)


@dataclass(frozen=True)
class LevelCounts:
    """Pairs counted by comparison vector: each distinct vector of level codes (one column per
    comparison of ``names``) and how many pairs have it. EM and ``u`` need nothing more, so
    the pairs themselves can be compared anywhere (in memory, or on Spark) and only these
    counts brought together."""

    names: tuple[str, ...]
    vectors: np.ndarray  # (distinct vectors, len(names)) level codes
    counts: np.ndarray  # pairs per vector

    @classmethod
    def of_levels(cls, levels: dict[str, np.ndarray]) -> LevelCounts:
        """The counts of the pairs whose level codes per comparison are ``levels``."""
        names = tuple(levels)
        vectors = np.stack([levels[name] for name in names], axis=1).astype(np.int64)
        return cls(names, vectors, np.ones(len(vectors), dtype=np.int64)).only(names)

    @classmethod
    def empty(cls, names: tuple[str, ...] = tuple(COMPARISONS)) -> LevelCounts:
        return cls(names, np.zeros((0, len(names)), np.int64), np.zeros(0, np.int64))

    @property
    def pairs(self) -> int:
        return int(self.counts.sum())

    def only(self, names: tuple[str, ...] | list[str]) -> LevelCounts:
        """The counts over the comparisons ``names`` alone, vectors in ascending order (a digit
        per comparison, the first the most significant)."""
        names = tuple(names)
        if not len(self.counts):
            return LevelCounts.empty(names)
        base = max(len(COMPARISONS[name]) for name in names)
        key = np.zeros(len(self.vectors), dtype=np.int64)
        for name in names:
            key = key * base + self.vectors[:, self.names.index(name)]
        distinct, inverse = np.unique(key, return_inverse=True)
        counts = np.zeros(len(distinct), dtype=np.int64)
        np.add.at(counts, inverse.ravel(), self.counts)
        vectors = np.zeros((len(distinct), len(names)), dtype=np.int64)
        for column in reversed(range(len(names))):
            distinct, vectors[:, column] = np.divmod(distinct, base)
        return LevelCounts(names, vectors, counts)

    def level_counts(self, name: str) -> np.ndarray:
        """Pairs at each level code of one comparison."""
        return np.bincount(
            self.vectors[:, self.names.index(name)],
            weights=self.counts,
            minlength=len(COMPARISONS[name]),
        ).astype(np.int64)


@dataclass(frozen=True)
class RandomPairs:
    """Pairs of profile rows drawn at random, for ``u``: the same pairs wherever they are drawn
    (so a cluster's workers can each draw them and keep their share)."""

    profiles: int
    size: int
    seed: int

    def draw(self) -> tuple[np.ndarray, np.ndarray]:
        """The left and right rows of the pairs (a profile is never paired with itself)."""
        rng = np.random.default_rng(self.seed)
        left = rng.integers(0, self.profiles, self.size)
        right = rng.integers(0, self.profiles, self.size)
        keep = left != right
        return left[keep], right[keep]


class TrainingPopulation(Protocol):
    """What training asks of a population of profiles: the level counts of given pairs and of
    blocks, and how many pairs share a household. ``ProfilesInMemory`` answers from a pandas
    frame; the Spark engine (``linkage_ops.spark.linkage``) answers on Spark."""

    def __len__(self) -> int: ...

    def random_pairs(self, sample: RandomPairs) -> LevelCounts:
        """The level counts of the pairs ``sample`` draws, leaving out pairs that share a
        valid NHS number, UPN or LA child id (known matches would inflate ``u``)."""
        ...

    def block(
        self, rule: tuple[str, ...], max_pairs: int, rng: np.random.Generator
    ) -> tuple[LevelCounts, int]:
        """The level counts of the pairs agreeing on every key of ``rule``, sampled as
        ``blocking.block_pairs`` samples them (the same draws from ``rng``), and the number
        of pairs in the whole block."""
        ...

    def sharing(self, columns: list[str]) -> float:
        """Pairs of profiles with the same non-blank value in every one of ``columns``."""
        ...


@dataclass
class ProfilesInMemory:
    """A ``TrainingPopulation`` held as a frame of profiles."""

    profiles: pd.DataFrame
    columns: ProfileColumns
    keys: BlockingKeys

    def __len__(self) -> int:
        return len(self.profiles)

    def random_pairs(self, sample: RandomPairs) -> LevelCounts:
        return self.levels_of(*sample.draw(), leave_out_known=True)

    def levels_of(
        self, left: np.ndarray, right: np.ndarray, leave_out_known: bool = False
    ) -> LevelCounts:
        """The level counts of these pairs of profile rows; with ``leave_out_known``, leaving
        out pairs that share a valid NHS number, UPN or LA child id."""
        if leave_out_known:
            keep = ~_known_matches(self.profiles, left, right)
            left, right = left[keep], right[keep]
        return LevelCounts.of_levels(compare(self.columns, left, right))

    def block(
        self, rule: tuple[str, ...], max_pairs: int, rng: np.random.Generator
    ) -> tuple[LevelCounts, int]:
        left, right, total = block_pairs(self.keys, rule, max_pairs, rng)
        if not len(left):
            return LevelCounts.empty(), total
        return self.levels_of(left, right), total

    def sharing(self, columns: list[str]) -> float:
        values = self.profiles[columns]
        present = values[(values != "").all(axis=1) & values.notna().all(axis=1)]
        sizes = np.bincount(row_numbers(present, list(present.columns))).astype(np.float64)
        return float((sizes * (sizes - 1) / 2).sum())


def _known_matches(profiles: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Pairs sharing a valid NHS number, UPN or LA child id."""
    known = np.zeros(len(left), dtype=bool)
    for column in ("nhs_number_valid", "upn_valid", "la_child_id_std"):
        codes = pd.factorize(profiles[column])[0]  # -1 where blank
        known |= (codes[left] >= 0) & (codes[left] == codes[right])
    return known


def estimate_u(
    population: TrainingPopulation, settings: TrainingSettings
) -> tuple[dict[str, dict[str, float]], int]:
    """u per level from random pairs of profiles. Returns u and the pairs used."""
    sample = RandomPairs(len(population), settings.u_sample_pairs, settings.seed)
    counted = population.random_pairs(sample)
    u = {}
    for comparison in COMPARISONS:
        observed = counted.level_counts(comparison)[1:].astype(float)
        # Half a pair for a level never seen, so no level has u = 0.
        observed = observed + 0.5
        u[comparison] = dict(
            zip(COMPARISONS[comparison][1:], observed / observed.sum(), strict=True)
        )
    return u, counted.pairs


def _expectation_maximisation(
    counted: LevelCounts,
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    settings: TrainingSettings,
    held: frozenset[str] = frozenset(),
) -> tuple[dict[str, dict[str, float]], float, int, bool, float]:
    """EM for m (u fixed) over the comparisons of ``counted``. Works on the distinct
    comparison vectors with their counts. Returns m, the share of matches, iterations,
    whether it converged and the largest change of the last iteration.

    Comparisons in ``held`` (estimated by an earlier session) weigh the pairs with the m
    given but are not re-estimated: they anchor the match class, so that EM cannot settle on
    a "match" class that is really every pair of a block full of namesakes."""
    names = list(counted.names)
    # The vectors in one order whatever counted them, so that every sum below is the same.
    counted = counted.only(names)
    vectors = counted.vectors
    counts = counted.counts.astype(float)
    log_u = [np.log([1.0] + [u[name][level] for level in COMPARISONS[name][1:]]) for name in names]
    m = {name: dict(m[name]) for name in names}
    share = 0.5
    converged = False
    iteration = 0
    change = float("inf")
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
            if name in held:
                continue
            level_count = len(COMPARISONS[name])
            matched = np.bincount(vectors[:, column], weights=weight, minlength=level_count)[1:]
            matched = matched + settings.pseudo_count / (level_count - 1)
            estimate = matched / matched.sum()
            for level, value in zip(COMPARISONS[name][1:], estimate, strict=True):
                change = max(change, abs(value - m[name][level]))
                m[name][level] = float(value)
        share = min(max(new_share, 1e-9), 1 - 1e-9)
        converged = change < settings.em_tolerance
    return m, share, iteration, converged, change


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
    linkage_settings: LinkageSettings | None = None,
    keys: BlockingKeys | None = None,
) -> FellegiSunterModel:
    """Estimate u by random sampling and m by EM on ``profiles`` (standardised, deduplicated
    identity profiles); see the module docstring."""
    columns = columns or ProfileColumns.from_profiles(profiles)
    keys = keys or BlockingKeys(profiles)
    return train_on(ProfilesInMemory(profiles, columns, keys), linkage_settings)


def train_on(
    population: TrainingPopulation, linkage_settings: LinkageSettings | None = None
) -> FellegiSunterModel:
    """``train_model`` on a population held anywhere (see ``TrainingPopulation``)."""
    linkage_settings = linkage_settings or DEFAULT_SETTINGS
    settings = linkage_settings.training
    u, u_pairs = estimate_u(population, settings)
    rng = np.random.default_rng(settings.seed + 1)
    estimates: dict[str, list[dict[str, float]]] = {name: [] for name in COMPARISONS}
    sessions = []
    session_results = []
    for rule in settings.blocks:
        fixed = {name for column in rule for name in BLOCKED_COMPARISONS[column]}
        if all(estimates[name] for name in COMPARISONS if name not in fixed):
            # A fallback for a block an earlier session had no pairs in.
            sessions.append({"blocking_rule": list(rule), "skipped": "nothing left to estimate"})
            continue
        counted, total = population.block(rule, settings.em_max_pairs, rng)
        if counted.pairs == 0:
            sessions.append(
                {"blocking_rule": list(rule), "pairs_in_block": 0, "skipped": "no pairs"}
            )
            continue
        used = counted.only([name for name in counted.names if name not in fixed])
        # What an earlier session estimated is held at that estimate here.
        held = frozenset(name for name in used.names if estimates[name])
        start = _starting_m() | {name: estimates[name][0] for name in held}
        m, share, iterations, converged, change = _expectation_maximisation(
            used, start, u, settings, held
        )
        estimated = [name for name in used.names if name not in held]
        for name in estimated:
            estimates[name].append(m[name])
        session_results.append((rule, share, total))
        sessions.append(
            {
                "blocking_rule": list(rule),
                "pairs_in_block": total,
                "pairs_used": counted.pairs,
                "estimated": sorted(estimated),
                "iterations": iterations,
                "converged": bool(converged),
                "last_change": float(change),
                **(
                    {}
                    if converged
                    else {
                        "why_not_converged": f"still changing by {change:.2g} after "
                        f"{iterations} iterations (tolerance {settings.em_tolerance:g})"
                    }
                ),
                "share_of_matches": float(share),
                "held": sorted(held),
            }
        )
    # A comparison no session could estimate keeps where EM would have started.
    start = _starting_m()
    m = {
        name: {
            level: float(np.mean([estimate[level] for estimate in estimates[name]]))
            if estimates[name]
            else start[name][level]
            for level in COMPARISONS[name][1:]
        }
        for name in COMPARISONS
    }
    prior, prior_estimates = _prior(len(population), m, session_results)
    return FellegiSunterModel(
        prior=prior,
        m=m,
        u=u,
        household_u=_household_u(population, m, prior, linkage_settings),
        training={
            "profiles": len(population),
            "u_random_pairs": u_pairs,
            "em_sessions": sessions,
            "em_converged": all(session.get("converged", True) for session in sessions),
            "prior_by_session": prior_estimates,
            "seed": settings.seed,
        },
        settings=linkage_settings,
    )


def _prior(
    profiles: int,
    m: dict[str, dict[str, float]],
    session_results: list[tuple[tuple[str, ...], float, int]],
) -> tuple[float, list[float]]:
    """The probability that two random profiles are one child: matches found in each session's
    block, divided by the chance a match falls in that block, over all pairs of profiles."""
    all_pairs = profiles * (profiles - 1) / 2
    estimates = []
    for rule, share, total in session_results:
        chance = 1.0
        for name in {name for column in rule for name in BLOCKED_COMPARISONS[column]}:
            # The block's own level (exact, or full for a postcode); a nickname is blocked too.
            agreeing = [COMPARISONS[name][1]] + (["nickname"] if name == "first_name" else [])
            chance *= sum(m[name][level] for level in agreeing)
        estimates.append(float(share * total / chance / all_pairs))
    if not estimates:
        return 1.0 / max(profiles, 2), estimates
    return float(np.clip(np.mean(estimates), 1e-12, 0.5)), estimates


# The profile column whose equality is each comparison's first agreeing level.
_AGREEMENT_COLUMNS = {
    ("first_name", "exact"): "first_name_std",
    ("last_name", "exact"): "last_name_std",
    ("date_of_birth", "exact"): "dob_text",
    ("postcode", "full"): "postcode_std",
}


def _household_u(
    population: TrainingPopulation,
    m: dict[str, dict[str, float]],
    prior: float,
    linkage_settings: LinkageSettings,
) -> float | None:
    """Probability that two profiles of different children share every household level:
    pairs of profiles that share the values, less the matches expected among them, over all
    pairs of different children (at least half a pair)."""
    levels = linkage_settings.household
    if not levels:
        return None
    unknown = [level for level in levels if level not in _AGREEMENT_COLUMNS]
    if unknown:
        raise ValueError(
            f"household levels {unknown} are not ones the engine can count; "
            f"use some of {sorted(_AGREEMENT_COLUMNS)}"
        )
    sharing = population.sharing([_AGREEMENT_COLUMNS[level] for level in levels])
    all_pairs = len(population) * (len(population) - 1) / 2
    matches = prior * all_pairs
    expected_matches = matches * math.prod(m[name][level] for name, level in levels)
    return max(sharing - expected_matches, 0.5) / max(all_pairs - matches, 1.0)


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
    joint = model.household_weight
    if joint is not None and all(name in levels for name, _ in model.settings.household):
        # A household counted once: the last of its comparisons carries what the two
        # together are worth beyond the others.
        both = np.logical_and.reduce(
            [levels[name] == level_code(name, level) for name, level in model.settings.household]
        )
        *others, (last, _) = model.settings.household
        rest = np.sum([weights[name] for name, _ in others], axis=0)
        weights[last] = np.where(both, joint - rest, weights[last]).astype(np.float32)
    return weights
