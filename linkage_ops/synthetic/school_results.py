"""The results files of the assessments the authority collects from its schools (the EYFS
profile, the phonics screening check): schools send their pupils' results from their
information systems, and the authority's collection system gathers them into one CSV for the
year, one row per pupil, school by school (the loader takes one file per table and period).

The file's layout is its supplier's (``SupplierLayout``). Two are common: one names the columns
as DfE names the data items (``SURNAME``, ``COM_E01``) with the school's LA and establishment
numbers apart, the other as its screens do (``Legal Surname``, ``Listening, Attention and
Understanding``), with the school's DfE number in one column and columns of its own (the
registration group). Record ids are ``<period>/<row number>``: the files have no id of their
own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from linkage_ops.synthetic.output import remove_csv_files, write_csv
from linkage_ops.synthetic.population import Child
from linkage_ops.synthetic.truth import TruthRecord


@dataclass(frozen=True)
class SupplierLayout:
    """A supplier's export: the share of authorities using it and its header, each header name
    with the key of the value written under it."""

    name: str
    share: float
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    """One pupil's row as their school records it: values by key, and the recording errors."""

    child: Child
    values: dict[str, str]
    errors: str


def registration_group(child: Child, year_label: str) -> str:
    """A class name the way schools write them (``RB``, ``1H``): a supplier's extra column."""
    return f"{year_label}{'BHKS'[child.index % 4]}"


def pick_layout(layouts: tuple[SupplierLayout, ...], rng: np.random.Generator) -> SupplierLayout:
    """The supplier of the authority's collection system this year."""
    shares = np.array([layout.share for layout in layouts])
    return layouts[int(rng.choice(len(layouts), p=shares / shares.sum()))]


def write_results_file(
    source: str, period: str, path: Path, layout: SupplierLayout, records: list[SchoolRecord]
) -> tuple[list[Path], list[TruthRecord]]:
    """Write the period's file (pupils in the order given), removing earlier files of the
    period, and return it with one truth row per pupil."""
    remove_csv_files(path.parent)
    write_csv(
        path,
        [header for header, _ in layout.columns],
        ([record.values.get(key, "") for _, key in layout.columns] for record in records),
    )
    truth = [
        TruthRecord(source, period, row_number, record.child.child_id, record.errors)
        for row_number, record in enumerate(records, start=2)  # row 1 is the header
    ]
    return [path], truth
