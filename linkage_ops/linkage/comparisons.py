"""How two identity profiles agree, field by field, as small integer level codes.

Each comparison has ordered levels; a pair takes the first level whose rule it meets. Level 0
is always ``missing`` (either side blank: no evidence either way, weight 0).

- first_name: exact; nickname (both in one group of the nickname table: Bill / William,
  Sammy / Samuel); Jaro-Winkler at or above the ``close`` or ``similar`` cut-off (names of
  three or four letters one typo apart are ``similar`` too: MIA / IMA); ``prefix``
  (one is the other cut short, or its initial); ``swapped`` (one record's first name is the
  other's surname, or both names written the other way round within a typo); different.
- last_name: exact (spaces aside: Mc Donald / McDonald); ``part_or_former`` (a part of a
  double-barrelled name or a former surname is the other's surname); close / similar as
  above, also over the parts; prefix; ``swapped`` (both names the other way round, each
  within a typo: one name crossing is the first name's ``swapped`` alone); different.
- middle_names: exact (all of them); ``shared`` (the first or last of one record's middle names
  is the first or last of the other's, or the whole within a typo: Jaro-Winkler at the
  ``close`` cut-off); different.
- date_of_birth: exact; day and month swapped; ``near`` (one day apart, one digit off, or two
  neighbouring digits transposed); ``year_month``; ``year_only``; different.
- postcode: full; sector; district (UK postcodes only); ``close`` (one character added, dropped,
  changed or two swapped: a typo, in any country's format); different.
- sex: agree; disagree (``U`` counts as missing).

The levels, their order and the cut-offs are data (``settings.DEFAULT_SETTINGS``).

Strings become integer codes once per run (``ProfileColumns``); pairs are compared as arrays,
names through rapidfuzz ``cpdist`` on the pairs that need it, never in a loop over pairs. A
field's levels are worked out once per distinct pair of its values (names, dates and postcodes
repeat across pairs) and spread to every pair that has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Prefix
from rapidfuzz.process import cpdist

from linkage_ops.linkage.settings import DEFAULT_SETTINGS
from linkage_ops.linkage.standardise import (
    each_distinct,
    factorised,
    first_of_each,
    nickname_groups,
)

COMPARISONS: dict[str, tuple[str, ...]] = DEFAULT_SETTINGS.levels
CLOSE_SIMILARITY = DEFAULT_SETTINGS.cut_off("close")
SIMILAR_SIMILARITY = DEFAULT_SETTINGS.cut_off("similar")
# Birth dates are counted in days from the earliest date pandas holds, so that every real date,
# a grandparent's in 1930 included, is a day number >= 0 (-1 is blank).
DAY_ZERO = np.datetime64(pd.Timestamp.min.ceil("D").date(), "D")
# Comparisons whose exact level is adjusted for how common the value is (term frequency).
TERM_FREQUENCY_COMPARISONS = tuple(
    comparison.name for comparison in DEFAULT_SETTINGS.comparisons if comparison.term_frequency
)


def level_code(comparison: str, level: str) -> int:
    return COMPARISONS[comparison].index(level)


def _codes(*series: pd.Series) -> list[np.ndarray]:
    """Factorise several string columns into one shared code space; blank is -1."""
    return _codes_and_values(*series)[0]


def _codes_and_values(*series: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    """``_codes`` and the value each code stands for."""
    codes, uniques = factorised(pd.concat(series, ignore_index=True))
    split = np.cumsum([len(s) for s in series])[:-1]
    return np.split(codes.astype(np.int32), split), uniques


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
    first_initial: np.ndarray  # the first letter's code point (0 if blank)
    last_initial: np.ndarray
    first_length: np.ndarray  # letters (0 if blank)
    last_length: np.ndarray
    canonical_code: np.ndarray
    last_code: np.ndarray
    last_joined_code: np.ndarray  # the surname without its spaces (MC DONALD is MCDONALD)
    last_part_codes: tuple[np.ndarray, np.ndarray]
    former_code: np.ndarray
    middle: np.ndarray  # strings
    middle_code: np.ndarray
    middle_part_codes: tuple[np.ndarray, np.ndarray]  # first and last middle name
    # Pairs of first names that are nicknames or variants of each other, as code-pair keys.
    name_count: int
    variant_pairs: pd.Index
    dob_day: np.ndarray  # days since DAY_ZERO (always >= 0), -1 if missing
    dob_swapped_day: np.ndarray
    dob_text: np.ndarray  # 8-byte YYYYMMDD
    birth_year: np.ndarray
    postcode: np.ndarray  # codes
    postcode_text: np.ndarray  # strings
    sector: np.ndarray
    district: np.ndarray
    sex: np.ndarray  # codes, -1 for U

    @classmethod
    def from_profiles(cls, profiles: pd.DataFrame) -> ProfileColumns:
        part_first, part_last = _first_and_last_parts(profiles.last_name_std)
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
        middle = profiles.middle_names_std
        (middle_code, middle_a, middle_b), _ = _codes_and_values(
            middle, *_first_and_last_parts(middle)
        )

        def days(text: pd.Series) -> np.ndarray:
            """Days since ``DAY_ZERO`` (-1 for blank), worked out once per distinct date."""
            codes, distinct = pd.factorize(text)
            parsed = pd.to_datetime(pd.Series(distinct).replace("", None), format="%Y%m%d")
            day = parsed.to_numpy(dtype="datetime64[D]")
            numbers = np.where(np.isnat(day), -1, (day - DAY_ZERO).astype(np.int64))
            return numbers.astype(np.int32)[codes]

        return cls(
            first=profiles.first_name_std.to_numpy(dtype=object),
            canonical=profiles.first_name_canonical.to_numpy(dtype=object),
            last=profiles.last_name_std.to_numpy(dtype=object),
            last_parts=(part_first.to_numpy(dtype=object), part_last.to_numpy(dtype=object)),
            former=profiles.former_last_name_std.to_numpy(dtype=object),
            first_code=first,
            first_initial=_initials(profiles.first_name_std),
            last_initial=_initials(profiles.last_name_std),
            first_length=each_distinct(profiles.first_name_std, _length).to_numpy(dtype=np.int16),
            last_length=each_distinct(profiles.last_name_std, _length).to_numpy(dtype=np.int16),
            canonical_code=canonical,
            last_code=last,
            last_joined_code=_codes(
                each_distinct(profiles.last_name_std, lambda name: (name or "").replace(" ", ""))
            )[0],
            last_part_codes=(part_a, part_b),
            former_code=former,
            middle=middle.to_numpy(dtype=object),
            middle_code=middle_code,
            middle_part_codes=(middle_a, middle_b),
            name_count=len(names),
            variant_pairs=_variant_pairs(names),
            dob_day=days(profiles.dob_text),
            dob_swapped_day=days(profiles.dob_swapped_text),
            dob_text=profiles.dob_text.to_numpy(dtype="S8"),
            birth_year=profiles.birth_year.to_numpy(dtype=np.int32),
            postcode=postcode,
            postcode_text=profiles.postcode_std.to_numpy(dtype=object),
            sector=sector,
            district=district,
            sex=sex,
        )


def _first_and_last_parts(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The first and last word of each name (a double-barrelled surname, several middle
    names), split once per distinct name."""
    codes, distinct = pd.factorize(names)
    parts = [str(name).split(" ") for name in distinct]
    first = np.array([p[0] for p in parts] + [""], dtype=object)[codes]
    last = np.array([p[-1] for p in parts] + [""], dtype=object)[codes]
    return pd.Series(first), pd.Series(last)


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes equal and not blank."""
    return (a == b) & (a >= 0)


def _once_per_distinct(
    levels_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    left: np.ndarray,
    right: np.ndarray,
    *codes: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """``levels_of(left, right)``, worked out once per distinct combination of ``codes`` (each
    a pair of per-profile code arrays, -1 blank, that the levels depend on alone) and spread
    to every pair. Names, dates and postcodes repeat: a county's five million candidate pairs
    hold under a million distinct pairs of first names."""
    key = None
    for codes_l, codes_r in codes:
        size = int(max(codes_l.max(initial=-1), codes_r.max(initial=-1))) + 2
        pair = (codes_l[left].astype(np.int64) + 1) * size + (codes_r[right] + 1)
        if key is not None:  # two numberings of at most len(left) codes each: no overflow
            pair_codes, pairs = pd.factorize(pair)
            key = pd.factorize(key)[0].astype(np.int64) * len(pairs) + pair_codes
        else:
            key = pair
    which, distinct = pd.factorize(key)
    if len(distinct) == len(key):
        return levels_of(left, right)
    # The first pair of each combination stands for it.
    first = first_of_each(which)
    return levels_of(left[first], right[first])[which]


def _jaro_winkler(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if len(left) == 0:
        return np.zeros(0)
    return cpdist(
        left.tolist(), right.tolist(), scorer=JaroWinkler.normalized_similarity, workers=-1
    )


def _one_is_prefix(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One name is the other cut short (or its initial): the shorter is the common prefix."""
    if len(left) == 0:
        return np.zeros(0, dtype=bool)
    common = cpdist(left.tolist(), right.tolist(), scorer=Prefix.similarity, workers=-1)
    shorter = np.minimum(
        np.fromiter(map(len, left), dtype=np.int64, count=len(left)),
        np.fromiter(map(len, right), dtype=np.int64, count=len(right)),
    )
    return (shorter > 0) & (common == shorter)


