"""The match and review thresholds, chosen from the trained model rather than fixed.

A Fellegi-Sunter model says, for every comparison vector (one level per comparison), how likely
it is among pairs of one child (the product of the levels' ``m``) and among pairs of different
children (the product of ``u``). Sorting the vectors by match weight gives, for any threshold,
the model's expected recall (the share of true pairs at or above it) and the expected share of
other pairs above it; with the prior, its expected precision. There are only a few thousand
vectors, so the curves are exact sums, not samples, and a model always gives the same
thresholds (for the same population size, which sets the prior).

- The match threshold is the lowest weight at which the pairs linked are expected to be at
  least ``target_precision`` precise, but never below the weight of ``min_match_probability``:
  the expected precision of everything linked can stay high while the weakest links are coin
  flips, and the model, which takes fields as independent, is overconfident where they are not
  (brothers and sisters share a surname and an address).
- The review threshold is the highest weight below it at which links and reviewed pairs
  together reach ``target_recall`` (never below the weight of ``min_review_probability``): a
  reviewer sees what the model cannot settle and nothing it already knows to be different
  children. But it never rises above the weight of ``always_review_probability`` (even odds):
  a small or clean population's model can expect to reach that recall just below the match
  threshold, and a pair more likely than not one child would then be left apart unseen.

Where the fields are weak (typos everywhere, no identifiers), matches spread over lower weights
and the thresholds follow them down; where fields are strong, they rise.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np

from linkage_ops.linkage.settings import ThresholdSettings


@dataclass(frozen=True)
class ThresholdChoice:
    match_threshold: float
    review_threshold: float
    # How each was set: ``model`` or ``fixed`` (a settings override), ``floor`` when the
    # model's choice was below the settings' floor, ``ceiling`` when the review threshold
    # was above ``always_review_probability``'s weight.
    match_source: str
    review_source: str
    # What the model expects at the chosen thresholds.
    expected_precision: float
    expected_recall: float
    expected_recall_with_review: float

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def _curves(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every comparison vector's match weight (prior included), its probability among matches
    and among non-matches; sorted by weight, highest first. A vector at every household level
    has the household's ``u`` for those levels together (``model.household_u``)."""
    per_comparison = [
        [
            ((comparison, level), model.m[comparison][level], model.u[comparison][level])
            for level in levels
            if level != "missing"
        ]
        for comparison, levels in model.levels.items()
    ]
    household = set(model.settings.household) if model.household_u is not None else set()
    rows = []
    for combination in itertools.product(*per_comparison):
        m = math.prod(item[1] for item in combination)
        if household and household <= {item[0] for item in combination}:
            u = model.household_u * math.prod(
                item[2] for item in combination if item[0] not in household
            )
        else:
            u = math.prod(item[2] for item in combination)
        rows.append((math.log2(m / u), m, u))
    table = np.array(rows)
    order = np.lexsort((-table[:, 1], -table[:, 0]))  # weight, then m: deterministic
    table = table[order]
    return table[:, 0] + model.prior_weight, table[:, 1], table[:, 2]


def expected_curves(model) -> dict[str, np.ndarray]:
    """For each distinct match weight (highest first): expected precision and recall of the
    pairs at or above it."""
    weights, m, u = _curves(model)
    prior = model.prior
    recall = np.cumsum(m) / m.sum()
    false_share = np.cumsum(u) / u.sum()
    precision = prior * recall / (prior * recall + (1 - prior) * false_share)
    # One point per distinct weight: the cumulative values after its last vector.
    last_of_weight = np.r_[np.flatnonzero(np.diff(weights) != 0), len(weights) - 1]
    return {
        "weight": weights[last_of_weight],
        "precision": precision[last_of_weight],
        "recall": recall[last_of_weight],
    }


def weight_of_probability(probability: float) -> float:
    """The match weight of a probability: log2 of its odds."""
    return math.log2(probability / (1 - probability))


def choose_thresholds(model, settings: ThresholdSettings) -> ThresholdChoice:
    """The match and review thresholds for this model (see the module docstring)."""
    curves = expected_curves(model)
    weight, precision, recall = curves["weight"], curves["precision"], curves["recall"]

    def at(threshold: float) -> tuple[float, float]:
        """Expected precision and recall of the pairs at or above ``threshold``."""
        index = np.flatnonzero(weight >= threshold)
        if not len(index):
            return 1.0, 0.0
        return float(precision[index[-1]]), float(recall[index[-1]])

    if settings.match_weight is not None:
        match, match_source = settings.match_weight, "fixed"
    else:
        precise = np.flatnonzero(precision >= settings.target_precision)
        # The lowest weight of the run of precise points from the top.
        top_run = precise[precise == np.arange(len(precise))]
        match = float(weight[top_run[-1]]) if len(top_run) else float(weight[0])
        match_source = "model"
        floor = weight_of_probability(settings.min_match_probability)
        if match < floor:
            match, match_source = floor, "floor"
    if settings.review_weight is not None:
        review, review_source = min(settings.review_weight, match), "fixed"
    else:
        reaching = np.flatnonzero((recall >= settings.target_recall) & (weight < match))
        review = float(weight[reaching[0]]) if len(reaching) else float(weight[-1])
        review_source = "model"
        ceiling = weight_of_probability(settings.always_review_probability)
        if review > ceiling:
            review, review_source = ceiling, "ceiling"
        floor = weight_of_probability(settings.min_review_probability)
        if review < floor:
            review, review_source = floor, "floor"
        review = min(review, match)
    expected_precision, expected_recall = at(match)
    return ThresholdChoice(
        match_threshold=match,
        review_threshold=review,
        match_source=match_source,
        review_source=review_source,
        expected_precision=expected_precision,
        expected_recall=expected_recall,
        expected_recall_with_review=at(review)[1],
    )
