"""Where linkage keeps its output and its memory in the warehouse DuckDB file (schema
``linkage``): the bridge, the scored pairs, the key registry, the key history, and the keys of
records absent from the last run (``absent_record_keys``: one that comes back reclaims its
key)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd

from linkage_ops.linkage.engine import LinkageResult
from linkage_ops.linkage.keys import REGISTRY_COLUMNS, KeyState

SCHEMA = "linkage"


def read_key_state(con: duckdb.DuckDBPyConnection) -> KeyState | None:
    """Each record's key and the key registry as the last run left them, if there was one."""
    tables = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
        ).fetchall()
    }
    if not {"person_key_bridge", "key_registry"} <= tables:
        return None
    # Records absent from the last run keep the key they had (an older warehouse has none).
    absent = (
        f" union all select record_id, person_key from {SCHEMA}.absent_record_keys"
        if "absent_record_keys" in tables
        else ""
    )
    return KeyState(
        record_keys=con.execute(
            f"select record_id, person_key from {SCHEMA}.person_key_bridge{absent}"
        ).df(),
        registry=con.execute(
            f"select {', '.join(REGISTRY_COLUMNS)} from {SCHEMA}.key_registry"
        ).df(),
    )


REVIEW_DECISIONS_DDL = f"""
create table if not exists {SCHEMA}.review_decisions (
    record_id_l varchar not null, record_id_r varchar not null,
    decision varchar not null check (decision in ('match', 'non_match')),
    reviewer varchar, decided_at timestamp default current_timestamp
)"""


def read_review_decisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Reviewers' decisions, oldest first. The table is created empty on first use so that a
    review tool (or a person with SQL) can add rows to it."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(REVIEW_DECISIONS_DDL)
    return con.execute(
        f"select record_id_l, record_id_r, decision from {SCHEMA}.review_decisions "
        "order by decided_at, rowid"
    ).df()


# The review app's table of decision events (webapp/models.py, ReviewDecision): a decision or a
# skip is one row; undoing it sets undone_at. Read here with plain SQL, so linkage needs no Django.
APP_DECISIONS_TABLE = "webapp_reviewdecision"


def read_app_decisions(path: Path) -> pd.DataFrame:
    """The decisions reviewers made in the web app (``<data dir>/app/app.sqlite3``), oldest
    first: per pair, its events that were not undone and are a match or a non-match (a skip
    decides nothing). Empty when the app has never run. Opened read-only, so a refresh never
    blocks a reviewer."""
    columns = ["record_id_l", "record_id_r", "decision"]
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=columns, dtype="string")
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        exists = con.execute(
            "select 1 from sqlite_master where type = 'table' and name = ?", [APP_DECISIONS_TABLE]
        ).fetchone()
        rows = (
            con.execute(
                f"select record_id_l, record_id_r, decision from {APP_DECISIONS_TABLE} "
                "where undone_at is null and decision in ('match', 'non_match') "
                "order by decided_at, id"
            ).fetchall()
            if exists
            else []
        )
    finally:
        con.close()
    return pd.DataFrame(rows, columns=columns, dtype="string")


def write_linkage(con: duckdb.DuckDBPyConnection, result: LinkageResult, run_id: str) -> None:
    """Replace the bridge, pairs, review queue, registry, absent records' keys and model
    parameters, and append this run's key history, atomically."""
    frames = {
        "person_key_bridge": result.bridge.assign(run_id=run_id),
        "match_pairs": result.pairs.assign(run_id=run_id),
        "review_queue": result.review_queue.assign(run_id=run_id),
        "key_registry": result.registry,
        "absent_record_keys": result.absent_record_keys.assign(run_id=run_id),
        "key_history": result.history,
        # With the thresholds the run chose (one value per run, on every row, as the prior).
        "model_parameters": result.model.report().assign(
            prior=result.model.prior,
            prior_weight=result.model.prior_weight,
            match_threshold=float(result.summary["thresholds"]["match_threshold"]),
            review_threshold=float(result.summary["thresholds"]["review_threshold"]),
            run_id=run_id,
        ),
    }
    # Text columns as text even when empty or all blank (a queue with no pair waiting would
    # otherwise become columns of DuckDB's NULL type, which no model can cast).
    frames = {
        table: frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})
        for table, frame in frames.items()
    }
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute("begin transaction")
    try:
        for table, frame in frames.items():
            con.register("incoming", frame)
            if table == "key_history":  # history accumulates over runs
                con.execute(
                    f"create table if not exists {SCHEMA}.{table} as select * from incoming limit 0"
                )
                con.execute(f"insert into {SCHEMA}.{table} select * from incoming")
            else:
                con.execute(f"create or replace table {SCHEMA}.{table} as select * from incoming")
            con.unregister("incoming")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def read_state_folder(folder: Path) -> KeyState | None:
    """The key state a previous ``linkage-ops link --state`` left in ``folder``, if any."""
    record_keys, registry = folder / "record_keys.parquet", folder / "key_registry.parquet"
    if not (record_keys.exists() and registry.exists()):
        return None
    return KeyState(record_keys=pd.read_parquet(record_keys), registry=pd.read_parquet(registry))


def read_state_decisions(folder: Path) -> pd.DataFrame | None:
    """``review_decisions.csv`` in a state folder (record_id_l, record_id_r, decision)."""
    path = folder / "review_decisions.csv"
    return pd.read_csv(path, dtype=str) if path.exists() else None


def write_state_folder(folder: Path, result: LinkageResult) -> None:
    """Keep the keys of this run for the next one; the key history accumulates; the review
    queue is written as CSV for a reviewer, whose decisions go in review_decisions.csv; the
    model that weighed the pairs is written as model.json."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text(result.model.to_json(), encoding="utf-8")
    result.review_queue.to_csv(folder / "review_queue.csv", index=False)
    result.key_state().record_keys.to_parquet(folder / "record_keys.parquet")
    result.registry.to_parquet(folder / "key_registry.parquet")
    history_path = folder / "key_history.parquet"
    history = result.history
    if history_path.exists():
        history = pd.concat([pd.read_parquet(history_path), history], ignore_index=True)
    history.to_parquet(history_path)
