"""How two identity profiles agree, field by field, as small integer level codes.

Each comparison has ordered levels; a pair takes the first level whose rule it meets. Level 0
is always ``missing`` (either side blank: no evidence either way, weight 0).

- first_name: exact; nickname (both in one group of the nickname table: Bill / William,
  Sammy / Samuel); Jaro-Winkler >= 0.92
  (``close``) or >= 0.82 (``similar``); ``swapped`` (one record's first name is the other's
  surname); different.
- last_name: exact; ``part_or_former`` (a part of a double-barrelled name or a former surname
  is the other's surname); close / similar as above, also over the parts; swapped; different.
- date_of_birth: exact; day and month swapped; ``near`` (one day apart or one digit off);
  ``year_only``; different.
- postcode: full; sector; district; different.
- sex: agree; disagree (``U`` counts as missing).

Strings become integer codes once per run (``ProfileColumns``); pairs are compared as arrays,
names through rapidfuzz ``cpdist`` on the pairs that need it, never in a loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from linkage_ops.linkage.standardise import nickname_groups

COMPARISONS: dict[str, tuple[str, ...]] = {
    "first_name": ("missing", "exact", "nickname", "close", "similar", "swapped", "different"),
    "last_name": (
        "missing",
        "exact",
        "part_or_former",
        "close",
        "similar",
        "swapped",
        "different",
    ),
    "date_of_birth": ("missing", "exact", "day_month_swapped", "near", "year_only", "different"),
    "postcode": ("missing", "full", "sector", "district", "different"),
    "sex": ("missing", "agree", "disagree"),
}
CLOSE_SIMILARITY = 0.92
SIMILAR_SIMILARITY = 0.82
# Comparisons whose exact level is adjusted for how common the value is (term frequency).
TERM_FREQUENCY_COMPARISONS = ("first_name", "last_name")


def level_code(comparison: str, level: str) -> int:
    return COMPARISONS[comparison].index(level)


def _codes(*series: pd.Series) -> list[np.ndarray]:
    """Factorise several string columns into one shared code space; blank is -1."""
    return _codes_and_values(*series)[0]


def _codes_and_values(*series: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    """``_codes`` and the value each code stands for."""
    values = pd.concat(series, ignore_index=True)
    codes, uniques = pd.factorize(values.where(values != ""))
    codes = codes.astype(np.int32)
    split = np.cumsum([len(s) for s in series])[:-1]
    return np.split(codes, split), pd.Index(uniques)


def _variant_pairs(names: pd.Index) -> pd.Index:
    """Keys (``smaller code * len(names) + larger code``) of every pair of names present that
    share a nickname group."""
    keys = []
    for group in nickname_groups():
        codes = np.unique(names.get_indexer(list(group)))
        codes = codes[codes >= 0]
        left, right = np.triu_indices(len(codes), k=1)
        keys.append(codes[left].astype(np.int64) * len(names) + codes[right])
    return pd.Index(np.unique(np.concatenate(keys)) if keys else [], dtype=np.int64)


@dataclass
class ProfileColumns:
    """The standardised columns of the profiles, as numpy arrays ready for comparison."""

    first: np.ndarray  # strings
    canonical: np.ndarray
    last: np.ndarray
    last_parts: tuple[np.ndarray, np.ndarray]  # first and last part of the surname (strings)
    former: np.ndarray
    first_code: np.ndarray  # int codes in one name code space shared by all name columns
    canonical_code: np.ndarray
    last_code: np.ndarray
    last_part_codes: tuple[np.ndarray, np.ndarray]
    former_code: np.ndarray
    # Pairs of first names that are nicknames or variants of each other, as code-pair keys.
    name_count: int
    variant_pairs: pd.Index
    dob_day: np.ndarray  # days since 1970-01-01, -1 if missing
    dob_swapped_day: np.ndarray
    dob_text: np.ndarray  # 8-byte YYYYMMDD
    birth_year: np.ndarray
    postcode: np.ndarray  # codes
    sector: np.ndarray
    district: np.ndarray
    sex: np.ndarray  # codes, -1 for U

    def codes(self, column: str) -> np.ndarray:
        """Integer codes of a standardised profile column, -1 where it is blank."""
        known = {
            "dob_text": self.dob_day,
            "birth_year": np.where(self.dob_day >= 0, self.birth_year, -1),
            "first_name_canonical": self.canonical_code,
            "last_name_std": self.last_code,
            "postcode_std": self.postcode,
            "postcode_sector": self.sector,
            "postcode_district": self.district,
        }
        return known[column]

    def block_key(self, rule: tuple[str, ...]) -> np.ndarray:
        """One integer per profile for the values of the rule's columns; -1 if any is blank."""
        key = np.zeros(len(self.dob_day), dtype=np.int64)
        blank = np.zeros(len(self.dob_day), dtype=bool)
        for column in rule:
            codes = self.codes(column).astype(np.int64)
            blank |= codes < 0
            key = key * (int(codes.max(initial=0)) + 1) + np.maximum(codes, 0)
            key = pd.factorize(key)[0].astype(np.int64)  # keep the numbers small
        return np.where(blank, -1, key)

    @classmethod
    def from_profiles(cls, profiles: pd.DataFrame) -> ProfileColumns:
        # The first and last part of each surname, split once per distinct surname.
        codes, surnames = pd.factorize(profiles.last_name_std)
        parts = [str(surname).split(" ") for surname in surnames]
        part_first = pd.Series(np.array([p[0] for p in parts] + [""], dtype=object)[codes])
        part_last = pd.Series(np.array([p[-1] for p in parts] + [""], dtype=object)[codes])
        (first, canonical, last, part_a, part_b, former), names = _codes_and_values(
            profiles.first_name_std,
            profiles.first_name_canonical,
            profiles.last_name_std,
            part_first,
            part_last,
            profiles.former_last_name_std,
        )
        postcode, sector, district = (
            _codes(profiles[column])[0]
            for column in ("postcode_std", "postcode_sector", "postcode_district")
        )
        sex = _codes(profiles.sex.where(profiles.sex != "U", ""))[0]

        def days(text: pd.Series) -> np.ndarray:
            """Days since 1970-01-01 (-1 for blank), worked out once per distinct date."""
            codes, distinct = pd.factorize(text)
            parsed = pd.to_datetime(pd.Series(distinct).replace("", None), format="%Y%m%d")
            epoch_days = (parsed - pd.Timestamp("1970-01-01")).dt.days
            return epoch_days.fillna(-1).astype(np.int32).to_numpy()[codes]

        return cls(
            first=profiles.first_name_std.to_numpy(dtype=object),
            canonical=profiles.first_name_canonical.to_numpy(dtype=object),
            last=profiles.last_name_std.to_numpy(dtype=object),
            last_parts=(part_first.to_numpy(dtype=object), part_last.to_numpy(dtype=object)),
            former=profiles.former_last_name_std.to_numpy(dtype=object),
            first_code=first,
            canonical_code=canonical,
            last_code=last,
            last_part_codes=(part_a, part_b),
            former_code=former,
            name_count=len(names),
            variant_pairs=_variant_pairs(names),
            dob_day=days(profiles.dob_text),
            dob_swapped_day=days(profiles.dob_swapped_text),
            dob_text=profiles.dob_text.to_numpy(dtype="S8"),
            birth_year=profiles.birth_year.to_numpy(dtype=np.int32),
            postcode=postcode,
            sector=sector,
            district=district,
            sex=sex,
        )


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes equal and not blank."""
    return (a == b) & (a >= 0)


def _jaro_winkler(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if len(left) == 0:
        return np.zeros(0)
    return cpdist(
        left.tolist(), right.tolist(), scorer=JaroWinkler.normalized_similarity, workers=-1
    )


def _select(conditions: list[np.ndarray], comparison: str, levels: list[str]) -> np.ndarray:
    codes = [level_code(comparison, level) for level in levels]
    # Whatever meets no rule takes the last level (different / disagree).
    last = len(COMPARISONS[comparison]) - 1
    return np.select(conditions, codes, default=last).astype(np.int8)


def _first_name_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    fl, fr = p.first_code[left], p.first_code[right]
    missing = (fl < 0) | (fr < 0)
    exact = _equal(fl, fr)
    nickname = _equal(p.canonical_code[left], p.canonical_code[right])
    # Names in one nickname group (a name may be in several), looked up where still unsettled.
    unsettled = np.flatnonzero(~(missing | exact | nickname))
    a, b = fl[unsettled].astype(np.int64), fr[unsettled].astype(np.int64)
    keys = np.minimum(a, b) * p.name_count + np.maximum(a, b)
    nickname[unsettled] = p.variant_pairs.get_indexer(keys) >= 0
    similarity = np.zeros(len(left))
    fuzzy = ~(missing | exact | nickname)
    if fuzzy.any():
        fuzzy = np.flatnonzero(fuzzy)
        l_rows, r_rows = left[fuzzy], right[fuzzy]
        similarity[fuzzy] = _jaro_winkler(p.first[l_rows], p.first[r_rows])
        # Canonical forms too, where a nickname was resolved on either side.
        resolved = np.flatnonzero(
            (p.canonical_code[l_rows] != fl[fuzzy]) | (p.canonical_code[r_rows] != fr[fuzzy])
        )
        canonical = _jaro_winkler(p.canonical[l_rows[resolved]], p.canonical[r_rows[resolved]])
        similarity[fuzzy[resolved]] = np.maximum(similarity[fuzzy[resolved]], canonical)
    swapped = _equal(fl, p.last_code[right]) | _equal(p.last_code[left], fr)
    return _select(
        [
            missing,
            exact,
            nickname,
            similarity >= CLOSE_SIMILARITY,
            similarity >= SIMILAR_SIMILARITY,
            swapped,
        ],
        "first_name",
        ["missing", "exact", "nickname", "close", "similar", "swapped"],
    )


def _last_name_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ll, lr = p.last_code[left], p.last_code[right]
    missing = (ll < 0) | (lr < 0)
    exact = _equal(ll, lr)
    # Double-barrelled and changed surnames: a part, or a former surname, agreeing.
    part_or_former = _equal(p.former_code[left], lr) | _equal(ll, p.former_code[right])
    for part in p.last_part_codes:
        part_or_former |= _equal(part[left], lr) | _equal(ll, part[right])
    similarity = np.zeros(len(left))
    fuzzy = np.flatnonzero(~(missing | exact | part_or_former))
    l_rows, r_rows = left[fuzzy], right[fuzzy]
    similarity[fuzzy] = _jaro_winkler(p.last[l_rows], p.last[r_rows])
    # Close to a part of a double-barrelled surname, or to a former surname: only the few
    # pairs that have one are compared again.
    multi_part = p.last_parts[0] != p.last_parts[1]
    variants = [(p.last, part, multi_part) for part in p.last_parts]
    variants.append((p.last, p.former, p.former_code >= 0))
    for whole, other, applies in variants:
        for a_rows, b_rows in ((l_rows, r_rows), (r_rows, l_rows)):
            some = np.flatnonzero(applies[a_rows])
            scores = _jaro_winkler(other[a_rows[some]], whole[b_rows[some]])
            similarity[fuzzy[some]] = np.maximum(similarity[fuzzy[some]], scores)
    swapped = _equal(ll, p.first_code[right]) | _equal(p.first_code[left], lr)
    return _select(
        [
            missing,
            exact,
            part_or_former,
            similarity >= CLOSE_SIMILARITY,
            similarity >= SIMILAR_SIMILARITY,
            swapped,
        ],
        "last_name",
        ["missing", "exact", "part_or_former", "close", "similar", "swapped"],
    )


def _date_of_birth_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    dl, dr = p.dob_day[left], p.dob_day[right]
    missing = (dl < 0) | (dr < 0)
    text_l = np.frombuffer(p.dob_text[left].tobytes(), dtype=np.uint8).reshape(-1, 8)
    text_r = np.frombuffer(p.dob_text[right].tobytes(), dtype=np.uint8).reshape(-1, 8)
    one_digit_off = (text_l != text_r).sum(axis=1) == 1
    return _select(
        [
            missing,
            dl == dr,
            _equal(p.dob_swapped_day[left], dr) | _equal(dl, p.dob_swapped_day[right]),
            (np.abs(dl - dr) <= 1) | one_digit_off,
            p.birth_year[left] == p.birth_year[right],
        ],
        "date_of_birth",
        ["missing", "exact", "day_month_swapped", "near", "year_only"],
    )


def _postcode_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return _select(
        [
            (p.postcode[left] < 0) | (p.postcode[right] < 0),
            p.postcode[left] == p.postcode[right],
            _equal(p.sector[left], p.sector[right]),
            _equal(p.district[left], p.district[right]),
        ],
        "postcode",
        ["missing", "full", "sector", "district"],
    )


def _sex_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return _select(
        [(p.sex[left] < 0) | (p.sex[right] < 0), p.sex[left] == p.sex[right]],
        "sex",
        ["missing", "agree"],
    )


_LEVEL_FUNCTIONS = {
    "first_name": _first_name_levels,
    "last_name": _last_name_levels,
    "date_of_birth": _date_of_birth_levels,
    "postcode": _postcode_levels,
    "sex": _sex_levels,
}


def compare(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> dict[str, np.ndarray]:
    """The level code of every comparison for each pair (``left[i]``, ``right[i]``)."""
    return {name: function(p, left, right) for name, function in _LEVEL_FUNCTIONS.items()}


def level_names(comparison: str, codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(COMPARISONS[comparison]))
