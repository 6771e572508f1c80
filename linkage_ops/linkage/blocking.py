"""Candidate pairs: which profiles are worth comparing.

A pair is a candidate when it agrees on every key of at least one blocking rule
(``LinkageSettings.blocking``). Keys are deliberately varied so that several wrong fields at
once do not hide a match: exact values, Soundex codes of names (a typo often keeps the code),
first and last name in either order, initials, and parts of the birth date (a mistyped digit
leaves two of year, month and day intact). Postcodes are used as given when they are not UK
postcodes (sector and district only exist for UK ones).

Which rules run is chosen from the data: a rule too coarse for this population is left out, and
the rest run cheapest first within a pair budget (a key mostly blank in this data is cheap and
kept); the run reports each rule's pairs and fate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np
import pandas as pd

from linkage_ops.linkage.settings import BlockingSettings
from linkage_ops.linkage.standardise import each_distinct, factorised

_SOUNDEX_DIGITS = dict(zip("BFPVCGJKQSXZDTLMNR", "111122222222334556", strict=True))


@cache
def soundex(name: str | None) -> str:
    """American Soundex of a standardised name (``ROBERT`` -> ``R163``); blank stays blank.
    Spaces are ignored, so a double-barrelled surname is coded as one word."""
    if not isinstance(name, str):
        return ""
    letters = [letter for letter in name if "A" <= letter <= "Z"]
    if not letters:
        return ""
    first = letters[0]
    digits = []
    previous = _SOUNDEX_DIGITS.get(first, "")
    for letter in letters[1:]:
        if letter in "HW":  # H and W do not separate letters with the same code
            continue
        digit = _SOUNDEX_DIGITS.get(letter, "")
        if digit and digit != previous:
            digits.append(digit)
        previous = digit  # a vowel separates: the same code after it is written again
    return (first + "".join(digits) + "000")[:4]


def _sorted_pair(left: pd.Series, right: pd.Series) -> np.ndarray:
    """One code per unordered pair of values (names in either order), -1 if either is blank."""
    values = np.concatenate([left.to_numpy(dtype=object), right.to_numpy(dtype=object)])
    codes, uniques = pd.factorize(np.where(values == "", None, values))
    a, b = codes[: len(left)].astype(np.int64), codes[len(left) :].astype(np.int64)
    pair = np.minimum(a, b) * max(len(uniques), 1) + np.maximum(a, b)
    return np.where((a < 0) | (b < 0), -1, pd.factorize(pair)[0]).astype(np.int64)


def _part(values: pd.Series, start: int, stop: int | None = None) -> pd.Series:
    """``value[start:stop]`` for every value, worked out once per distinct value."""
    return each_distinct(values, lambda v: v[start:stop] if isinstance(v, str) else "")


# Keys of two name parts taken in either order (a forename and surname written the other way
# round keep them): the two parts of each.
def _name_parts(profiles: pd.DataFrame, key: str) -> tuple[pd.Series, pd.Series] | None:
    first, last = profiles.first_name_std, profiles.last_name_std
    parts = {
        "names_soundex": lambda: (each_distinct(first, soundex), each_distinct(last, soundex)),
        "names_initials": lambda: (_part(first, 0, 1), _part(last, 0, 1)),
        "names_prefixes": lambda: (_part(first, 0, 2), _part(last, 0, 2)),
    }
    return parts[key]() if key in parts else None


def _key_values(profiles: pd.DataFrame, key: str) -> pd.Series | np.ndarray:
    """One blocking key for every profile: its text or value (missing or blank: no key), or
    its codes."""
    parts = _name_parts(profiles, key)
    if parts is not None:
        return _sorted_pair(*parts)
    dob = profiles.dob_text
    derived = {
        "first_name_soundex": lambda: each_distinct(profiles.first_name_std, soundex),
        "last_name_soundex": lambda: each_distinct(profiles.last_name_std, soundex),
        "birth_year": lambda: _part(dob, 0, 4),
        "dob_year_month": lambda: _part(dob, 0, 6),
        "dob_month_day": lambda: _part(dob, 4),
        "dob_year_day": lambda: each_distinct(
            dob, lambda v: v[:4] + v[6:] if isinstance(v, str) else ""
        ),
    }
    if key in derived:
        return derived[key]()
    if key == "sex":
        values = profiles[key].fillna("").astype(str)
        return values.where(values != "U", "")
    return profiles[key]  # a column as it is: missing or blank is no key


def key_text(profiles: pd.DataFrame, key: str) -> pd.Series:
    """One blocking key for every profile as text, blank where it has none: profiles agree on
    the key when their texts are equal and not blank (for an engine that joins on values,
    not on codes)."""
    parts = _name_parts(profiles, key)
    if parts is None:
        values = pd.Series(_key_values(profiles, key), index=profiles.index, dtype=object)
        return values.fillna("")
    a = parts[0].to_numpy(dtype=object)
    b = parts[1].to_numpy(dtype=object)
    text = np.where(a <= b, a + "|" + b, b + "|" + a)
    return pd.Series(np.where((a == "") | (b == ""), "", text), index=profiles.index, dtype=object)


KEYS = (
    "dob_text",
    "birth_year",
    "dob_year_month",
    "dob_month_day",
    "dob_year_day",
    "first_name_canonical",
    "first_name_std",
    "last_name_std",
    "first_name_soundex",
    "last_name_soundex",
    "names_soundex",
    "names_initials",
    "names_prefixes",
    "postcode_std",
    "postcode_sector",
    "postcode_district",
    "sex",
)


@dataclass
class BlockingKeys:
    """Integer codes of each blocking key per profile (-1: blank), worked out on first use."""

    profiles: pd.DataFrame
    _codes: dict[str, np.ndarray] = field(default_factory=dict)
    _rule_keys: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.profiles)

    def codes(self, key: str) -> np.ndarray:
        if key not in KEYS:
            raise ValueError(f"unknown blocking key {key!r}; known keys: {', '.join(KEYS)}")
        if key not in self._codes:
            values = _key_values(self.profiles, key)
            if isinstance(values, pd.Series):  # text, not yet codes
                values = factorised(values)[0]
            self._codes[key] = values
        return self._codes[key]

    def block_key(self, rule: tuple[str, ...]) -> np.ndarray:
        """One integer per profile for the values of the rule's keys; -1 if any is blank.
        Worked out once per rule."""
        if rule not in self._rule_keys:
            key = np.zeros(len(self), dtype=np.int64)
            blank = np.zeros(len(self), dtype=bool)
            span = 1
            for column in rule:
                codes = self.codes(column)
                blank |= codes < 0
                size = int(codes.max(initial=0)) + 1
                if span * size >= 2**62:  # renumber before the product could overflow
                    key = pd.factorize(key)[0].astype(np.int64)
                    span = int(key.max(initial=0)) + 1
                key = key * size + np.maximum(codes, 0)
                span *= size
            self._rule_keys[rule] = np.where(blank, -1, key)
        return self._rule_keys[rule]


def block_pairs(
    keys: BlockingKeys,
    rule: tuple[str, ...],
    max_pairs: int | None = None,
    rng: np.random.Generator | None = None,
    max_block: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of profile rows (left < right) agreeing on every key of ``rule`` (blank never
    agrees); with ``max_block``, only in blocks of at most that many profiles. With
    ``max_pairs``, a random share of profiles is kept so that about that many pairs come back
    (every pair equally likely to be kept). Also returns the number of pairs the rule gives
    (in those blocks) without sampling."""
    group = keys.block_key(rule)
    if max_block is not None:
        group = np.where(_block_sizes(group) <= max_block, group, -1)
    rows = np.flatnonzero(group >= 0)
    if max_pairs is None:  # every pair: their number is how many come back
        left, right = pairs_within_groups(group[rows], rows)
        return left, right, len(left)
    total = _pair_count(group)
    kept = sampled(len(rows), total, max_pairs, rng)
    if kept is not None:
        rows = rows[kept]
    left, right = pairs_within_groups(group[rows], rows)
    return left, right, total


