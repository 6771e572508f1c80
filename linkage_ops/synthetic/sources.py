"""Every source the synthetic authority writes, behind one writer signature.

A writer takes ``(population, year, months, landing_dir, rng)``: the population of the
collection year, the year, the monthly periods to write (a subset of ``year.months``; annual and
termly sources ignore it), the landing folder and the source's own random stream. It writes its
files under ``landing_dir/<source>/<period>/`` (removing earlier files of each period it
writes) and returns them with one ``TruthRecord`` per person-identifying record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.admitted_care import write_admitted_care
from linkage_ops.synthetic.births import write_births
from linkage_ops.synthetic.camhs import write_camhs
from linkage_ops.synthetic.child_health import write_child_health
from linkage_ops.synthetic.children_in_need import write_children_in_need
from linkage_ops.synthetic.community_services import write_community_services
from linkage_ops.synthetic.cyps import write_cyps
from linkage_ops.synthetic.deaths import write_deaths
from linkage_ops.synthetic.emergency_care import write_emergency_care
from linkage_ops.synthetic.eyfsp import write_eyfsp
from linkage_ops.synthetic.gp import write_gp_registrations
from linkage_ops.synthetic.health import HealthYear, build_health_year
from linkage_ops.synthetic.ks2 import write_ks2
from linkage_ops.synthetic.ks4 import write_ks4
from linkage_ops.synthetic.looked_after import write_looked_after
from linkage_ops.synthetic.phonics import write_phonics
from linkage_ops.synthetic.population import Population
from linkage_ops.synthetic.school_census import write_school_census
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.sen2 import write_sen2
from linkage_ops.synthetic.social_care_clients import write_social_care_clients
from linkage_ops.synthetic.truth import TruthRecord

SourceWriter = Callable[
    [Population, CollectionYear, list[str], Path, np.random.Generator],
    tuple[list[Path], list[TruthRecord]],
]

# Keyed by the source's name: its landing folder, its schema and its rows in the truth.
SOURCE_WRITERS: dict[str, SourceWriter] = {
    "school_census": write_school_census,
    "gp": write_gp_registrations,
}


def _with_health_year(
    write: Callable[
        [HealthYear, list[str], Path, np.random.Generator], tuple[list[Path], list[TruthRecord]]
    ],
) -> SourceWriter:
    """Adapt a health-feed writer: every feed describes the same year of health events."""

    def writer(
        population: Population,
        year: CollectionYear,
        months: list[str],
        landing_dir: Path,
        rng: np.random.Generator,
    ) -> tuple[list[Path], list[TruthRecord]]:
        population.require_year(year)
        return write(health_year(population), months, landing_dir, rng)

    return writer


def health_year(population: Population) -> HealthYear:
    """The population's health events, built once and shared by the health-feed writers."""
    if "health_year" not in population.derived:
        seed = population.derived_seed("health")
        population.derived["health_year"] = build_health_year(
            population, np.random.default_rng(seed)
        )
    return population.derived["health_year"]


SOURCE_WRITERS.update(
    {
        "children_in_need": write_children_in_need,
        "social_care_clients": write_social_care_clients,
        "looked_after": write_looked_after,
        "sen2": write_sen2,
        "community_services": _with_health_year(write_community_services),
        "camhs": _with_health_year(write_camhs),
        "cyps": _with_health_year(write_cyps),
        "emergency_care": _with_health_year(write_emergency_care),
        "admitted_care": _with_health_year(write_admitted_care),
        "child_health": _with_health_year(write_child_health),
        "births": _with_health_year(write_births),
        "deaths": _with_health_year(write_deaths),
        "ks2": write_ks2,
        "ks4": write_ks4,
        "eyfsp": write_eyfsp,
        "phonics": write_phonics,
    }
)
