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
    records = pd.read_csv(truth_dir / "records.csv", dtype=str, keep_default_na=False)
    record_id = records["source"] + ":" + records["source_record_id"]
    return pd.Series(records["child_id"].to_numpy(), index=record_id.to_numpy(), name="child_id")