def sampled(
    rows: int, total: int, max_pairs: int | None, rng: np.random.Generator | None = None
) -> np.ndarray | None:
    """Which of the ``rows`` profiles with a key (in profile order) a block of ``total``
    pairs keeps so that about ``max_pairs`` pairs come back; ``None``: all of them."""
    if max_pairs is None or total <= max_pairs:
        return None
    rng = rng or np.random.default_rng(0)
    return rng.random(rows) < math.sqrt(max_pairs / total)


def _pair_count(group: np.ndarray) -> int:
    """Pairs within blocks (-1: no block)."""
    return _pairs_of_sizes(_group_sizes(group))


def _group_sizes(group: np.ndarray) -> np.ndarray:
    """How many profiles each block holds (-1: no block)."""
    return pd.Series(group[group >= 0]).value_counts(sort=False).to_numpy(dtype=np.int64)


def _pairs_of_sizes(sizes: np.ndarray, max_block: int | None = None) -> int:
    """Pairs within blocks of these sizes; with ``max_block``, only in blocks of at most that
    many profiles."""
    if max_block is not None:
        sizes = sizes[sizes <= max_block]
    return int((sizes * (sizes - 1) // 2).sum())


def _block_sizes(group: np.ndarray) -> np.ndarray:
    """Per profile, how many profiles its block holds (0: no block)."""
    codes, _ = pd.factorize(group)
    return np.where(group >= 0, np.bincount(codes)[codes], 0)


def pairs_within_groups(group: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of ``rows`` (smaller first) that share a ``group`` value."""
    # Any order within a group gives the same pairs: the unstable sort is several times faster.
    order = np.argsort(group)
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


def unique_pairs(lefts: list[np.ndarray], rights: list[np.ndarray], n: int) -> np.ndarray:
    """Distinct (left, right) pairs as an array of shape (pairs, 2), sorted."""
    if not lefts:
        return np.zeros((0, 2), dtype=np.int64)
    keys = np.sort(pd.unique(np.concatenate(lefts) * n + np.concatenate(rights)))
    return np.stack([keys // n, keys % n], axis=1)


@dataclass
class RuleReport:
    rule: tuple[str, ...]
    pairs: int
    used: bool
    reason: str
    # Used only in its blocks of at most this many profiles (a rule too coarse as a whole).
    max_block: int | None = None


@dataclass
class Candidates:
    """The candidate pairs, shape (pairs, 2), and what each rule contributed."""

    pairs: np.ndarray
    rules: list[RuleReport]

    def report(self) -> list[dict[str, object]]:
        return rules_report(self.rules)


def rules_report(rules: list[RuleReport]) -> list[dict[str, object]]:
    """What each blocking rule contributed, as the run's summary reports it."""
    return [
        {"rule": " & ".join(r.rule), "pairs": r.pairs, "used": r.used, "reason": r.reason}
        for r in rules
    ]


def choose_rules(keys: BlockingKeys, settings: BlockingSettings) -> list[RuleReport]:
    """Which rules run on these profiles (reported in the settings' order); see
    ``choose_within_budget``."""
    return _chosen_pairs(keys, settings)[0]


class FoundPairs(Protocol):
    """The distinct pairs of the rules chosen so far (``choose_within_budget``)."""

    def add(self, rule: tuple[str, ...], max_block: int | None) -> None:
        """Add the rule's pairs (in blocks of at most ``max_block`` profiles, if given; their
        number is already known)."""
        ...

    def distinct(self) -> int:
        """How many distinct pairs the rules added so far give."""
        ...

    def add_new(self, rule: tuple[str, ...], room: int, max_block: int | None) -> int | None:
        """The number of the rule's pairs (in blocks of at most ``max_block`` profiles, if
        given) not found yet, and add them, if it is at most ``room``; ``None`` (and nothing
        added) if it is more."""
        ...


@dataclass(frozen=True)
class Counted:
    """A rule's pairs on this data: in all its blocks, and in its small blocks (those of at
    most ``BlockingSettings.max_block_profiles`` profiles)."""

    rule: tuple[str, ...]
    pairs: int
    small_block_pairs: int


def choose_within_budget(
    counted: list[Counted],
    profiles: int,
    settings: BlockingSettings,
    found: FoundPairs,
) -> list[RuleReport]:
    """The rules that run on these profiles (``counted``: each rule of the settings, in their
    order, with its number of pairs); ``found`` collects their pairs.

    A rule giving more than ``max_rule_pairs_per_profile`` pairs per profile is too coarse for
    this population as a whole: it runs only in its blocks of at most ``max_block_profiles``
    profiles (a rare name and birth year tell a lot; a common one is left to finer rules), so
    that a bigger population keeps the pairs it finds among rare values. Of the rest, the
    cheapest go first while the distinct pairs found stay within ``max_pairs_per_profile`` per
    profile (or ``min_pairs``, if more): as many rules as the budget allows. The budget counts
    pairs the model will score, so a rule is charged only for the pairs no earlier rule found
    (rules overlap: most pairs two names and a birth date agree on are found by several). A
    rule whose keys include every key of a rule used in full adds no pair and is reported as
    within it."""
    n = max(profiles, 1)
    budget = max(settings.max_pairs_per_profile * n, settings.min_pairs)
    cap = settings.max_rule_pairs_per_profile * n
    small = settings.max_block_profiles
    reports: dict[tuple[str, ...], RuleReport] = {}
    spent = 0  # distinct pairs found so far, or an upper bound of them while ``exact`` is false
    exact = True
    runs = []  # (rule, pairs it runs with, max_block)
    for item in counted:
        if item.pairs <= cap:
            runs.append((item, item.pairs, None))
        elif small is not None and 0 < item.small_block_pairs <= cap:
            runs.append((item, item.small_block_pairs, small))
        else:
            reports[item.rule] = RuleReport(
                item.rule, item.pairs, False, f"too coarse (over {cap:,.0f} pairs)"
            )
    for item, pairs, max_block in sorted(runs, key=lambda run: run[1]):
        rule, total = item.rule, item.pairs
        if spent + pairs > budget:
            # Charge the rule only for what is new.
            if not exact:
                spent, exact = found.distinct(), True
            new = found.add_new(rule, budget - spent, max_block)
            if new is None:
                reports[rule] = RuleReport(
                    rule, total, False, f"over the pair budget ({budget:,.0f} pairs)"
                )
                continue
            spent += new
        else:
            found.add(rule, max_block)
            spent += pairs
            exact = False
        reason = "used"
        if max_block is not None:
            reason = (
                f"too coarse as a whole (over {cap:,.0f} pairs); used in its blocks of at most "
                f"{max_block} profiles ({pairs:,} pairs)"
            )
        reports[rule] = RuleReport(rule, total, True, reason, max_block)
    # A used rule whose keys include all of another rule used in full finds nothing new.
    used = [rule for rule, report in reports.items() if report.used]
    whole = [rule for rule in used if reports[rule].max_block is None]
    for rule in used:
        wider = next((other for other in whole if other != rule and set(other) < set(rule)), None)
        if wider is not None:
            reports[rule] = RuleReport(
                rule, reports[rule].pairs, False, f"within {' & '.join(wider)}"
            )
    return [reports[item.rule] for item in counted]


@dataclass
class _FoundCodes:
    """``FoundPairs`` as arrays of ``left * n + right``."""

    keys: BlockingKeys
    found: list[np.ndarray] = field(default_factory=list)
    # Whether ``found`` is one sorted array of distinct pairs.
    compact: bool = True

    def _codes(self, rule: tuple[str, ...], max_block: int | None) -> np.ndarray:
        left, right, _ = block_pairs(self.keys, rule, max_block=max_block)
        return left * max(len(self.keys), 1) + right

    def add(self, rule: tuple[str, ...], max_block: int | None) -> None:
        self.found.append(self._codes(rule, max_block))
        self.compact = False

    def distinct(self) -> int:
        # Kept sorted, so that membership is a binary search (hashing ten million pairs is not).
        if not self.compact:
            self.found = [_sorted_unique(np.concatenate(self.found))] if self.found else []
            self.compact = True
        return len(self.found[0]) if self.found else 0

    def add_new(self, rule: tuple[str, ...], room: int, max_block: int | None) -> int | None:
        return self.merge(self._codes(rule, max_block), room)

    def merge(self, codes: np.ndarray, room: int | None = None) -> int | None:
        """Add the ``codes`` not yet found, unless there are more than ``room`` of them
        (then nothing is added and ``None`` returned); returns how many were added."""
        self.distinct()
        found = self.found[0] if self.found else np.zeros(0, dtype=np.int64)
        # Two sorted runs: the stable sort merges them in one pass, and a pair found before
        # (or given twice) sits next to itself.
        merged = np.sort(np.concatenate([found, np.sort(codes)]), kind="stable")
        if len(merged):
            merged = merged[np.r_[True, merged[1:] != merged[:-1]]]
        added = len(merged) - len(found)
        if room is not None and added > room:
            return None
        self.found = [merged]
        return added

    def codes(self) -> np.ndarray:
        """The distinct pairs found, sorted."""
        self.distinct()
        return self.found[0] if self.found else np.zeros(0, dtype=np.int64)


def _chosen_pairs(
    keys: BlockingKeys, settings: BlockingSettings
) -> tuple[list[RuleReport], _FoundCodes]:
    """The rules that run on these profiles (``choose_within_budget``), and their distinct
    pairs as ``left * n + right``."""
    counted = []
    for rule in settings.rules:
        sizes = _group_sizes(keys.block_key(rule))
        counted.append(
            Counted(
                rule, _pairs_of_sizes(sizes), _pairs_of_sizes(sizes, settings.max_block_profiles)
            )
        )
    found = _FoundCodes(keys)
    return choose_within_budget(counted, len(keys), settings, found), found


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (by sorting: NumPy's hashed unique is slower on millions)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def candidate_pairs(keys: BlockingKeys, settings: BlockingSettings) -> Candidates:
    """Profile row pairs (left < right) that agree on every key of a chosen blocking rule."""
    rules, found = _chosen_pairs(keys, settings)
    n = max(len(keys), 1)
    if settings.day_month_swap:
        left, right = _day_month_swapped(keys)
        found.merge(left * n + right)
    codes = found.codes()
    return Candidates(np.stack([codes // n, codes % n], axis=1), rules)


def _day_month_swapped(keys: BlockingKeys) -> tuple[np.ndarray, np.ndarray]:
    """A day/month swap puts the same child under another birthday: join the swapped date to
    the plain one at the same postcode."""
    profiles = keys.profiles
    dates, _ = pd.factorize(
        pd.concat([profiles.dob_text, profiles.dob_swapped_text], ignore_index=True)
    )
    plain_date, swapped_date = dates[: len(profiles)], dates[len(profiles) :]
    postcode = keys.codes("postcode_std")
    blank = np.flatnonzero((profiles.dob_swapped_text == "").to_numpy())
    swapped_date = swapped_date.copy()
    swapped_date[blank] = -1
    plain = np.flatnonzero((plain_date >= 0) & (postcode >= 0))
    swapped = np.flatnonzero((swapped_date >= 0) & (postcode >= 0))
    joined = pd.DataFrame(
        {"row_s": swapped, "day": swapped_date[swapped], "postcode": postcode[swapped]}
    ).merge(pd.DataFrame({"row": plain, "day": plain_date[plain], "postcode": postcode[plain]}))
    joined = joined[joined.row != joined.row_s]
    left = np.minimum(joined.row, joined.row_s).to_numpy(dtype=np.int64)
    right = np.maximum(joined.row, joined.row_s).to_numpy(dtype=np.int64)
    return left, right
