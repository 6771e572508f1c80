"""Where linkage keeps its output and its memory in the warehouse DuckDB file (schema
``linkage``): the bridge, the scored pairs, the key registry and the key history."""

from __future__ import annotations

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
    return KeyState(
        record_keys=con.execute(
            f"select record_id, person_key from {SCHEMA}.person_key_bridge"
        ).df(),
        registry=con.execute(
            f"select {', '.join(REGISTRY_COLUMNS)} from {SCHEMA}.key_registry"
        ).df(),
    )


def write_linkage(con: duckdb.DuckDBPyConnection, result: LinkageResult, run_id: str) -> None:
    """Replace the bridge, pairs and registry, and append this run's key history, atomically."""
    frames = {
        "person_key_bridge": result.bridge.assign(run_id=run_id),
        "match_pairs": result.pairs.assign(run_id=run_id),
        "key_registry": result.registry,
        "key_history": result.history,
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


def write_state_folder(folder: Path, result: LinkageResult) -> None:
    """Keep the keys of this run for the next one; the key history accumulates."""
    folder.mkdir(parents=True, exist_ok=True)
    result.bridge[["record_id", "person_key"]].to_parquet(folder / "record_keys.parquet")
    result.registry.to_parquet(folder / "key_registry.parquet")
    history_path = folder / "key_history.parquet"
    history = result.history
    if history_path.exists():
        history = pd.concat([pd.read_parquet(history_path), history], ignore_index=True)
    history.to_parquet(history_path)
