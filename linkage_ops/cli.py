"""``linkage-ops``: the domain library's command line (no Dagster needed).

linkage-ops synth --children N --seed S --out DIR
linkage-ops load --landing DIR --database FILE --source SOURCE --period PERIOD
linkage-ops sources [SOURCE] [--period PERIOD]
linkage-ops link INPUT --out OUTPUT [--state DIR] [--model M.json] [--save-model M.json]
linkage-ops evaluate --pred P --truth T
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from linkage_ops.engines import ENGINES, warehouse_engine
from linkage_ops.evaluation import load_truth, pairwise_scores
from linkage_ops.ingest import (
    UNMODELLED,
    Finding,
    SchemaError,
    SourceSchema,
    UnreadableFileError,
    available_sources,
    load_period,
    load_schema,
)
from linkage_ops.ingest.reader import decode_text, delimiter_of
from linkage_ops.ingest.workbook import WORKBOOK_SUFFIXES, header_index
from linkage_ops.linkage import FellegiSunterModel, ModelLevelsMismatch, link_records
from linkage_ops.linkage.standardise import (
    FULL_NAME,
    names_from_full_names,
    person_record_names,
)
from linkage_ops.linkage.store import (
    read_state_decisions,
    read_state_folder,
    write_state_folder,
)
from linkage_ops.warehouse_file import apply_umask, connect_for_writing, is_locked


class TableError(Exception):
    """A table named on the command line cannot be read, or lacks a column it needs."""


def _below_title_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """A sheet as a table whose header is its first row of column names, below any title or
    note (``header_index``, as the loader finds a worksheet's header)."""
    cells = cells.replace({np.nan: None}).dropna(how="all", axis=1)
    header = header_index(cells.itertuples(index=False, name=None))
    if header is None:
        return cells
    names = [
        str(name) if name is not None else f"column_{n + 1}"
        for n, name in enumerate(cells.iloc[header])
    ]
    table = cells.iloc[header + 1 :].set_axis(names, axis=1)
    return table.dropna(how="all").reset_index(drop=True)


def read_table(path: Path, needs: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table of text (a blank value is ``None``) from CSV in whatever encoding a supplier's
    system wrote (``decode_text``: UTF-8, UTF-16 or Excel's Windows-1252), Parquet or the
    first sheet of a workbook; ``TableError`` in one line when it cannot be read or lacks a
    column it ``needs``."""
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix.lower() in WORKBOOK_SUFFIXES:
            # The first sheet, each cell as its text: a date cell as 2010-12-03 00:00:00, a
            # number as written (an NHS number, or a date formatted as a number: 40515).
            frame = _below_title_rows(pd.read_excel(path, dtype=str, header=None))
        elif path.suffix.lower() == ".xls":
            raise TableError(f"{path}: an Excel 97-2003 workbook; save it as .xlsx or CSV")
        else:
            text = decode_text(path, path.read_bytes())
            frame = pd.read_csv(
                io.StringIO(text), sep=delimiter_of(text), dtype=str, keep_default_na=False
            )
            frame = frame.replace({"": None})
    except UnreadableFileError as error:
        raise TableError(str(error)) from None
    except OSError as error:
        raise TableError(f"{path}: {error.strerror or error}") from None
    except (ValueError, pd.errors.ParserError, zipfile.BadZipFile) as error:  # pandas' own
        raise TableError(f"{path}: not a readable table ({error})") from None
    missing = [column for column in needs if column not in frame.columns]
    if missing:
        raise TableError(f"{path}: no {', '.join(missing)} column")
    return frame


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def _synth(args: argparse.Namespace) -> int:
    from linkage_ops.synthetic import generate_authority

    summary = generate_authority(
        children=args.children,
        seed=args.seed,
        out_dir=args.out,
        collection_year=args.year,
        years=args.years,
    )
    print(
        f"{summary.children:,} children in {summary.households:,} households over "
        f"{', '.join(summary.years)}"
    )
    for source, count in summary.records.items():
        print(f"  {source}: {count:,} records")
    print(f"landing files under {args.out / 'landing'}, ground truth in {summary.truth_dir}")
    return 0


def _error(message: str) -> None:
    """One line on stderr: a newline or other control character in a path or a period name is
    written escaped, so the message stays one line."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    print(f"error: {text}", file=sys.stderr)


def _connect(database: Path, wait: float) -> duckdb.DuckDBPyConnection | None:
    """The warehouse opened for writing, waiting up to ``wait`` seconds while another process
    holds it; ``None``, with one line said, if it cannot be opened."""
    try:
        return connect_for_writing(database, wait)
    except duckdb.IOException as error:
        if not is_locked(error):
            _error(f"{database}: cannot open ({str(error).splitlines()[0]})")
            return None
        holder = re.search(r"PID (\d+)", str(error))
        _error(
            f"{database} is in use by another process"
            + (f" (PID {holder.group(1)})" if holder else "")
            + f" and stayed locked for {wait:g} s: try again when it has finished"
            " (a Dagster run, the web app or a BI tool may hold it)"
        )
        return None


def _load(args: argparse.Namespace) -> int:
    con = _connect(args.database, args.wait)
    if con is None:
        return 2
    try:
        load = load_period(
            con,
            args.landing,
            args.source,
            args.period,
            run_id="cli",
            accept_loss=args.accept_loss,
            accept_other_period=args.accept_other_period,
        )
    except (UnreadableFileError, SchemaError) as error:
        _error(f"{args.source} {args.period}: {error}")
        return 2
    finally:
        con.close()
    print(f"{args.source} {args.period}: read with the {load.collection_year} schema")
    for table in load.tables:
        print(
            f"{table.raw_table} ({table.source_file}): {table.rows_read:,} read, "
            f"{table.rows_loaded:,} loaded, {table.rows_rejected:,} quarantined, "
            f"{table.values_flagged:,} values flagged"
        )
    for kept in load.unmodelled:
        what = "rows" if kept.table == UNMODELLED else "XML elements"
        print(
            f"{kept.source_file}: not modelled, "
            f"{kept.rows_loaded:,} {what} kept in {kept.raw_table}"
        )
    schema = load_schema(args.source)
    for finding in load.findings[: args.show_findings]:
        print(
            f"  {finding.source_file} row {finding.row_number} {finding.field}"
            f"{_shown_value(schema, finding)}: {finding.reason} ({finding.action})"
        )
    for failed in load.failed:
        _error(f"{args.source} {args.period}: {failed.source_file}: {failed.problem}")
    return 1 if load.failed else 0


# Values of these types are codes, never a name, date or identifier: a finding may show them.
_SHOWN_TYPES = {"code", "boolean"}


def _shown_value(schema: SourceSchema, finding: Finding) -> str:
    """``=<value>`` for a finding on a code, or nothing: the terminal (and whatever keeps its
    scrollback) never sees a child's name, birth date, address or identifier."""
    table = schema.tables.get(finding.table)
    rule = next((r for r in table.columns if r.name == finding.field), None) if table else None
    if rule is None or rule.type not in _SHOWN_TYPES or finding.value is None:
        return ""
    return f"={finding.value!r}"


def _sources(args: argparse.Namespace) -> int:
    """What each source delivers: its collection years and tables, or, for one source, each
    table's columns in the schema of a period's year."""
    if args.source is None:
        for name in available_sources():
            schema = load_schema(name)
            print(f"{name} ({schema.cadence}; {schema.supported_years})")
            print(f"  tables: {', '.join(schema.tables)}")
        return 0
    union = load_schema(args.source)
    if args.period and not union.is_period(args.period):
        _error(f"{args.source} periods look like {union.period_pattern.pattern}: {args.period!r}")
        return 2
    schema = union.for_period(args.period) if args.period else union
    print(f"{args.source}: {schema.year_label} ({union.supported_years})")
    for table in schema.tables.values():
        print(f"  {table.name} (record id {table.record_id})")
        for rule in table.columns:
            if rule.name.startswith("_"):
                continue
            notes = [rule.type]
            if rule.mandatory:
                notes.append("mandatory")
            if rule.optional:
                notes.append("may be absent")
            if rule.codes:
                codes = sorted(rule.codes)
                listed = ", ".join(codes[:12]) + (" ..." if len(codes) > 12 else "")
                notes.append(f"{rule.codelist or 'codes'}: {listed}")
            print(f"    {rule.name}: {'; '.join(notes)}")
    return 0


def _person_record_names(path: Path, columns: Iterable[str]) -> dict[str, str]:
    """The input's columns to rename (``person_record_names``), said in one line each: what
    was read as what, and what linkage leaves alone."""
    try:
        renamed, unused = person_record_names(columns)
    except ValueError as error:
        raise TableError(f"{path}: {error}") from None
    if "record_id" not in [renamed.get(name, name) for name in columns]:
        raise TableError(f"{path}: no record_id column (or id, rec_id)")
    if renamed:
        print("columns read as: " + ", ".join(f"{a} -> {b}" for a, b in renamed.items()))
    if unused:
        print("columns not used for linkage: " + ", ".join(unused))
    return renamed


def person_records(path: Path) -> pd.DataFrame:
    """A table of person records, its columns named as linkage names them and names taken from
    a name column where a record lacks them (said how many; see ``names_from_full_names``)."""
    records = read_table(path)
    records = records.rename(columns=_person_record_names(path, records.columns))
    records, split = names_from_full_names(records)
    if split:
        print(f"names taken from {FULL_NAME} where a record lacked them: {split:,} records")
    return records


def _one_row_per_record(path: Path, records: pd.DataFrame) -> pd.DataFrame:
    """Rows repeated whole (a file exported twice) once each, said so; a record id given to
    two different rows stops the run: which of them would its key be?"""
    repeated = records.duplicated(keep="first")
    if repeated.any():
        print(f"rows repeated whole, linked once: {int(repeated.sum()):,}")
        records = records[~repeated]
    clashing = records.record_id[records.record_id.duplicated()].unique()
    if len(clashing):
        raise TableError(
            f"{path}: {len(clashing):,} record ids are given to different rows "
            f"(first: {clashing[0]}); each record needs an id of its own"
        )
    return records


def _link(args: argparse.Namespace) -> int:
    try:
        engine = args.engine or warehouse_engine()
    except ValueError as error:
        _error(str(error))
        return 2
    state = read_state_folder(args.state) if args.state else None
    decisions = read_state_decisions(args.state) if args.state else None
    run_id = datetime.now().strftime("cli-%Y%m%dT%H%M%S")
    try:
        model = (
            FellegiSunterModel.from_json(args.model.read_text(encoding="utf-8"), str(args.model))
            if args.model
            else None
        )
    except ModelLevelsMismatch as error:
        _error(str(error))
        return 2
    if engine == "spark":
        result = _link_on_spark(args.input, state, run_id, decisions, model)
    else:
        records = _one_row_per_record(args.input, person_records(args.input))
        if "source_record_id" not in records.columns:
            records["source_record_id"] = records["record_id"]
        result = link_records(records, state=state, run_id=run_id, decisions=decisions, model=model)
    _write_table(result.bridge, args.out)
    if args.state:
        write_state_folder(args.state, result)
    if args.save_model:
        args.save_model.parent.mkdir(parents=True, exist_ok=True)
        args.save_model.write_text(result.model.to_json(), encoding="utf-8")
        print(f"model ({result.summary['model']}) written to {args.save_model}")
    print(
        f"{len(result.bridge):,} records -> {result.bridge.person_key.nunique():,} person keys; "
        f"written to {args.out}"
    )
    thresholds = result.summary["thresholds"]
    print(
        f"match threshold {thresholds['match_threshold']:.2f} "
        f"({thresholds['match_source']}; expected precision "
        f"{thresholds['expected_precision']:.4f}, recall {thresholds['expected_recall']:.4f}), "
        f"review from {thresholds['review_threshold']:.2f}; "
        f"{result.summary['review_pairs']:,} pairs wait for a reviewer"
    )
    unreadable = result.summary["unreadable_birth_dates"]
    if unreadable:
        print(
            "dates of birth that are not dates (records kept, linked without them): "
            + ", ".join(f"{source} {count:,}" for source, count in unreadable.items())
        )
    if not result.history.empty:
        print(f"key changes since the last run: {len(result.history):,} (see {args.state})")
    return 0


def _link_on_spark(path: Path, state, run_id, decisions, model):
    """``link`` with the Spark engine: a Parquet input is read by Spark itself (so that a
    cluster reads it in parallel), a CSV through pandas. Under ``spark-submit`` the session is
    the one it started (its ``--master``)."""
    from linkage_ops.spark import lake
    from linkage_ops.spark.linkage import link_records_spark
    from linkage_ops.spark.session import spark_session

    with tempfile.TemporaryDirectory() as spark_dir, spark_session(Path(spark_dir)) as spark:
        if path.suffix.lower() == ".parquet":
            frame = spark.read.parquet(str(path))
            for name, column in _person_record_names(path, frame.columns).items():
                frame = frame.withColumnRenamed(name, column)
            if FULL_NAME in frame.columns:
                frame = lake.names_from_full_names(frame)
        else:
            frame = lake.text_frame(spark, person_records(path))
        if "source_record_id" not in frame.columns:
            frame = frame.withColumn("source_record_id", frame["record_id"])
        return link_records_spark(
            spark, frame, state=state, run_id=run_id, decisions=decisions, model=model
        )


def _evaluate(args: argparse.Namespace) -> int:
    predicted = read_table(args.pred, ("record_id", "person_key")).set_index("record_id")
    predicted = predicted.person_key
    truth_path: Path = args.truth
    if truth_path.is_dir():
        truth = load_truth(truth_path)
    else:
        truth = read_table(truth_path, ("record_id", "child_id")).set_index("record_id")
        truth = truth["child_id"]
    scores = pairwise_scores(predicted, truth.reindex(predicted.index))
    print(f"precision {scores.precision:.4f}")
    print(f"recall    {scores.recall:.4f}")
    print(f"f1        {scores.f1:.4f}")
    print(
        f"pairs: predicted {scores.predicted_pairs:,}, true {scores.true_pairs:,}, "
        f"correct {scores.correct_pairs:,}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linkage-ops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="generate a synthetic authority")
    synth.add_argument("--children", type=int, required=True)
    synth.add_argument("--seed", type=int, default=42)
    synth.add_argument("--year", default="2024-25", help="latest collection year (2024-25)")
    synth.add_argument(
        "--years", type=int, default=1, help="consecutive collection years up to --year"
    )
    synth.add_argument("--out", type=Path, required=True, help="data folder to write into")
    synth.set_defaults(handler=_synth)

    load = commands.add_parser("load", help="load one source period into a DuckDB file")
    load.add_argument("--landing", type=Path, required=True)
    load.add_argument("--database", type=Path, required=True)
    load.add_argument("--source", required=True, choices=available_sources())
    load.add_argument("--period", required=True)
    load.add_argument("--show-findings", type=int, default=10)
    load.add_argument(
        "--accept-loss",
        action="store_true",
        help="reload a period even if a table would keep less than half of its previous rows",
    )
    load.add_argument(
        "--accept-other-period",
        action="store_true",
        help="load a file even if most of its dates are in another period (month or term)",
    )
    load.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="seconds to wait while another process has the warehouse open (default 30)",
    )
    load.set_defaults(handler=_load)

    sources = commands.add_parser(
        "sources", help="the sources, their collection years, tables and columns"
    )
    sources.add_argument("source", nargs="?", choices=available_sources())
    sources.add_argument("--period", help="show the schema of this period's collection year")
    sources.set_defaults(handler=_sources)

    link = commands.add_parser(
        "link", help="link person records (CSV, Parquet or an Excel workbook)"
    )
    link.add_argument("input", type=Path)
    link.add_argument("--out", type=Path, required=True)
    link.add_argument(
        "--state",
        type=Path,
        help="folder keeping person keys, the review queue and review_decisions.csv between runs",
    )
    link.add_argument("--model", type=Path, help="use this trained model (JSON) as it is")
    link.add_argument("--save-model", type=Path, help="write the model used (JSON) here")
    link.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="duckdb (pandas, one machine) or spark (pairwise work on Spark; under spark-submit "
        "on its cluster); default WAREHOUSE_ENGINE, else duckdb",
    )
    link.set_defaults(handler=_link)

    evaluate = commands.add_parser("evaluate", help="pairwise precision, recall and F1")
    evaluate.add_argument("--pred", type=Path, required=True, help="record_id, person_key")
    evaluate.add_argument(
        "--truth", type=Path, required=True, help="record_id, child_id file, or a truth folder"
    )
    evaluate.set_defaults(handler=_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        apply_umask()
    except ValueError as error:
        _error(str(error))
        return 2
    try:
        return args.handler(args)
    except TableError as error:
        _error(str(error))
        return 2


if __name__ == "__main__":
    sys.exit(main())
