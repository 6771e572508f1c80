"""The review queue as a reviewer sees it: the published queue (restricted marts) less the
pairs already decided in the app, skipped pairs last."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db.models import Q

from webapp import published
from webapp.charts import Step
from webapp.models import ReviewDecision

# The comparisons of linkage_ops.linkage.settings, in the order the model adds them up.
COMPARISONS = ("first_name", "last_name", "date_of_birth", "postcode", "sex")
# The rows of the side-by-side table: (column stem, label).
FIELDS = (
    ("source", "source"),
    ("first_name", "first name"),
    ("middle_names", "middle names"),
    ("last_name", "last name"),
    ("date_of_birth", "date of birth"),
    ("sex", "sex"),
    ("postcode", "postcode"),
    ("nhs_number", "NHS number"),
    ("upn", "UPN"),
    ("la_child_id", "LA child id"),
)


def active_decisions() -> dict[tuple[str, str], ReviewDecision]:
    """The latest decision not undone per pair (either order of the two records)."""
    latest: dict[tuple[str, str], ReviewDecision] = {}
    for decision in ReviewDecision.objects.filter(undone_at__isnull=True).order_by(
        "decided_at", "id"
    ):
        latest[tuple(sorted((decision.record_id_l, decision.record_id_r)))] = decision
    return latest


def waiting_pairs() -> pd.DataFrame:
    """Pairs still to decide, in queue order, skipped pairs after the rest; ``skipped`` says
    which."""
    queue = published.query(
        published.RESTRICTED, "select * from review_queue_pairs order by queue_position"
    )
    decided = active_decisions()
    state = [
        decided.get(tuple(sorted((left, right))))
        for left, right in zip(queue.record_id_l, queue.record_id_r, strict=True)
    ]
    queue["skipped"] = [d is not None and d.decision == ReviewDecision.SKIP for d in state]
    open_pairs = [d is None or d.decision == ReviewDecision.SKIP for d in state]
    return queue[open_pairs].sort_values(["skipped", "queue_position"], kind="stable")


def find_pair(record_id_l: str, record_id_r: str) -> pd.Series | None:
    """A pair of the published queue, whatever has been decided about it."""
    found = published.query(
        published.RESTRICTED,
        "select * from review_queue_pairs where (record_id_l = ? and record_id_r = ?) "
        "or (record_id_l = ? and record_id_r = ?)",
        [record_id_l, record_id_r, record_id_r, record_id_l],
    )
    return None if found.empty else found.iloc[0]


@dataclass(frozen=True)
class FieldRow:
    label: str
    left: str
    right: str
    level: str
    weight: float | None


def side_by_side(pair: pd.Series) -> list[FieldRow]:
    """The pair's fields in rows, with the comparison level and weight where a field has one."""

    def shown(value: object) -> str:
        if value is None or pd.isna(value):
            return ""
        return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)

    return [
        FieldRow(
            label,
            shown(pair[f"{stem}_l"]),
            shown(pair[f"{stem}_r"]),
            shown(pair[f"{stem}_level"]) if stem in COMPARISONS else "",
            float(pair[f"{stem}_weight"]) if stem in COMPARISONS else None,
        )
        for stem, label in FIELDS
    ]


def weight_steps(pair: pd.Series) -> list[Step]:
    """The prior weight, then each comparison's weight with its level: they add up to the
    pair's match weight."""
    return [Step("prior", float(pair.prior_weight), "before any field")] + [
        Step(name.replace("_", " "), float(pair[f"{name}_weight"]), str(pair[f"{name}_level"]))
        for name in COMPARISONS
    ]


def candidate_records(person_keys: list[str]) -> pd.DataFrame:
    """Every record of the children the pair's records belong to now."""
    keys = [key for key in person_keys if isinstance(key, str)]
    if not keys:
        return pd.DataFrame()
    return published.query(
        published.RESTRICTED,
        "select * from review_candidate_records where person_key in "
        f"({', '.join('?' for _ in keys)}) order by person_key, source, period, record_id",
        keys,
    )


def decisions_of_pair(record_id_l: str, record_id_r: str):
    """Every decision event on the pair, newest first."""
    return ReviewDecision.objects.filter(
        Q(record_id_l=record_id_l, record_id_r=record_id_r)
        | Q(record_id_l=record_id_r, record_id_r=record_id_l)
    )
