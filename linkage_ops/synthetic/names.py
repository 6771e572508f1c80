"""The name tables (forenames, surnames, nicknames) and weighted sampling from them.

The tables live in ``linkage_ops/reference_data`` (see its README for where they came from).
Weights are relative frequencies, so common British names dominate and a long tail of rarer
names follows.
"""

from __future__ import annotations

import bisect
import csv
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class NameTable:
    """Names with cumulative weights, for fast weighted draws."""

    names: tuple[str, ...]
    cumulative: np.ndarray

    def sample(self, rng: np.random.Generator, size: int) -> list[str]:
        """Draw ``size`` names with replacement, in proportion to their weights."""
        positions = np.searchsorted(self.cumulative, rng.random(size), side="right")
        return [self.names[i] for i in positions]

    def pick(self, rng: random.Random) -> str:
        """One weighted draw, for the odd replacement name (a stepfather's surname)."""
        position = bisect.bisect_right(self.cumulative, rng.random())
        return self.names[min(position, len(self.names) - 1)]

    def __len__(self) -> int:
        return len(self.names)


def _read_data_csv(file_name: str) -> list[dict[str, str]]:
    text = (
        resources.files("linkage_ops")
        .joinpath("reference_data")
        .joinpath(file_name)
        .read_text(encoding="utf-8")
    )
    return list(csv.DictReader(text.splitlines()))


def _table(rows: list[tuple[str, float]]) -> NameTable:
    weights = np.array([w for _, w in rows], dtype=float)
    cumulative = np.cumsum(weights) / weights.sum()
    cumulative[-1] = 1.0
    return NameTable(names=tuple(n for n, _ in rows), cumulative=cumulative)


@lru_cache(maxsize=1)
def forenames() -> dict[str, NameTable]:
    """Forenames by sex (``M``/``F``)."""
    by_sex: dict[str, list[tuple[str, float]]] = {"M": [], "F": []}
    for row in _read_data_csv("forenames.csv"):
        by_sex[row["sex"]].append((row["name"], float(row["weight"])))
    return {sex: _table(rows) for sex, rows in by_sex.items()}


@lru_cache(maxsize=1)
def surnames() -> NameTable:
    """Surnames, common British ones first."""
    return _table([(row["name"], float(row["weight"])) for row in _read_data_csv("surnames.csv")])


@lru_cache(maxsize=1)
def nicknames() -> dict[str, tuple[str, ...]]:
    """Formal forename -> the common variants people are registered under (Bill for William)."""
    variants: dict[str, list[str]] = {}
    for row in _read_data_csv("nicknames.csv"):
        variants.setdefault(row["name"], []).append(row["nickname"])
    return {name: tuple(found) for name, found in variants.items()}
