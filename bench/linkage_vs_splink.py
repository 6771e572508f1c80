"""This engine against Splink on the same person records, in one run.

    make demo                                   # builds data/warehouse.duckdb and data/truth
    .venv/bin/pip install -e '.[bench]'          # Splink is a bench-only dependency
    .venv/bin/python bench/linkage_vs_splink.py [--warehouse data/warehouse.duckdb]

Both read `intermediate.int_person_records_unioned`. Each engine runs in its own process so
that wall time and peak memory are its own. Prints, per engine: wall time, peak memory,
pairwise precision, recall and F1 against the synthetic truth, and twin pairs wrongly merged
(clusters holding records of both twins).
"""

import argparse
import multiprocessing
import resource
import time
from pathlib import Path

import duckdb
import pandas as pd

from linkage_ops.evaluation import load_truth, pairwise_scores


def records_from(warehouse: Path) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select * from intermediate.int_person_records_unioned order by record_id"
        ).df()
    finally:
        con.close()


def run_this_engine(records: pd.DataFrame) -> pd.Series:
    from linkage_ops.linkage import link_records

    bridge = link_records(records).bridge
    return bridge.set_index("record_id").person_key


def run_splink(records: pd.DataFrame) -> pd.Series:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = records[
        [
            "record_id",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "postcode",
            "upn",
            "nhs_number",
        ]
    ].copy()
    frame["first_name"] = frame.first_name.str.upper().str.strip()
    frame["last_name"] = frame.last_name.str.upper().str.strip()
    frame["date_of_birth"] = pd.to_datetime(frame.date_of_birth).dt.strftime("%Y-%m-%d")
    frame["birth_year"] = frame.date_of_birth.str[:4]
    frame["sex"] = frame.sex.where(frame.sex != "U")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nhs_number"),
            cl.ExactMatch("upn"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nhs_number"),
            block_on("upn"),
            block_on("date_of_birth"),
            block_on("last_name", "birth_year"),
            block_on("postcode", "birth_year"),
            block_on("first_name", "last_name"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("upn")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("last_name", "birth_year")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.95
    ).as_pandas_dataframe()
    return clusters.set_index("record_id").cluster_id.astype(str)


ENGINES = {"this engine": run_this_engine, "splink": run_splink}


def _measure(engine: str, records: pd.DataFrame, queue: multiprocessing.Queue) -> None:
    start = time.perf_counter()
    keys = ENGINES[engine](records)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    queue.put((seconds, peak, keys))


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
    args = parser.parse_args()

    records = records_from(args.warehouse)
    truth = load_truth(args.truth)
    children = pd.read_csv(args.truth / "children.csv", dtype=str, keep_default_na=False)
    print(f"{len(records):,} person records from {args.warehouse}")
    print(
        f"{'engine':<12}{'seconds':>9}{'peak MiB':>10}{'precision':>11}{'recall':>9}"
        f"{'F1':>9}{'twins merged':>14}"
    )
    context = multiprocessing.get_context("spawn")
    for engine in ENGINES:
        queue = context.Queue()
        process = context.Process(target=_measure, args=(engine, records, queue))
        process.start()
        seconds, peak, keys = queue.get()
        process.join()
        scores = pairwise_scores(keys, truth.reindex(keys.index))
        merged = twin_pairs_merged(keys, truth, children)
        print(
            f"{engine:<12}{seconds:>9.1f}{peak:>10,.0f}{scores.precision:>11.4f}"
            f"{scores.recall:>9.4f}{scores.f1:>9.4f}{merged:>14}"
        )


if __name__ == "__main__":
    main()
