"""Generate a county-sized synthetic authority and load every source, printing throughput.

    .venv/bin/python bench/load_county.py --children 250000 [--keep DIR [--dbt]]

With ``--keep DIR --dbt`` the county stays in DIR (landing, truth, warehouse.duckdb) with
staging and the person records built by dbt, ready for ``bench/linkage_vs_splink.py
--warehouse DIR/warehouse.duckdb --truth DIR/truth``.

For each source: periods, rows read, rows loaded, rows quarantined, seconds and rows per
second through the reader and the raw DuckDB writer (no Dagster). Also the generation time and
the peak memory of the process.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from linkage_ops.ingest import available_sources, landing_periods, load_period
from linkage_ops.synthetic import generate_authority
from orchestration.settings import LINKED_MODELS


def build_person_records(database: Path) -> None:
    """dbt seeds, staging and intermediate (with their tests) on the county's DuckDB file."""
    start = time.perf_counter()
    dbt = Path(sys.executable).with_name("dbt")
    project = Path(__file__).resolve().parent.parent / "dbt_project"
    selection = ["path:seeds", "path:models/staging", "path:models/intermediate"]
    subprocess.run(
        [str(dbt), "build", "--quiet", "--select", *selection, "--exclude", LINKED_MODELS],
        cwd=project,
        env=os.environ | {"WAREHOUSE_DUCKDB_PATH": str(database.resolve())},
        check=True,
    )
    print(f"dbt staging and intermediate built in {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write here instead of a temporary folder")
    parser.add_argument(
        "--dbt", action="store_true", help="then build staging and intermediate with dbt"
    )
    args = parser.parse_args()
    if args.dbt and not args.keep:
        parser.error("--dbt needs --keep DIR")

    with tempfile.TemporaryDirectory() as temporary:
        data_dir = args.keep or Path(temporary)
        start = time.perf_counter()
        generate_authority(children=args.children, seed=args.seed, out_dir=data_dir)
        generation = time.perf_counter() - start
        print(f"generated {args.children:,} children in {generation:.1f} s")

        con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
        totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
        for source in available_sources():
            for period in landing_periods(data_dir / "landing", source):
                start = time.perf_counter()
                loads = load_period(
                    con, data_dir / "landing", source, period, run_id="bench"
                ).tables
                figures = totals[source]
                figures[0] += 1
                figures[1] += sum(load.rows_read for load in loads)
                figures[2] += sum(load.rows_loaded for load in loads)
                figures[3] += sum(load.rows_rejected for load in loads)
                figures[4] += time.perf_counter() - start
        con.close()
        if args.dbt:
            build_person_records(data_dir / "warehouse.duckdb")

    print(
        f"{'source':<22}{'periods':>8}{'read':>12}{'loaded':>12}{'quarantined':>12}"
        f"{'seconds':>9}{'rows/s':>10}"
    )
    for source, (periods, read, loaded, rejected, seconds) in totals.items():
        rate = read / seconds if seconds else 0
        print(
            f"{source:<22}{periods:>8}{read:>12,}{loaded:>12,}{rejected:>12,}"
            f"{seconds:>9.1f}{rate:>10,.0f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"peak memory {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
