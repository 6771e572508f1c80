"""Time the Great Expectations checks on a warehouse's raw tables and print the figures.

    .venv/bin/python bench/quality.py --database data/warehouse.duckdb
    .venv/bin/python bench/quality.py --database /tmp/county/warehouse.duckdb  # load_county.py

For each raw table, its newest period is read from DuckDB and validated against its suite
(derived from the schema of the period's collection year), as the Dagster check does in that
period's load. Prints rows, seconds and findings per table (the
slowest first), the total, and the peak memory of this process.
"""

import argparse
import resource
import time
from pathlib import Path

import duckdb

from linkage_ops.census_calendar import newest_period, source_period_end
from linkage_ops.ingest import available_sources, load_schema
from linkage_ops.quality import period_parameters, raw_suite, validate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("data/warehouse.duckdb"))
    args = parser.parse_args()
    con = duckdb.connect(str(args.database), read_only=True)
    timings = []
    started = time.perf_counter()
    for source in available_sources():
        schema = load_schema(source)
        for table in schema.tables:
            relation = f"raw.{source}__{table}"
            periods = [
                p for (p,) in con.execute(f"select distinct _period from {relation}").fetchall()
            ]
            if not periods:
                continue
            period = newest_period(source, periods)
            year = schema.for_period(period)
            suite = raw_suite(source, year.tables.get(table) or schema.tables[table])
            clock = time.perf_counter()
            frame = con.execute(f"select * from {relation} where _period = ?", [period]).df()
            result = validate(
                frame, suite, None, period_parameters(source_period_end(source, period))
            )
            timings.append((time.perf_counter() - clock, relation, period, result))
    total = time.perf_counter() - started
    print(f"{'table':<46} {'period':<12} {'rows':>10} {'seconds':>8}  findings")
    for seconds, relation, period, result in sorted(timings, key=lambda t: t[0], reverse=True):
        print(
            f"{relation:<46} {period:<12} {result.rows:>10,} {seconds:>8.2f}  "
            f"{len(result.errors)} errors, {len(result.warnings)} warnings"
        )
    rows = sum(result.rows for *_, result in timings)
    print(
        f"\n{len(timings)} tables, {rows:,} rows validated in {total:.1f} s "
        f"({rows / total:,.0f} rows/s); peak memory "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
