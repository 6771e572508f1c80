"""``make demo``: generate a synthetic authority, materialise every asset, say what was built.

Runs through the real Dagster instance (``DAGSTER_HOME``), so every run also shows in
``make ui``. Each source's periods are discovered in the landing folder and added as dynamic
partitions; one source failing does not stop the others.
"""

import argparse
import json
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from linkage_ops.census_calendar import collection_year_end
from linkage_ops.death_notifications import NOTIFICATIONS_TABLE
from linkage_ops.publish import AUDIENCES, MANIFEST
from linkage_ops.synthetic import generate_authority
from orchestration.definitions import defs
from orchestration.resources import WarehouseResource
from orchestration.runner import PeriodRun, ingest_landing_folder, refresh_warehouse
from orchestration.sources.freshness import evaluate_freshness

WAREHOUSE_SCHEMAS = (
    "raw",
    "reference",
    "staging",
    "intermediate",
    "linkage",
    "marts",
    "restricted",
)


def describe_warehouse(database_path: Path, model_path: Path) -> None:
    """Print every table and view the pipeline built, with row counts."""
    con = duckdb.connect(str(database_path), read_only=True)
    try:
        objects = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_schema in ({}) order by 1, 2".format(
                ", ".join(f"'{schema}'" for schema in WAREHOUSE_SCHEMAS)
            )
        ).fetchall()
        print(f"\nWarehouse: {database_path}")
        print(f"  {'table':<56} {'kind':<6} {'rows':>9}")
        for schema, name, kind in objects:
            rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            label = "view" if kind == "VIEW" else "table"
            print(f"  {schema + '.' + name:<56} {label:<6} {rows:>9,}")
        loads = con.execute(
            "select source, count(distinct period), min(period), max(period), "
            "string_agg(distinct collection_year, ', ' order by collection_year), "
            "sum(rows_read) filter (where outcome = 'loaded'), "
            "sum(rows_loaded) filter (where outcome = 'loaded'), sum(rows_rejected), "
            "sum(values_flagged), count(*) filter (where outcome = 'unmodelled'), "
            "count(*) filter (where outcome = 'failed') "
            "from raw.load_log group by 1 order by 1"
        ).fetchall()
        print(
            "\nLoaded per source (rows quarantined are in raw.quarantine with file, row, reason;"
            "\nfiles no table models are kept in raw.unmodelled_rows / raw.unmodelled_elements):"
        )
        print(
            f"  {'source':<20} {'periods':<28} {'schema':<8} {'rows read':>10} {'loaded':>10} "
            f"{'quarantined':>11} {'flagged':>8} {'unmodelled':>10} {'failed':>6}"
        )
        for row in loads:
            source, count, first, last, years, read, loaded, rejected, flagged = row[:9]
            unmodelled, failed = row[9:]
            periods = f"{count} ({first}..{last})" if count > 1 else first
            print(
                f"  {source:<20} {periods:<28} {years:<8} {read or 0:>10,} {loaded or 0:>10,} "
                f"{rejected:>11,} {flagged:>8,} {unmodelled:>10,} {failed:>6,}"
            )
        evaluation = con.execute(
            "select precision, recall, f1, records from linkage.linkage_evaluation"
        ).fetchone()
        persons = con.execute(
            "select count(distinct person_key) from linkage.person_key_bridge"
        ).fetchone()[0]
        print(
            f"\nLinkage: {evaluation[3]:,} records -> {persons:,} children; against the "
            f"synthetic truth: precision {evaluation[0]:.4f}, recall {evaluation[1]:.4f}, "
            f"F1 {evaluation[2]:.4f}"
        )
        for kind, cause, pairs in con.execute(
            "select error_kind, cause, record_pairs from linkage.linkage_errors_by_cause "
            "order by error_kind, record_pairs desc limit 12"
        ).fetchall():
            print(f"  {kind.replace('_', ' ')}: {cause.replace('_', ' ')} {pairs:,} record pairs")
        queue = con.execute("select count(*) from linkage.review_queue").fetchone()[0]
        print(f"  {queue:,} candidate pairs wait for review in linkage.review_queue")
        try:
            sent, backlog = con.execute(
                f"select count(*) filter (where sent), count(*) filter (where not sent) "
                f"from {NOTIFICATIONS_TABLE}"
            ).fetchone()
        except duckdb.CatalogException:
            sent = backlog = 0  # no refresh has reached the notifications yet
        print(
            f"  Deaths: {sent:,} notified to the services holding the child, {backlog:,} "
            f"older ones recorded without a notification ({NOTIFICATIONS_TABLE}); all on "
            "the restricted do_not_contact list"
        )
        prior_weight, strongest, weakest = con.execute(
            "select any_value(prior_weight), "
            "arg_max(comparison || ' ' || level || ' ' || round(weight, 1), weight), "
            "arg_min(comparison || ' ' || level || ' ' || round(weight, 1), weight) "
            "from linkage.model_parameters"
        ).fetchone()
        print(
            f"  Fellegi-Sunter model (u by random sampling, m by EM): prior weight "
            f"{prior_weight:.1f}; strongest level {strongest}, weakest {weakest}; "
            f"all levels in linkage.model_parameters and {model_path}"
        )
    finally:
        con.close()


