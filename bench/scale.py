"""Both linkage engines on growing numbers of person records: where Spark starts to pay.

    .venv/bin/python bench/scale.py [--sizes 100000 1000000 3000000] [--work /tmp/scale]

Person records come from the independent generator (``linkage_ops.synthetic.independent_people``,
preset moderate, about 60% of records with an NHS number), written once per size under
``--work``. Each engine links each size in a process of its own, so that its peak memory is its
own: the DuckDB engine (``linkage_ops.linkage.link_records``, pandas and NumPy in one process)
and the Spark engine (``linkage_ops.spark.linkage.link_records_spark`` on local Spark, the
machine's cores; its peak is the Python driver's and the JVM's together, sampled twice a
second). Prints wall time, peak memory and pairwise precision, recall and F1 per size and
engine, and how cost grows from one size to the next (the exponent b of time ~ records^b).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from linkage_ops.evaluation import pairwise_scores

ENGINES = ("duckdb", "spark")
PEOPLE_PER_RECORD = 0.437  # the generator writes about 2.3 records per person


def dataset(work: Path, records: int) -> Path:
    """Person records for one size (generated once)."""
    path = work / f"people_{records}.csv"
    if not path.exists():
        people = max(1, round(records * PEOPLE_PER_RECORD))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "linkage_ops.synthetic.independent_people",
                "--people",
                str(people),
                "--seed",
                "18",
                "--preset",
                "moderate",
                "--identifiers",
                "--out",
                str(path),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def read_records(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    # In record_id order, as the warehouse hands records to linkage (ties break by it).
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).sort_values("record_id")
    truth = frame.set_index("record_id").truth
    records = frame.drop(columns=["truth", "errors"]).replace("", None)
    return records, truth


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (the JVM is the Python's child)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, total = {root}, 0
    for _ in range(8):  # a few generations deep is enough (python -> java)
        tree |= {pid for pid, parent in parents.items() if parent in tree}
    for pid in tree:
        total += rss.get(pid, 0)
    return total


class PeakMemory:
    """Samples this process tree's resident memory twice a second; ``peak`` is the largest."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def link_one(engine: str, path: Path) -> dict[str, object]:
    """Link one data set with one engine (in this process) and score it."""
    with PeakMemory() as memory:
        result = _link_one(engine, path)
    return result | {"peak_gb": memory.peak / 2**30}


def _link_one(engine: str, path: Path) -> dict[str, object]:
    records, truth = read_records(path)
    start = time.perf_counter()
    if engine == "duckdb":
        from linkage_ops.linkage import link_records

        result = link_records(records)
    else:
        from linkage_ops.spark import lake
        from linkage_ops.spark.linkage import link_records_spark
        from linkage_ops.spark.session import spark_session

        with tempfile.TemporaryDirectory() as spark_dir, spark_session(Path(spark_dir)) as spark:
            frame = lake.text_frame(spark, records)
            result = link_records_spark(spark, frame)
    seconds = time.perf_counter() - start
    bridge = result.bridge.set_index("record_id").person_key
    scores = pairwise_scores(bridge, truth.reindex(bridge.index))
    return {
        "seconds": seconds,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "records": len(records),
        "children": int(bridge.nunique()),
    }


def measure(engine: str, path: Path) -> dict[str, object]:
    """``link_one`` in a fresh process (its peak memory includes the JVM's, for Spark)."""
    wall = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--one", engine, str(path)],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONHASHSEED": "0"},
    )
    wall = time.perf_counter() - wall
    if done.returncode != 0:
        # The first exception named (a JVM's is followed by its whole stack), else the last line.
        lines = done.stderr.strip().splitlines() or ["no output"]
        named = [line for line in lines if "Error" in line or "Exception" in line]
        return {"error": (named or lines[-1:])[0].strip()[:300], "wall": wall}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 3_000_000])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scale")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(link_one(args.one[0], Path(args.one[1]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    print(
        f"{'records':>10} {'engine':>7} {'linkage s':>10} {'process s':>10} {'peak GB':>8} "
        f"{'P':>7} {'R':>7} {'F1':>7}"
    )
    rows = []
    for size in args.sizes:
        path = dataset(args.work, size)
        for engine in args.engines:
            result = measure(engine, path)
            rows.append((size, engine, result))
            if "error" in result:
                print(
                    f"{size:>10,} {engine:>7} failed after {result['wall']:.0f} s: "
                    f"{result['error']}"
                )
                continue
            peak = f"{result['peak_gb']:.1f}"
            print(
                f"{result['records']:>10,} {engine:>7} {result['seconds']:>10.1f} "
                f"{result['wall']:>10.1f} {peak:>8} {result['precision']:>7.4f} "
                f"{result['recall']:>7.4f} {result['f1']:>7.4f}",
                flush=True,
            )
    print("\nGrowth of linkage time, b in time ~ records^b, between consecutive sizes:")
    for engine in args.engines:
        done = [(s, r) for s, e, r in rows if e == engine and "error" not in r]
        steps = [
            f"{a:,}->{b:,}: b={math.log(rb['seconds'] / ra['seconds']) / math.log(b / a):.2f}"
            for (a, ra), (b, rb) in itertools.pairwise(done)
        ]
        print(f"  {engine}: {'; '.join(steps) or 'one size only'}")


if __name__ == "__main__":
    main()
