"""The synthetic authority: one seeded population written out as its sources and its truth."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.output import remove_csv_files
from linkage_ops.synthetic.population import build_population
from linkage_ops.synthetic.school_year import CollectionYear, parse_collection_year
from linkage_ops.synthetic.sources import SOURCE_WRITERS
from linkage_ops.synthetic.truth import TruthRecord, write_truth_children, write_truth_records


@dataclass
class GenerationSummary:
    """What ``generate_authority`` wrote."""

    children: int
    households: int
    files: dict[str, list[Path]]
    records: dict[str, int]
    truth_dir: Path


def random_stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of one part of the authority (the population or a source), from the
    seed and a stable hash of the name: adding a source never reshuffles the others."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def months_to_write(year: CollectionYear, months: int | None) -> list[str]:
    """All of ``year.months`` for ``None``, else the last ``months`` of them."""
    if months is None:
        return year.months
    if not 1 <= months <= len(year.months):
        raise ValueError(f"months must be between 1 and {len(year.months)}: {months}")
    return year.months[-months:]


def generate_authority(
    children: int,
    seed: int,
    out_dir: Path,
    collection_year: str = "2024-25",
    months: int | None = None,
) -> GenerationSummary:
    """Generate a synthetic authority of ``children`` children over ``collection_year`` and
    write every source in ``SOURCE_WRITERS`` and the ground truth.

    Monthly sources are written for the last ``months`` months of the year (all 12 for
    ``None``); termly and annual sources for the whole year. Files go to
    ``out_dir/landing/<source>/<period>/`` and the truth to ``out_dir/truth/``. Earlier landing
    files of every source written, in any period, and the truth are removed first, so a rerun is
    idempotent; the same arguments give byte-identical files.
    """
    year = parse_collection_year(collection_year)
    periods = months_to_write(year, months)
    out_dir = Path(out_dir)
    landing_dir = out_dir / "landing"
    truth_dir = out_dir / "truth"

    population = build_population(children, year, random_stream(seed, "population"))
    files: dict[str, list[Path]] = {}
    records: dict[str, int] = {}
    truth: list[TruthRecord] = []
    for source, writer in SOURCE_WRITERS.items():
        _remove_landing_files(landing_dir / source)
        written, source_truth = writer(
            population, year, list(periods), landing_dir, random_stream(seed, source)
        )
        files[source] = written
        records[source] = len(source_truth)
        truth += source_truth

    remove_csv_files(truth_dir, "children.csv")
    remove_csv_files(truth_dir, "records.csv")
    write_truth_children(population, truth_dir / "children.csv")
    write_truth_records(truth, truth_dir / "records.csv")
    return GenerationSummary(
        children=len(population.children),
        households=len(population.households),
        files=files,
        records=records,
        truth_dir=truth_dir,
    )


def _remove_landing_files(source_dir: Path) -> None:
    """Delete the files of every period folder of a source, and the emptied folders, so that
    periods an earlier run wrote and this one does not are not left behind."""
    if not source_dir.is_dir():
        return
    for period_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
        for path in sorted(p for p in period_dir.iterdir() if p.is_file()):
            path.unlink()
        if not any(period_dir.iterdir()):
            period_dir.rmdir()
