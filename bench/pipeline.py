"""Time the first-cut pipeline end to end on a synthetic authority and print the figures.

    .venv/bin/python bench/pipeline.py --children 10000 --years 4

Phases: generating the authority (about ``--children`` children a year over ``--years``
collection years to 2024-25), ingesting every landing period (one run per source), the
refresh (two dbt builds and linkage), and linkage alone re-run on the same records. Prints
wall time per phase, peak memory of this process (dbt runs in its own processes), and pairwise
precision, recall and F1.
"""

import argparse
import os
import resource
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import dagster as dg
import duckdb

from linkage_ops.evaluation import load_truth, pairwise_scores
from linkage_ops.linkage import link_records
from linkage_ops.synthetic import generate_authority
from orchestration.definitions import build_definitions
from orchestration.runner import ingest_landing_folder, refresh_warehouse


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--years", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        timings: dict[str, float] = {}

        start = time.perf_counter()
        summary = generate_authority(
            children=args.children, seed=args.seed, out_dir=data_dir, years=args.years
        )
        timings["generate"] = time.perf_counter() - start

        defs = build_definitions(str(data_dir))
        # Dagster's and dbt's run logs would bury the figures.
        with (
            dg.DagsterInstance.ephemeral() as instance,
            open(os.devnull, "w") as quiet,
            redirect_stdout(quiet),
            redirect_stderr(quiet),
        ):
            start = time.perf_counter()
            runs = ingest_landing_folder(defs, instance, data_dir / "landing")
            timings["ingest"] = time.perf_counter() - start
            assert all(run.result.success for run in runs), "an ingestion run failed"
            periods = sum(len(run.periods) for run in runs)

            start = time.perf_counter()
            refresh = refresh_warehouse(defs, instance)
            timings["refresh (dbt + linkage + dbt)"] = time.perf_counter() - start
            assert refresh.success, "the refresh failed"

        con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
        records = con.execute("select * from intermediate.int_person_records_unioned").df()
        con.close()
        start = time.perf_counter()
        result = link_records(records)
        timings["linkage alone"] = time.perf_counter() - start
        scores = pairwise_scores(
            result.bridge.set_index("record_id").person_key, load_truth(data_dir / "truth")
        )

    print(
        f"children {summary.children:,} over {', '.join(summary.years)}, "
        f"records {len(records):,} {dict(summary.records)}"
    )
    print(f"  {periods} source periods ingested in {len(runs)} runs")
    for phase, seconds in timings.items():
        print(f"  {phase:<32} {seconds:8.1f} s")
    print(f"  identity profiles                {result.summary['profiles']:,}")
    print(f"  candidate pairs scored           {result.summary['candidate_pairs']:,}")
    print(f"  pairs kept (linked, refused, in review) {len(result.pairs):,}")
    print(f"  peak memory of this process      {peak_mib(resource.RUSAGE_SELF):,.0f} MiB")
    print(f"  precision {scores.precision:.4f}  recall {scores.recall:.4f}  F1 {scores.f1:.4f}")


if __name__ == "__main__":
    main()
