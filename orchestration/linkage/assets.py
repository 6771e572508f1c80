"""Link every person record to one child and write the bridge the marts join through."""

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model
from dagster_pyspark import LazyPySparkResource

from linkage_ops.engines import warehouse_engine
from linkage_ops.evaluation import (
    error_analysis,
    load_truth,
    load_truth_records,
    pairwise_scores,
)
from linkage_ops.linkage import link_records
from linkage_ops.linkage.store import (
    read_app_decisions,
    read_key_state,
    read_review_decisions,
    write_linkage,
)
from linkage_ops.spark import lake
from orchestration.conditions import REFRESH_WHEN_UPSTREAM_CHANGES
from orchestration.dbt.assets import dbt_staging_and_intermediate
from orchestration.ownership import owners_of, tags_of
from orchestration.resources import WarehouseResource

PERSON_RECORDS = get_asset_key_for_model(
    [dbt_staging_and_intermediate], "int_person_records_unioned"
)
PERSON_RECORDS_TABLE = ("intermediate", "int_person_records_unioned")


BRIDGE = dg.AssetKey(["linkage", "person_key_bridge"])
# The other tables the linkage step writes, each its own asset so that marts can depend on it.
COMPANION_TABLES = {
    "match_pairs": "The scored pairs that explain the bridge, with per-field levels and weights.",
    "review_queue": "Pairs waiting for a reviewer, both records side by side "
    "(decisions come from the review web app, data/app/app.sqlite3, and "
    "linkage.review_decisions).",
    "key_history": "Person keys merged or split, per run (old key, new key, reason).",
    "model_parameters": "The Fellegi-Sunter model trained this run: m, u and weight per "
    "comparison level, and the prior.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            BRIDGE,
            deps=[PERSON_RECORDS],
            description="One row per source record with the person_key of its child. Also "
            "writes the key registry (linkage.key_registry) and the Fellegi-Sunter model trained "
            "this run (linkage.model_parameters and data/linkage/model.json).",
            kinds={"python", warehouse_engine()},
            automation_condition=REFRESH_WHEN_UPSTREAM_CHANGES,
            owners=owners_of("linkage"),
            tags=tags_of("linkage"),
        ),
        *(
            dg.AssetSpec(
                ["linkage", table],
                deps=[PERSON_RECORDS],
                description=description,
                kinds={"python", warehouse_engine()},
                automation_condition=REFRESH_WHEN_UPSTREAM_CHANGES,
                owners=owners_of("linkage"),
                tags=tags_of("linkage"),
            )
            for table, description in COMPANION_TABLES.items()
        ),
    ],
    group_name="linkage",
    name="person_key_bridge",
)
def person_key_bridge(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, spark: LazyPySparkResource
):
    run_id = context.run.run_id
    app_decisions = read_app_decisions(warehouse.app_database)
    with warehouse.connect() as con:
        state = read_key_state(con)
        # The web app's decisions come after the table's: for a pair decided in both, the
        # app's latest decision is the one kept.
        decisions = pd.concat([read_review_decisions(con), app_decisions], ignore_index=True)
        if warehouse_engine() == "spark":
            # The same rules and model, the pairwise work on Spark (linkage_ops.spark.linkage),
            # reading the records dbt built there.
            from linkage_ops.spark.linkage import link_records_spark

            session = spark.spark_session
            records = session.read.parquet(
                str(lake.table_dir(warehouse.spark_dir, *PERSON_RECORDS_TABLE))
            )
            result = link_records_spark(
                session, records, state=state, run_id=run_id, decisions=decisions
            )
        else:
            records = con.execute(
                f"select * from {'.'.join(PERSON_RECORDS_TABLE)} order by record_id"
            ).df()
            result = link_records(records, state=state, run_id=run_id, decisions=decisions)
        write_linkage(con, result, run_id)
    model_path = warehouse.model_path
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_text(result.model.to_json(), encoding="utf-8")
    bridge, pairs, registry, history = (
        result.bridge,
        result.pairs,
        result.registry,
        result.history,
    )

    metadata: dict[str, dg.RawMetadataValue] = {
        "records": len(bridge),
        "dagster/row_count": len(bridge),
        "person_keys": int(bridge.person_key.nunique()),
        "profiles": result.summary["profiles"],
        "candidate_pairs": result.summary["candidate_pairs"],
        "pairs_kept": len(pairs),
        "links": int((pairs.decision == "link").sum()),
        "refused_identifier_conflicts": int((pairs.decision == "identifier_conflict").sum()),
        "review_queue": len(result.review_queue),
        "review_deferred": int(result.summary["review_deferred"]),
        "children_in_review": int(result.summary["children_in_review"]),
        "threshold/match": float(result.summary["thresholds"]["match_threshold"]),
        "threshold/review": float(result.summary["thresholds"]["review_threshold"]),
        "threshold/how_chosen": str(result.summary["thresholds"]["match_source"]),
        "threshold/expected_precision": float(result.summary["thresholds"]["expected_precision"]),
        "threshold/expected_recall": float(result.summary["thresholds"]["expected_recall"]),
        "model/em_converged": bool(result.model.training.get("em_converged", True)),
        "blocking/rules": dg.MetadataValue.md(
            "| rule | pairs | used |\n|---|---|---|\n"
            + "\n".join(
                f"| {rule['rule']} | {rule['pairs']:,} | {rule['reason']} |"
                for rule in result.summary["blocking_rules"]
            )
        ),
        **{f"auto_rules/{rule}": count for rule, count in result.summary["auto_rules"].items()},
        **{f"twins/{name}": value for name, value in result.summary["twins"].items()},
        **{f"seconds/{step}": seconds for step, seconds in result.summary["seconds"].items()},
        **{
            f"unreadable_birth_dates/{source}": count
            for source, count in result.summary["unreadable_birth_dates"].items()
        },
        "keys_issued": int((registry.issued_in_run == run_id).sum()),
        "keys_merged": int((history.reason == "merge").sum()),
        "keys_split": int((history.reason == "split").sum()),
        "model/origin": str(result.summary["model"]),
        "model/prior_weight": result.model.prior_weight,
        "model/json": dg.MetadataValue.path(str(model_path)),
        "model/parameters": dg.MetadataValue.md(result.model.report_markdown()),
        **{
            f"records_by_method/{method}": int(count)
            for method, count in bridge.match_method.value_counts().sort_index().items()
        },
    }
    # Only a synthetic authority has a ground truth; a real one reports no accuracy here.
    if (warehouse.truth_dir / "records.csv").exists():
        truth = load_truth(warehouse.truth_dir)
        scores = pairwise_scores(
            bridge.set_index("record_id").person_key, truth.reindex(bridge.record_id)
        )
        metadata |= {f"evaluation/{name}": value for name, value in scores.as_dict().items()}
        causes = error_analysis(
            bridge.set_index("record_id").person_key,
            load_truth_records(warehouse.truth_dir),
            pd.read_csv(warehouse.truth_dir / "children.csv", dtype=str, keep_default_na=False),
        )
        metadata |= {
            f"evaluation/{kind}/{cause}": count
            for kind, counts in causes.items()
            for cause, count in sorted(counts.items())
        }
        with warehouse.connect() as con:
            con.execute(
                "create or replace table linkage.linkage_evaluation as "
                "select ? as run_id, ? as precision, ? as recall, ? as f1, "
                "? as predicted_pairs, ? as true_pairs, ? as correct_pairs, ? as records",
                [
                    run_id,
                    scores.precision,
                    scores.recall,
                    scores.f1,
                    scores.predicted_pairs,
                    scores.true_pairs,
                    scores.correct_pairs,
                    scores.records,
                ],
            )
            by_cause = pd.DataFrame(
                [
                    (kind, cause, count, run_id)
                    for kind, counts in causes.items()
                    for cause, count in sorted(counts.items())
                ],
                columns=["error_kind", "cause", "record_pairs", "run_id"],
            ).astype({"record_pairs": "int64"})
            con.register("by_cause", by_cause)
            con.execute(
                "create or replace table linkage.linkage_errors_by_cause as select * from by_cause"
            )
    yield dg.MaterializeResult(asset_key=BRIDGE, metadata=metadata)
    rows = {"match_pairs": len(pairs), "review_queue": len(result.review_queue)}
    rows["key_history"] = len(history)
    rows["model_parameters"] = len(result.model.report())
    for table in COMPANION_TABLES:
        yield dg.MaterializeResult(
            asset_key=["linkage", table],
            metadata={"rows_this_run": rows[table], "dagster/row_count": rows[table]},
        )
