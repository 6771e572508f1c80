"""Stable person keys: a cluster keeps the key its earlier members had.

A person_key is opaque (``P`` and a number from the registry's counter: nothing about the child
can be read from it) and is issued once. On every run the new clusters are matched to the keys
their records carried last time:

- a cluster whose records all had one key keeps it;
- a merge (records of several old keys now in one cluster) keeps the key most of its records
  had (ties: the older key) and retires the others into it;
- a split (records of one old key now in several clusters) leaves the key with the cluster
  holding most of its records; the other clusters get new keys;
- a cluster of records never seen before gets a new key.

Every retirement and every split is written to the key history (old key -> new key, reason,
run). Identical input and state give identical keys.

A record absent from a run (its period withdrawn, or replaced by a bad delivery) is remembered
with the key it last had (``carried_forward``), so when it comes back it reclaims that key
instead of being given a new one while the old key waits, active, with no records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

REGISTRY_COLUMNS = ["person_key", "issued_in_run", "status", "retired_into", "retired_in_run"]
HISTORY_COLUMNS = ["old_person_key", "new_person_key", "reason", "records_moved", "run_id"]


@dataclass
class KeyState:
    """What a run needs from the previous ones: each record's key and the key registry."""

    record_keys: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"record_id": [], "person_key": []}, dtype=str)
    )
    registry: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=REGISTRY_COLUMNS).astype(str)
    )

    @property
    def next_number(self) -> int:
        """One more than the highest key number ever issued."""
        if self.registry.empty:
            return 1
        return int(self.registry.person_key.str[1:].astype(int).max()) + 1


@dataclass
class KeyAssignment:
    """The keys of this run: per cluster, the updated registry, and what changed."""

    cluster_keys: pd.Series  # cluster id -> person_key
    registry: pd.DataFrame
    history: pd.DataFrame


def format_key(number: int) -> str:
    return f"P{number:09d}"


def assign_person_keys(
    clusters: pd.DataFrame, state: KeyState | None, run_id: str
) -> KeyAssignment:
    """Give each cluster a person_key, keeping earlier keys where the records carried them.

    ``clusters`` has one row per record: ``record_id`` and ``cluster`` (any id).
    """
    state = state or KeyState()
    earlier = clusters[["record_id", "cluster"]].merge(
        state.record_keys, on="record_id", how="inner"
    )
    overlap = (
        earlier.groupby(["cluster", "person_key"]).size().rename("records").reset_index()
        if not earlier.empty
        else pd.DataFrame({"cluster": [], "person_key": [], "records": []})
    )
    return keys_of_clusters(overlap, clusters.groupby("cluster").record_id.min(), state, run_id)


def keys_of_clusters(
    overlap: pd.DataFrame, first_record: pd.Series, state: KeyState | None, run_id: str
) -> KeyAssignment:
    """``assign_person_keys`` from what it needs of the records, counted wherever they are:
    ``overlap``, how many records of each cluster had each earlier key (``cluster``,
    ``person_key``, ``records``), and ``first_record``, each cluster's smallest record id."""
    state = state or KeyState()
    overlap = overlap.sort_values(["cluster", "person_key"]).reset_index(drop=True)
    issued_order = {key: position for position, key in enumerate(state.registry.person_key)}
    overlap["issued"] = overlap.person_key.map(issued_order).fillna(len(issued_order))
    # Strongest claims first: the most records, then the oldest key, then the cluster order.
    overlap = overlap.sort_values(
        ["records", "issued", "cluster"], ascending=[False, True, True], kind="stable"
    )
    cluster_keys: dict[object, str] = {}
    kept: set[str] = set()
    for cluster, key in overlap[["cluster", "person_key"]].itertuples(index=False):
        if cluster not in cluster_keys and key not in kept:
            cluster_keys[cluster] = key
            kept.add(key)

    number = state.next_number
    new_keys: list[str] = []
    # Clusters are visited in order of their smallest record id, so keys are reproducible.
    first_record = first_record.sort_index().sort_values(kind="stable")
    for cluster in first_record.index:
        if cluster not in cluster_keys:
            cluster_keys[cluster] = format_key(number)
            new_keys.append(cluster_keys[cluster])
            number += 1

    history_rows = []
    for cluster, key, records in overlap[["cluster", "person_key", "records"]].itertuples(
        index=False
    ):
        new_key = cluster_keys[cluster]
        if key != new_key:
            reason = "split" if key in kept else "merge"
            history_rows.append((key, new_key, reason, int(records), run_id))
    history = pd.DataFrame(history_rows, columns=HISTORY_COLUMNS).sort_values(
        ["old_person_key", "new_person_key"], kind="stable"
    )

    registry = state.registry.copy()
    merged_into = history[history.reason == "merge"].drop_duplicates("old_person_key")
    retiring = registry.person_key.isin(merged_into.old_person_key)
    registry.loc[retiring, "status"] = "retired"
    registry.loc[retiring, "retired_into"] = registry.loc[retiring, "person_key"].map(
        merged_into.set_index("old_person_key").new_person_key
    )
    registry.loc[retiring, "retired_in_run"] = run_id
    issued = pd.DataFrame(
        {
            "person_key": new_keys,
            "issued_in_run": run_id,
            "status": "active",
            "retired_into": None,
            "retired_in_run": None,
        }
    )
    registry = pd.concat([registry, issued], ignore_index=True) if new_keys else registry
    # Explicit text types, so an all-blank column is still text in the warehouse.
    history = history.astype({column: "string" for column in HISTORY_COLUMNS}).astype(
        {"records_moved": "int64"}
    )
    return KeyAssignment(
        cluster_keys=pd.Series(cluster_keys, name="person_key"),
        registry=registry.astype("string").reset_index(drop=True),
        history=history.reset_index(drop=True),
    )


def carried_forward(
    previous: KeyState | None, present: pd.Series, registry: pd.DataFrame
) -> pd.DataFrame:
    """The records of ``previous`` absent from this run (``present``: this run's record ids),
    each with the key it last had, followed through any retirement since into the key that
    replaced it (``registry``: this run's)."""
    if previous is None or previous.record_keys.empty:
        return pd.DataFrame({"record_id": [], "person_key": []}, dtype="string")
    gone = previous.record_keys[~previous.record_keys.record_id.isin(present)]
    retired = registry.dropna(subset=["retired_into"]).set_index("person_key").retired_into
    keys = gone.person_key.astype("string")
    # Retirement chains are short (a merge into a key later merged again); each pass follows
    # one step, and a key is never retired into itself.
    for _ in range(len(retired)):
        moved = keys.map(retired)
        if moved.isna().all():
            break
        keys = moved.fillna(keys)
    return pd.DataFrame(
        {"record_id": gone.record_id.astype("string"), "person_key": keys}
    ).reset_index(drop=True)
