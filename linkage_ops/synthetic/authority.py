"""The synthetic authority: one seeded population written out as its sources and its truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.gp import write_gp_registrations
from linkage_ops.synthetic.output import remove_csv_files
from linkage_ops.synthetic.population import build_population
from linkage_ops.synthetic.school_census import write_school_census
from linkage_ops.synthetic.school_year import parse_census_period, parse_month_period
from linkage_ops.synthetic.truth import write_truth_children, write_truth_records


@dataclass
class GenerationSummary:
    """What ``generate_authority`` wrote."""

    children: int
    households: int
    files: dict[str, list[Path]]
    records: dict[str, int]
    truth_dir: Path


def generate_authority(
    children: int,
    seed: int,
    out_dir: Path,
    census_period: str = "2024-autumn",
    gp_period: str = "2024-10",
) -> GenerationSummary:
    """Generate a synthetic authority of ``children`` children and write its files.

    Writes ``out_dir/landing/school_census/<census_period>/`` (Blade tables),
    ``out_dir/landing/gp/<gp_period>/gp_registrations_<gp_period>.csv`` and the ground truth in
    ``out_dir/truth/``. Earlier files for the same periods and the truth are replaced, so a
    rerun is idempotent; the same arguments give byte-identical files. Ages are taken on the
    census day of ``census_period``.
    """
    period = parse_census_period(census_period)
    parse_month_period(gp_period)  # fail before writing anything
    out_dir = Path(out_dir)
    landing_dir = out_dir / "landing"
    truth_dir = out_dir / "truth"

    # Independent streams, so tuning one source does not reshuffle the population.
    population_seed, census_seed, gp_seed = np.random.SeedSequence(seed).spawn(3)
    population = build_population(
        children, period.census_day, np.random.default_rng(population_seed)
    )
    census_files, census_truth = write_school_census(
        population, period, landing_dir, np.random.default_rng(census_seed)
    )
    gp_files, gp_truth = write_gp_registrations(
        population, gp_period, landing_dir, np.random.default_rng(gp_seed)
    )

    remove_csv_files(truth_dir, "children.csv")
    remove_csv_files(truth_dir, "records.csv")
    write_truth_children(population, truth_dir / "children.csv")
    write_truth_records(census_truth + gp_truth, truth_dir / "records.csv")
    return GenerationSummary(
        children=len(population.children),
        households=len(population.households),
        files={"school_census": census_files, "gp": gp_files},
        records={"school_census": len(census_truth), "gp": len(gp_truth)},
        truth_dir=truth_dir,
    )
