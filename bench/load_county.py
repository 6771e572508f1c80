"""Generate a county-sized synthetic authority and load every source, printing throughput.

    .venv/bin/python bench/load_county.py --children 250000

For each source: periods, rows read, rows loaded, rows quarantined, seconds and rows per
second through the reader and the raw DuckDB writer (no Dagster). Also the generation time and
the peak memory of the process.
"""

import argparse
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from linkage_ops.ingest import available_sources, landing_periods, load_period
from linkage_ops.synthetic import generate_authority


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="write here instead of a temporary folder")
    args = parser.parse_args()

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
                loads, _ = load_period(con, data_dir / "landing", source, period, run_id="bench")
                figures = totals[source]
                figures[0] += 1
                figures[1] += sum(load.rows_read for load in loads)
                figures[2] += sum(load.rows_loaded for load in loads)
                figures[3] += sum(load.rows_rejected for load in loads)
                figures[4] += time.perf_counter() - start
        con.close()

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
