"""Linkage quality against the synthetic authority's ground truth.

Pairwise measures: a pair of records is a true link when both belong to the same child, and a
predicted link when both carry the same person_key. Counting pairs per group avoids building
the pairs themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise precision, recall and F1 with the counts behind them."""

    precision: float
    recall: float
    f1: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    records: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(group_sizes: pd.Series) -> int:
    sizes = group_sizes.astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> PairwiseScores:
    """Score predicted clusters against true ones.

    ``predicted`` and ``truth`` are indexed by record id (person_key and child id as values).
    Only records present in both are scored; a record missing from either is an error.
    """
    missing = predicted.index.symmetric_difference(truth.index)
    if len(missing):
        raise ValueError(f"{len(missing)} records are not in both predictions and truth")
    frame = pd.DataFrame({"predicted": predicted, "truth": truth.reindex(predicted.index)})
    predicted_pairs = _pairs(frame.groupby("predicted").size())
    true_pairs = _pairs(frame.groupby("truth").size())
    correct_pairs = _pairs(frame.groupby(["predicted", "truth"]).size())
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(
        precision=precision,
        recall=recall,
        f1=f1,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        correct_pairs=correct_pairs,
        records=len(frame),
    )


def load_truth(truth_dir: Path) -> pd.Series:
    """The true child of every record, indexed by warehouse record id
    (``<source>:<source_record_id>``), from ``truth/records.csv``."""
    return load_truth_records(truth_dir)["child_id"]


# When a record went unlinked, the first of these errors it carries is named as the cause.
MISSED_LINK_CAUSES = (
    "nhs_number_pseudonymised",
    "missing_nhs_number",
    "nhs_number_invalid",
    "missing_upn",
    "upn_wrong_check_letter",
    "surname_change",
    "hyphenation_variant",
    "names_swapped",
    "forename_nickname",
    "dob_day_month_swap",
    "dob_digit_off",
    "dob_one_day_off",
    "forename_typo",
    "surname_typo",
    "stale_postcode",
    "postcode_typo",
)


def load_truth_records(truth_dir: Path) -> pd.DataFrame:
    """``truth/records.csv`` indexed by warehouse record id, with child_id and errors."""
    records = pd.read_csv(truth_dir / "records.csv", dtype=str, keep_default_na=False)
    records.index = records["source"] + ":" + records["source_record_id"]
    return records[["child_id", "errors"]]


def error_analysis(
    predicted: pd.Series, truth_records: pd.DataFrame, children: pd.DataFrame
) -> dict[str, dict[str, int]]:
    """Count wrong links and missed links (in record pairs) by cause.

    ``predicted``: person_key by record id; ``truth_records``: child_id and errors by record id
    (``load_truth_records``); ``children``: ``truth/children.csv`` (child_id, household_id,
    twin_of). A false merge is a pair of records of two children under one key, named by how
    the children are related (twins, siblings, unrelated). A missed link is a pair of records
    of one child under two keys, named by the first error in ``MISSED_LINK_CAUSES`` carried by
    the records outside the child's largest fragment.
    """
    frame = truth_records.reindex(predicted.index).assign(person_key=predicted)
    family = children.set_index("child_id")
    false_merges: dict[str, int] = {}
    mixed = frame.groupby("person_key").child_id.nunique()
    for person_key in mixed[mixed > 1].index:
        sizes = frame[frame.person_key == person_key].child_id.value_counts()
        ids = list(sizes.index)
        for i, first in enumerate(ids):
            for second in ids[i + 1 :]:
                if family.twin_of.get(first, "") == second:
                    cause = "twins"
                elif family.household_id.get(first) == family.household_id.get(second):
                    cause = "siblings"
                else:
                    cause = "unrelated"
                false_merges[cause] = false_merges.get(cause, 0) + int(sizes[first] * sizes[second])

    missed: dict[str, int] = {}
    split = frame.groupby("child_id").person_key.nunique()
    for child_id in split[split > 1].index:
        records = frame[frame.child_id == child_id]
        fragments = records.person_key.value_counts()
        total = int(fragments.sum())
        for person_key, size in fragments.iloc[1:].items():
            errors = set(";".join(records[records.person_key == person_key].errors).split(";"))
            cause = next((c for c in MISSED_LINK_CAUSES if c in errors), "no recorded error")
            # Pairs between this fragment and the rest of the child's records.
            missed[cause] = missed.get(cause, 0) + int(size * (total - size))
            total -= int(size)
    return {"false_merges": false_merges, "missed_links": missed}