def _initials(names: pd.Series) -> np.ndarray:
    """The code point of each name's first letter, 0 where blank."""
    codes, distinct = pd.factorize(names)
    initial = np.array([ord(name[0]) if name else 0 for name in distinct] + [0], dtype=np.int32)
    return initial[codes]


def _length(name: str | None) -> int:
    """A name's length in characters, 0 where blank."""
    return len(name or "")


def _swapped_within_a_typo(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Forename and surname written the other way round, each within a typo (``close``) of the
    other record's: SAMUEL RYAN / RYMAN SAMEL. Only pairs whose initials cross are compared."""
    crossed = np.flatnonzero(
        (p.first_initial[left] > 0)
        & (p.first_initial[right] > 0)
        & (p.first_initial[left] == p.last_initial[right])
        & (p.last_initial[left] == p.first_initial[right])
    )
    swapped = np.zeros(len(left), dtype=bool)
    if len(crossed):
        l_rows, r_rows = left[crossed], right[crossed]
        swapped[crossed] = (_jaro_winkler(p.first[l_rows], p.last[r_rows]) >= CLOSE_SIMILARITY) & (
            _jaro_winkler(p.last[l_rows], p.first[r_rows]) >= CLOSE_SIMILARITY
        )
    return swapped


def _fuzzy_levels(
    whole_l: np.ndarray,
    whole_r: np.ndarray,
    settled: np.ndarray,
    similarity: np.ndarray,
    same_initial: np.ndarray,
    shorter: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """close, similar and prefix for the pairs not ``settled`` by an earlier level (only names
    with the same initial can be one the other cut short; ``shorter``: the shorter name's
    length)."""
    close = similarity >= CLOSE_SIMILARITY
    similar = similarity >= SIMILAR_SIMILARITY
    # One letter added, dropped or changed, or two neighbours swapped, keeps a name of four
    # letters or more at a Jaro-Winkler of 0.83 or above, but not one of three: it counts
    # letters as shared only near their own place (MIA / IMA 0.56, AVA / ZVA 0.78). Names of
    # three letters one typo apart are similar too, and of four (for a cut-off above 0.83);
    # not of a letter or two (AL / ED).
    short = np.flatnonzero(~(settled | similar) & (shorter >= 3) & (shorter < 5))
    if len(short):
        edits = cpdist(
            whole_l[short].tolist(),
            whole_r[short].tolist(),
            scorer=DamerauLevenshtein.distance,
            workers=-1,
        )
        similar[short] = edits <= 1
    prefix = np.zeros(len(similarity), dtype=bool)
    rest = np.flatnonzero(~(settled | similar) & same_initial)
    prefix[rest] = _one_is_prefix(whole_l[rest], whole_r[rest])
    return close, similar, prefix


def _select(conditions: list[np.ndarray], comparison: str, levels: list[str]) -> np.ndarray:
    codes = [level_code(comparison, level) for level in levels]
    # Whatever meets no rule takes the last level (different / disagree).
    last = len(COMPARISONS[comparison]) - 1
    return np.select(conditions, codes, default=last).astype(np.int8)


def _first_name_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    levels = _once_per_distinct(
        lambda l_rows, r_rows: _first_name_agreement(p, l_rows, r_rows),
        left,
        right,
        (p.first_code, p.first_code),
    )
    # Names written the other way round: only where the first names themselves disagree.
    rows = np.flatnonzero(levels == level_code("first_name", "different"))
    l_rows, r_rows = left[rows], right[rows]
    swapped = _equal(p.first_code[l_rows], p.last_code[r_rows])
    swapped |= _equal(p.last_code[l_rows], p.first_code[r_rows])
    swapped |= _swapped_within_a_typo(p, l_rows, r_rows)
    levels[rows[swapped]] = level_code("first_name", "swapped")
    return levels


def _first_name_agreement(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The first name's level from the two first names alone (never ``swapped``)."""
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
    close, similar, prefix = _fuzzy_levels(
        p.first[left],
        p.first[right],
        missing | exact | nickname,
        similarity,
        p.first_initial[left] == p.first_initial[right],
        np.minimum(p.first_length[left], p.first_length[right]),
    )
    return _select(
        [missing, exact, nickname, close, similar, prefix],
        "first_name",
        ["missing", "exact", "nickname", "close", "similar", "prefix"],
    )


def _last_name_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    levels = _once_per_distinct(
        lambda l_rows, r_rows: _last_name_agreement(p, l_rows, r_rows),
        left,
        right,
        (p.last_code, p.last_code),
        (p.former_code, p.former_code),
    )
    # Only both names crossing: one name found in the other's other field (Samuel RYAN / RYAN
    # Jones) is already the first name's ``swapped``, and counted twice it outweighs a
    # different birth date and sex (a brother's record with his names reversed).
    rows = np.flatnonzero(levels == level_code("last_name", "different"))
    swapped = _swapped_within_a_typo(p, left[rows], right[rows])
    levels[rows[swapped]] = level_code("last_name", "swapped")
    return levels


def _last_name_agreement(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The surname's level from the two surnames and former surnames alone (never
    ``swapped``)."""
    ll, lr = p.last_code[left], p.last_code[right]
    missing = (ll < 0) | (lr < 0)
    # Written with and without a space (Mc Donald, De La Cruz, Smith-Jones) is one surname.
    exact = _equal(ll, lr) | _equal(p.last_joined_code[left], p.last_joined_code[right])
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
    close, similar, prefix = _fuzzy_levels(
        p.last[left],
        p.last[right],
        missing | exact | part_or_former,
        similarity,
        p.last_initial[left] == p.last_initial[right],
        np.minimum(p.last_length[left], p.last_length[right]),
    )
    return _select(
        [missing, exact, part_or_former, close, similar, prefix],
        "last_name",
        ["missing", "exact", "part_or_former", "close", "similar", "prefix"],
    )


def _middle_names_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ml, mr = p.middle_code[left], p.middle_code[right]
    missing = (ml < 0) | (mr < 0)
    exact = _equal(ml, mr)
    shared = np.zeros(len(left), dtype=bool)
    for part_l in p.middle_part_codes:
        for part_r in p.middle_part_codes:
            shared |= _equal(part_l[left], part_r[right])
    rest = np.flatnonzero(~(missing | exact | shared))
    shared[rest] = _jaro_winkler(p.middle[left[rest]], p.middle[right[rest]]) >= CLOSE_SIMILARITY
    return _select([missing, exact, shared], "middle_names", ["missing", "exact", "shared"])


def _date_of_birth_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    dl, dr = p.dob_day[left], p.dob_day[right]
    missing = (dl < 0) | (dr < 0)
    text_l = np.frombuffer(p.dob_text[left].tobytes(), dtype=np.uint8).reshape(-1, 8)
    text_r = np.frombuffer(p.dob_text[right].tobytes(), dtype=np.uint8).reshape(-1, 8)
    differ = text_l != text_r
    one_digit_off = differ.sum(axis=1) == 1
    # Two neighbouring digits typed the wrong way round (2012-03-14 / 2012-03-41 is not a
    # date, but 2012-03-12 / 2012-03-21 and 2021 / 2012 are).
    transposed = np.zeros(len(left), dtype=bool)
    two_off = differ.sum(axis=1) == 2
    for i in range(7):
        transposed |= (
            two_off
            & differ[:, i]
            & differ[:, i + 1]
            & (text_l[:, i] == text_r[:, i + 1])
            & (text_l[:, i + 1] == text_r[:, i])
        )
    return _select(
        [
            missing,
            dl == dr,
            _equal(p.dob_swapped_day[left], dr) | _equal(dl, p.dob_swapped_day[right]),
            (np.abs(dl - dr) <= 1) | one_digit_off | transposed,
            ~differ[:, 4:].any(axis=1),
            ~differ[:, :6].any(axis=1),
            p.birth_year[left] == p.birth_year[right],
        ],
        "date_of_birth",
        ["missing", "exact", "day_month_swapped", "near", "month_day", "year_month", "year_only"],
    )


def _postcode_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    missing = (p.postcode[left] < 0) | (p.postcode[right] < 0)
    full = p.postcode[left] == p.postcode[right]
    sector = _equal(p.sector[left], p.sector[right])
    district = _equal(p.district[left], p.district[right])
    # One typo apart, in any country's format (only where nothing above settled it).
    close = np.zeros(len(left), dtype=bool)
    rest = np.flatnonzero(~(missing | full | sector | district))
    if len(rest):
        close[rest] = (
            cpdist(
                p.postcode_text[left[rest]].tolist(),
                p.postcode_text[right[rest]].tolist(),
                scorer=DamerauLevenshtein.distance,
                score_cutoff=2,
                workers=-1,
            )
            <= 1
        )
    return _select(
        [missing, full, sector, district, close],
        "postcode",
        ["missing", "full", "sector", "district", "close"],
    )


def _sex_levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return _select(
        [(p.sex[left] < 0) | (p.sex[right] < 0), p.sex[left] == p.sex[right]],
        "sex",
        ["missing", "agree"],
    )


def _by_code(
    levels_of: Callable[[ProfileColumns, np.ndarray, np.ndarray], np.ndarray],
    codes: Callable[[ProfileColumns], np.ndarray],
) -> Callable[[ProfileColumns, np.ndarray, np.ndarray], np.ndarray]:
    """``levels_of``, worked out once per distinct pair of the values it depends on alone."""

    def levels(p: ProfileColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return _once_per_distinct(
            lambda l_rows, r_rows: levels_of(p, l_rows, r_rows), left, right, (codes(p), codes(p))
        )

    return levels


_LEVEL_FUNCTIONS = {
    "first_name": _first_name_levels,
    "last_name": _last_name_levels,
    "middle_names": _by_code(_middle_names_levels, lambda p: p.middle_code),
    "date_of_birth": _by_code(_date_of_birth_levels, lambda p: p.dob_day),
    "postcode": _by_code(_postcode_levels, lambda p: p.postcode),
    "sex": _sex_levels,
}


def compare(
    p: ProfileColumns, left: np.ndarray, right: np.ndarray, only: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """The level code of every comparison (or of those in ``only``) for each pair
    (``left[i]``, ``right[i]``)."""
    return {
        name: function(p, left, right)
        for name, function in _LEVEL_FUNCTIONS.items()
        if only is None or name in only
    }


def level_names(comparison: str, codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=list(COMPARISONS[comparison]))
