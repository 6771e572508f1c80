"""The synthetic authority: one seeded population written out as its sources and its truth."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.output import remove_csv_files
from linkage_ops.synthetic.population import build_populations
from linkage_ops.synthetic.school_year import CollectionYear, parse_collection_year
from linkage_ops.synthetic.sources import SOURCE_WRITERS
from linkage_ops.synthetic.truth import TruthRecord, write_truth_children, write_truth_records


@dataclass
class GenerationSummary:
    """What ``generate_authority`` wrote: children and households over all the years."""

    children: int
    households: int
    files: dict[str, list[Path]]
    records: dict[str, int]
    truth_dir: Path
    years: list[str]
    # The files each collection year's returns and extracts were written to.
    files_by_year: dict[str, list[Path]]


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


def collection_years(latest: str, years: int) -> list[CollectionYear]:
    """The ``years`` consecutive collection years ending with ``latest`` (e.g. ``2024-25``)."""
    last = parse_collection_year(latest)
    if years < 1:
        raise ValueError(f"years must be at least 1: {years}")
    return [CollectionYear(last.start_year - back) for back in range(years - 1, -1, -1)]


def generate_authority(
    children: int,
    seed: int,
    out_dir: Path,
    collection_year: str = "2024-25",
    months: int | None = None,
    years: int = 1,
) -> GenerationSummary:
    """Generate a synthetic authority of about ``children`` children a year over ``years``
    consecutive collection years ending with ``collection_year``, and write every source in
    ``SOURCE_WRITERS`` for each year, and the ground truth.

    The same children age through the years (see ``build_populations``). Monthly sources are
    written for the last ``months`` months of the latest year (all 12 for ``None``) and for
    every month of earlier years; termly and annual sources for whole years. Files go to
    ``out_dir/landing/<source>/<period>/`` and the truth to ``out_dir/truth/``. Earlier landing
    files of every source written, in any period, and the truth are removed first, so a rerun is
    idempotent; the same arguments give byte-identical files.
    """
    span = collection_years(collection_year, years)
    out_dir = Path(out_dir)
    landing_dir = out_dir / "landing"
    truth_dir = out_dir / "truth"

    populations = build_populations(children, span, random_stream(seed, "population"))
    files: dict[str, list[Path]] = {}
    files_by_year: dict[str, list[Path]] = {year.label: [] for year in span}
    records: dict[str, int] = {}
    truth: list[TruthRecord] = []
    for source in SOURCE_WRITERS:
        _remove_landing_files(landing_dir / source)
        files[source], records[source] = [], 0
    for population in populations:
        year = population.year
        periods = months_to_write(year, months) if year == span[-1] else year.months
        for source, writer in SOURCE_WRITERS.items():
            # One stream per source and year: the latest year's does not depend on how many
            # years came before it.
            stream = random_stream(seed, source if year == span[-1] else f"{source} {year.label}")
            written, source_truth = writer(population, year, list(periods), landing_dir, stream)
            overwritten = set(files[source]) & set(written)
            if overwritten:
                raise RuntimeError(f"{source} wrote {sorted(overwritten)[0]} for two years")
            files[source] += written
            files_by_year[year.label] += written
            records[source] += len(source_truth)
            truth += source_truth

    remove_csv_files(truth_dir, "children.csv")
    remove_csv_files(truth_dir, "records.csv")
    write_truth_children(populations, truth_dir / "children.csv")
    write_truth_records(truth, truth_dir / "records.csv")
    latest = {c.child_id: c for population in populations for c in population.children}
    households = {c.household.household_id for c in latest.values()}
    return GenerationSummary(
        children=len(latest),
        households=len(households),
        files=files,
        records=records,
        truth_dir=truth_dir,
        years=[year.label for year in span],
        files_by_year=files_by_year,
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