def describe_publication(published_dir: Path) -> None:
    """What BI tools can open now."""
    manifest = published_dir / MANIFEST
    if not manifest.exists():
        print(f"\nNothing published in {published_dir}")
        return
    publication = json.loads(manifest.read_text(encoding="utf-8"))
    print(f"\nPublished ({publication['published_at']}, read-only copies):")
    audiences = {audience.name: audience for audience in AUDIENCES}
    for name, tables in publication["tables"].items():
        audience = audiences[name]
        folder = published_dir / audience.folder
        print(
            f"  {name} ({audience.description}): {folder / audience.database_name} and "
            f"{folder / 'parquet'}/<table>.parquet"
        )
        for table, rows in tables.items():
            print(f"    {table:<40} {rows:>9,} rows")
    spreadsheets = [f for f in publication.get("files", {}).get("marts", []) if f.endswith(".xlsx")]
    for workbook in spreadsheets:
        print(
            f"  aggregate marts for Excel: {published_dir / workbook} (a sheet each, behind a "
            f"contents sheet) and {published_dir / 'csv'}/<mart>.csv"
        )


def describe_quality(
    results: list[dg.ExecuteInProcessResult],
    reports_dir: Path,
    warehouse: WarehouseResource,
    last_year: str,
) -> None:
    """What the checks of these runs found, where their reports are, and which sources are
    overdue at the end of the last collection year."""
    evaluations = [e for result in results for e in result.get_asset_check_evaluations()]
    failed = [e for e in evaluations if not e.passed]
    errors = [e for e in failed if e.severity == dg.AssetCheckSeverity.ERROR]
    print(
        f"\nData quality: {len(evaluations):,} checks ran, {len(evaluations) - len(failed):,} "
        f"passed, {len(failed) - len(errors)} warnings, {len(errors)} errors"
    )
    for evaluation in sorted(failed, key=lambda e: e.asset_key.to_user_string())[:8]:
        seen = evaluation.metadata.get("seen")
        print(
            f"  {evaluation.severity.value.lower():<5} {evaluation.asset_key.to_user_string()} "
            f"{evaluation.check_name}: {seen.value if seen else 'failed'}"
        )
    run_ids = {result.run_id for result in results}
    reports = [path for path in reports_dir.glob("*/*.html") if path.parent.name in run_ids]
    print(
        f"  {len(reports)} HTML reports, newest first in {reports_dir / 'index.html'}: "
        "<run id>/<source>_<period>.html per load, and marts.html for the refresh:"
    )
    print(f"    {reports_dir / results[-1].run_id / 'marts.html'}")
    # The synthetic authority ends with its last collection year; judged against today every
    # source would be overdue. A real authority's freshness checks use today.
    as_at = collection_year_end(last_year)
    overdue = sorted(
        f"{source} {late}"
        for source, (_, late) in evaluate_freshness(warehouse, as_at).items()
        if late
    )
    state = f"{len(overdue)} sources overdue, e.g. {overdue[0]}" if overdue else "all fresh"
    print(
        f"  Freshness at the end of the synthetic authority's last collection year ({as_at}): "
        f"{state} (the landing "
        f"assets' freshness checks judge against today, {date.today()}, as an authority's would)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10_000, help="children a year")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--years", type=int, default=4, help="consecutive collection years, up to 2024-25"
    )
    args = parser.parse_args(argv)

    warehouse: WarehouseResource = defs.resources["warehouse"]
    data_dir = Path(warehouse.data_dir)
    print(
        f"Generating a synthetic authority of about {args.children:,} children a year over "
        f"{args.years} collection year(s) into {data_dir} ...",
        flush=True,
    )
    started = time.monotonic()
    summary = generate_authority(
        children=args.children, seed=args.seed, out_dir=data_dir, years=args.years
    )
    print(
        f"  {summary.children:,} children in {summary.households:,} households over "
        f"{', '.join(summary.years)} ({time.monotonic() - started:.0f} s)"
    )
    for source, count in summary.records.items():
        print(f"  {source:<20} {count:>9,} records in {len(summary.files[source]):>4} files")

    instance = dg.DagsterInstance.get()
    # Run logs (Dagster's and dbt's) go to a file; the console gets one line per run.
    log_path = Path(instance.root_directory) / "demo-runs.log"
    print(f"\nIngesting the landing folder, one run per source (logs in {log_path}) ...")
    failures = []

    def progress(run: PeriodRun) -> None:
        outcome = "loaded" if run.result.success else "FAILED"
        line = f"  {run.source:<20} {run.period:<32} {outcome} (run {run.result.run_id[:8]})"
        print(line, file=sys.__stdout__, flush=True)

    with log_path.open("w") as log, redirect_stdout(log), redirect_stderr(log):
        runs = ingest_landing_folder(defs, instance, warehouse.landing_dir, progress)
    failures += [f"{run.source} {run.period}" for run in runs if not run.result.success]
    periods = sum(len(run.periods) for run in runs)
    print(
        f"  {periods} source periods in {len(runs)} runs, "
        f"{len(runs) - len(failures)} runs succeeded ({time.monotonic() - started:.0f} s so far)"
    )
    print("\nRefreshing staging, linkage and marts ...", flush=True)
    with log_path.open("a") as log, redirect_stdout(log), redirect_stderr(log):
        refresh = refresh_warehouse(defs, instance)
    print(
        f"  refresh_warehouse {'done' if refresh.success else 'FAILED'}  (run {refresh.run_id[:8]},"
        f" {time.monotonic() - started:.0f} s in all)"
    )
    print(f"  dbt's artefacts and logs of its latest builds: {warehouse.dbt_dir / 'runs'}")
    if not refresh.success:
        failures.append("refresh_warehouse")
    describe_quality(
        [run.result for run in runs] + [refresh],
        warehouse.reports_dir,
        warehouse,
        summary.years[-1],
    )
    describe_warehouse(warehouse.database_path, warehouse.model_path)
    describe_publication(warehouse.published_dir)
    if failures:
        print(f"\nFailed: {', '.join(failures)}. See `make ui` for the run logs.", file=sys.stderr)
        return 1
    print("\nDone. `make ui` opens the Dagster UI on http://127.0.0.1:3000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
