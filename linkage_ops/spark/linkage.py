"""Linkage on Apache Spark: the five steps of ``linkage_ops.linkage.engine`` with the same
settings, model and rules, and the same result (the same clusters, the same person keys given
the same registry, the same decision on every pair). The pairwise work runs on Spark; the
driver holds only what is small or counted, and the frames the result is made of.

- **Profile** (Spark). Each distinct set of identity fields is standardised once, in batches
  (``standardise_records`` in ``mapInPandas``), and grouped into profiles numbered in order of
  their first record, as the pandas engine numbers them. Records are taken in ``order_by``
  order (by default ``record_id``: the warehouse hands the pandas engine its records in that
  order), so the numbering, and every tie the pandas engine breaks by it, is the same.
- **Train** (Spark, then the driver). The random and blocked pairs training compares are
  compared on Spark and counted per comparison vector; the same estimation (``model.train_on``)
  runs on the driver over those counts, with the same random draws.
- **Block** (Spark). A blocking rule is a self-join on its key. Which rules run is the pandas
  engine's choice (``blocking.choose_within_budget``), from block sizes and distinct pairs
  counted on Spark.
- **Score** (Spark). Pairs are compared and weighed in groups (``engine.score_pairs`` in a
  cogroup's ``applyInPandas``): each group holds its pairs and, once, the profiles they name,
  rather than both profiles' fields on every pair. Names are weighed by their frequency among
  all profiles, counted on Spark.
- **Cluster** (Spark). Connected components of the pairs that could join two profiles (shared
  identifiers, scored pairs, reviewers' decisions); inside them, the pandas engine's own
  strongest-first, identifier-aware clustering (``clustering.cluster_profiles``), run on
  groups of whole components. Components never touch each other, so clustering some of them
  together, or all at once as the pandas engine does, is the same.
- **Key** (counted on Spark, decided on the driver). Each cluster's records are counted against
  the keys they had (``keys.keys_of_clusters``); the bridge is made on Spark for groups of whole
  clusters (``engine.bridge_rows``). The review queue is made on the driver from the few pairs
  waiting for a reviewer.

Every step is a deterministic function of its input, so a task that Spark runs again after
losing it gives the same rows, once. Records are numbered once and kept (cached): the input
must read the same again if Spark has to recompute it (a Parquet table does).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.classic.dataframe import DataFrame as ClassicDataFrame

from linkage_ops.identifiers import one_slip_identifiers
from linkage_ops.linkage.blocking import (
    KEYS,
    BlockingKeys,
    Counted,
    choose_within_budget,
    key_text,
    rules_report,
    sampled,
)
from linkage_ops.linkage.clustering import (
    Coherence,
    HouseholdEvidence,
    TwinEvidence,
    cluster_profiles,
    household_evidence,
    twins_from,
)
from linkage_ops.linkage.comparisons import COMPARISONS, ProfileColumns, level_code, level_names
from linkage_ops.linkage.engine import (
    IDENTITY_COLUMNS,
    ONE_SLIP_RULE,
    PROFILE_COLUMNS,
    REVIEW_DECISIONS,
    REVIEW_FIELDS,
    SLIPPED_IDENTIFIERS,
    TERM_FREQUENCY_COLUMNS,
    LinkageResult,
    Stopwatch,
    best_probability,
    bridge_rows,
    linkage_summary,
    queue_for_review,
    review_queue,
    review_unlinked_first,
    reviewed_profiles,
    score_pairs,
    slip_stands,
)
from linkage_ops.linkage.keys import KeyState, carried_forward, keys_of_clusters
from linkage_ops.linkage.model import (
    FellegiSunterModel,
    LevelCounts,
    ProfilesInMemory,
    RandomPairs,
    default_model,
    train_on,
)
from linkage_ops.linkage.settings import DEFAULT_SETTINGS, LinkageSettings
from linkage_ops.linkage.standardise import (
    PERSON_RECORD_COLUMNS,
    YEAR_LAST_PATTERN,
    date_order,
    is_given,
    parse_date,
    standardise_records,
)
from linkage_ops.linkage.thresholds import ThresholdChoice, choose_thresholds, weight_of_probability

_log = logging.getLogger(__name__)

# The standardised fields pairs are compared on (what ``ProfileColumns`` reads).
COMPARED = [
    "first_name_std",
    "middle_names_std",
    "first_name_canonical",
    "last_name_std",
    "former_last_name_std",
    "dob_text",
    "dob_swapped_text",
    "birth_year",
    "postcode_std",
    "postcode_sector",
    "postcode_district",
    "sex",
]
VALID_IDENTIFIERS = ["nhs_number_valid", "upn_valid", "former_upn_valid", "la_child_id_std"]
STANDARDISED = COMPARED + VALID_IDENTIFIERS
# Each term-frequency adjusted comparison's frequency of a profile's value.
FREQUENCIES = {name: f"frequency_{name}" for name in TERM_FREQUENCY_COLUMNS}
# What scoring a pair needs of each profile.
SCORED = [*COMPARED, "record_id", *FREQUENCIES.values()]
# Pairs are compared in groups of about this many (one pandas call each).
BATCH_PAIRS = 200_000
# A group of whole components (or clusters, or birthdays) handed to one pandas call holds
# about this many rows.
GROUP_ROWS = 50_000


def _pair_schema() -> T.StructType:
    """A scored pair, as ``score_pairs`` gives it (level codes instead of names)."""
    fields = [
        T.StructField("row_l", T.LongType()),
        T.StructField("row_r", T.LongType()),
        T.StructField("record_id_l", T.StringType()),
        T.StructField("record_id_r", T.StringType()),
    ]
    for name in COMPARISONS:
        fields.append(T.StructField(f"{name}_level", T.ByteType()))
        fields.append(T.StructField(f"{name}_weight", T.DoubleType()))
    for name in ("prior_weight", "match_weight", "match_probability"):
        fields.append(T.StructField(name, T.DoubleType()))
    return T.StructType(fields)


PAIR_SCHEMA = _pair_schema()


def _planless(frame: DataFrame) -> DataFrame:
    """``frame`` with its query plan replaced by the lineage of its rows. Spark writes out every
    plan it runs in full, and a plan that holds the plans of all the steps before it grows
    with each one; the lineage still lets Spark compute again any part that is lost."""
    spark = frame.sparkSession
    rows = spark._jsparkSession.createDataFrame(frame._jdf.rdd(), frame._jdf.schema())
    return ClassicDataFrame(rows, spark)


@dataclass
class _Kept:
    """The DataFrames this run keeps in memory (or on disk), released at the end."""

    frames: list[DataFrame] = field(default_factory=list)

    def keep(self, frame: DataFrame) -> DataFrame:
        """``frame`` kept once computed, its plan cut short (``_planless``)."""
        frame = _planless(frame).persist(StorageLevel.MEMORY_AND_DISK)
        self.frames.append(frame)
        return frame

    def release(self) -> None:
        for frame in self.frames:
            frame.unpersist()


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects with ``None`` for blank, as the pandas engine has them."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), None)
    return frame


def _partitions(spark: SparkSession) -> int:
    try:
        return int(spark.conf.get("spark.sql.shuffle.partitions"))
    except (TypeError, ValueError):
        return 8


def _compared(
    pairs: DataFrame,
    profiles: DataFrame,
    columns: list[str],
    function: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame],
    schema: T.StructType,
    expected_pairs: int,
) -> DataFrame:
    """``function(pairs, profiles)`` on groups of pairs (``row_l``, ``row_r``) of about
    ``BATCH_PAIRS``, each group with the ``columns`` of the profiles its pairs hold: a
    profile's fields travel once per group, not once per pair."""
    buckets = max(_partitions(pairs.sparkSession), math.ceil(expected_pairs / BATCH_PAIRS))
    pairs = pairs.select(
        "row_l", "row_r", F.pmod(F.xxhash64("row_l", "row_r"), F.lit(buckets)).alias("bucket")
    )
    # Each side names its bucket afresh: Spark refuses two sides sharing one column.
    touched = (
        pairs.select(F.col("bucket").alias("group"), F.col("row_l").alias("profile"))
        .union(pairs.select("bucket", "row_r"))
        .distinct()
    )
    fields = touched.join(profiles.select("profile", *columns), "profile")
    return pairs.groupBy("bucket").cogroup(fields.groupBy("group")).applyInPandas(function, schema)


def _local(pairs: pd.DataFrame, profiles: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """A group's profiles in profile order (as the pandas engine holds them), and each pair's
    two rows among them."""
    profiles = _as_objects(profiles).sort_values("profile").reset_index(drop=True)
    ids = profiles.profile.to_numpy(dtype=np.int64)
    rows = np.c_[
        np.searchsorted(ids, pairs.row_l.to_numpy(dtype=np.int64)),
        np.searchsorted(ids, pairs.row_r.to_numpy(dtype=np.int64)),
    ].astype(np.int64)
    return profiles, rows


def _frequencies_of(profiles: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: profiles[column].to_numpy(dtype=float) for name, column in FREQUENCIES.items()}


def _scorer(
    model: FellegiSunterModel, min_weight: float | None, term_frequency: bool, chunk_pairs: int
) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """Score a group of pairs (``_compared`` with ``SCORED``) as ``score_pairs`` does."""

    def score(pairs: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        if pairs.empty:
            return pd.DataFrame(columns=PAIR_SCHEMA.fieldNames())
        profiles, rows = _local(pairs, profiles)
        scored = score_pairs(
            profiles,
            rows,
            model,
            min_weight=min_weight,
            chunk_pairs=chunk_pairs,
            term_frequency=term_frequency,
            frequencies=_frequencies_of(profiles),
        )
        ids = profiles.profile.to_numpy()
        scored["row_l"] = ids[scored.row_l.to_numpy()]
        scored["row_r"] = ids[scored.row_r.to_numpy()]
        for name in COMPARISONS:
            scored[f"{name}_level"] = scored[f"{name}_level"].cat.codes.astype(np.int8)
        return scored[PAIR_SCHEMA.fieldNames()]

    return score


# Pairs known to be one child (``model._known_matches``) are left out of random pairs.
KNOWN = ["nhs_number_valid", "upn_valid", "la_child_id_std"]


def _drawer(sample: RandomPairs, shares: int) -> Callable:
    """The pairs ``sample`` draws, share by share (``id``: which share)."""

    def draw(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        left, right = sample.draw()
        size = math.ceil(len(left) / shares)
        for batch in batches:
            for share in batch["id"].to_numpy():
                part = slice(share * size, (share + 1) * size)
                yield pd.DataFrame({"row_l": left[part], "row_r": right[part]})

    return draw


def _counter(random: bool) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """Count a group of pairs (``_compared`` with ``COMPARED`` and ``KNOWN``) per comparison
    vector, as training does in memory (``model.ProfilesInMemory``): for ``random`` pairs,
    leaving out known matches."""

    def count(pairs: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        if pairs.empty:
            return pd.DataFrame(columns=COUNT_SCHEMA.fieldNames())
        profiles, rows = _local(pairs, profiles)
        columns = ProfileColumns.from_profiles(profiles)
        population = ProfilesInMemory(profiles, columns, BlockingKeys(profiles))
        counted = population.levels_of(rows[:, 0], rows[:, 1], leave_out_known=random)
        frame = pd.DataFrame(counted.vectors.astype(np.int8), columns=list(counted.names))
        frame["count"] = counted.counts
        return frame

    return count


COUNT_SCHEMA = T.StructType(
    [T.StructField(name, T.ByteType()) for name in COMPARISONS]
    + [T.StructField("count", T.LongType())]
)


def _level_counts(counted: DataFrame) -> LevelCounts:
    """Pairs counted per comparison vector, over all groups (``_counter``)."""
    counted = counted.groupBy(*COMPARISONS).agg(F.sum("count").alias("count")).toPandas()
    names = tuple(COMPARISONS)
    if counted.empty:
        return LevelCounts.empty(names)
    vectors = counted[list(names)].to_numpy(dtype=np.int64)
    return LevelCounts(names, vectors, counted["count"].to_numpy(dtype=np.int64)).only(names)


def _numbered(frame: DataFrame, order: str, name: str) -> DataFrame:
    """``frame`` with ``name`` numbering its rows 0, 1, ... in the order of the unique column
    ``order`` (distributed: no single partition holds every row)."""
    ordered = frame.orderBy(order)
    schema = T.StructType([*ordered.schema.fields, T.StructField(name, T.LongType(), False)])
    numbered = ordered.rdd.zipWithIndex().map(lambda pair: (*pair[0], pair[1]))
    return frame.sparkSession.createDataFrame(numbered, schema)


def _bucket(column: str, buckets: int) -> F.Column:
    return F.pmod(F.xxhash64(column), F.lit(buckets))


def _buckets(spark: SparkSession, rows: int) -> int:
    """How many groups to hand rows to pandas in: one per shuffle partition, more for more
    rows, so that each fits one worker."""
    return max(_partitions(spark), math.ceil(rows / GROUP_ROWS))


# --- 1. Profile --------------------------------------------------------------------------------


def _standardiser(date_orders: dict[str, str]) -> Callable:
    """Standardise batches of distinct identities (``standardise_records``), each with the
    source of its first record, whose dates are read in the order that source's identities
    show (``date_orders_of``), as the pandas engine reads them."""

    def standardise(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            frame = batch.drop(columns="_identity_row").astype(object)
            standardised = standardise_records(frame, date_orders)
            out = standardised[STANDARDISED].copy()
            out.insert(0, "_identity_row", batch._identity_row.to_numpy())
            out["birth_year"] = out.birth_year.astype(np.int32)
            yield out

    return standardise


def _date_orders(distinct: DataFrame) -> dict[str, str]:
    """``standardise.date_orders_of`` on Spark: each source's evidence counted over its
    distinct dates of birth written as text."""
    if not isinstance(distinct.schema["date_of_birth"].dataType, T.StringType):
        return {}
    dates = distinct.select("source", F.trim("date_of_birth").alias("dob")).distinct()
    dates = dates.filter(F.col("dob").rlike(YEAR_LAST_PATTERN))
    part = {n: F.regexp_extract("dob", YEAR_LAST_PATTERN, n).cast("int") for n in (1, 2)}
    counts = dates.groupBy("source").agg(
        F.sum((part[1] > 12).cast("int")).alias("first"),
        F.sum((part[2] > 12).cast("int")).alias("second"),
    )
    return {row.source: date_order(row.first, row.second) for row in counts.collect()}


def _unreadable_birth_dates(records: DataFrame) -> dict[str, int]:
    """``unreadable_birth_dates`` counted by source as ``engine.count_by_source`` counts them,
    each distinct text read once on the driver. Readable or not does not depend on a source's
    date order."""
    if {"source", "date_of_birth"} - set(records.columns) or not isinstance(
        records.schema["date_of_birth"].dataType, T.StringType
    ):
        return {}
    given = (
        records.where(F.col("date_of_birth").isNotNull() & F.col("source").isNotNull())
        .groupBy("source", "date_of_birth")
        .count()
        .collect()
    )
    counts: dict[str, int] = {}
    for row in given:
        if is_given(row.date_of_birth) and parse_date(row.date_of_birth) is pd.NaT:
            counts[row.source] = counts.get(row.source, 0) + int(row["count"])
    return dict(sorted(counts.items()))


@dataclass
class _Profiled:
    records: DataFrame  # one row per record: ids, order, profile, valid identifiers
    profiles: DataFrame  # one row per profile (``profile`` 0, 1, ...): its first record's fields
    count: int


def _profile(
    spark: SparkSession, records: DataFrame, order_by: str | None, kept: _Kept
) -> _Profiled:
    """Records grouped into profiles, numbered as ``engine._profiles_of`` numbers them."""
    for column in PERSON_RECORD_COLUMNS:
        if column not in records.columns:
            records = records.withColumn(column, F.lit(None).cast("string"))
    row = F.monotonically_increasing_id()
    records = records.select(
        *PERSON_RECORD_COLUMNS,
        *([F.col(order_by).alias("_order")] if order_by else []),
        row.alias("_row"),
    )
    if not order_by:
        records = records.withColumn("_order", F.col("_row"))
    # Each record's identity: the position (and record) of the first record with its fields.
    position = F.struct("_order", "_row", "record_id", "source")
    records = records.withColumn(
        "_identity", F.min(position).over(Window.partitionBy(*IDENTITY_COLUMNS))
    ).withColumn("_identity_row", F.col("_identity._row"))
    records = kept.keep(records)
    records.count()

    distinct = records.filter(F.col("_row") == F.col("_identity_row"))
    schema = T.StructType(
        [T.StructField("_identity_row", T.LongType())]
        + [
            T.StructField(column, T.IntegerType() if column == "birth_year" else T.StringType())
            for column in STANDARDISED
        ]
    )
    standardised = distinct.select("_identity_row", "source", *IDENTITY_COLUMNS).mapInPandas(
        _standardiser(_date_orders(distinct)), schema
    )
    raw = [column for column in IDENTITY_COLUMNS if column != "sex"]  # sex is standardised
    identities = distinct.select("_identity_row", "_identity", *raw).join(
        standardised, "_identity_row"
    )
    # A profile is shown through its first identity and its first record.
    identities = identities.withColumn(
        "_profile_first", F.min("_identity").over(Window.partitionBy(*PROFILE_COLUMNS))
    )
    identities = kept.keep(identities)
    firsts = identities.filter(F.col("_identity_row") == F.col("_profile_first._row"))
    numbers = _numbered(
        firsts.select(F.col("_profile_first").alias("_first")), "_first", "profile"
    ).select(F.col("_first._row").alias("_first_row"), "profile")
    numbers = kept.keep(numbers)
    profile_of = identities.join(
        numbers, identities["_profile_first._row"] == numbers["_first_row"]
    ).select("_identity_row", "profile", *VALID_IDENTIFIERS)
    records = kept.keep(
        records.join(profile_of, "_identity_row").select(
            "record_id", "source", "source_record_id", "_order", "_row", "profile",
            "nhs_number_valid", "upn_valid", "la_child_id_std",
        )
    )  # fmt: skip
    per_profile = records.groupBy("profile").agg(
        F.count(F.lit(1)).alias("records"), F.countDistinct("source").alias("sources")
    )
    profiles = (
        firsts.join(numbers, firsts["_profile_first._row"] == numbers["_first_row"])
        .select(
            "profile",
            F.col("_profile_first.record_id").alias("record_id"),
            F.col("_profile_first.source").alias("source"),
            *raw,
            *STANDARDISED,
        )
        .join(per_profile, "profile")
    )
    profiles = kept.keep(profiles)
    return _Profiled(records, profiles, profiles.count())


def _with_frequencies(profiles: DataFrame, kept: _Kept) -> DataFrame:
    """Each profile's term frequency per comparison: the share of non-blank profiles holding
    its value (``model.term_frequencies``), 0 where blank."""
    totals = profiles.agg(
        *(
            F.sum((F.col(column) != "").cast("long")).alias(name)
            for name, column in TERM_FREQUENCY_COLUMNS.items()
        )
    ).first()
    for name, column in TERM_FREQUENCY_COLUMNS.items():
        holding = F.count(F.lit(1)).over(Window.partitionBy(column))
        profiles = profiles.withColumn(
            FREQUENCIES[name],
            # Both counts as doubles, divided: the share pandas works out.
            F.when(F.col(column) != "", holding / F.lit(totals[name])).otherwise(F.lit(0.0)),
        )
    return kept.keep(profiles)


# --- 2. Block ----------------------------------------------------------------------------------


def _keyer(keys: list[str]) -> Callable:
    def key_texts(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            profiles = _as_objects(batch)
            out = pd.DataFrame({"profile": batch.profile.to_numpy()})
            for key in keys:
                out[key] = key_text(profiles, key).to_numpy(dtype=object)
            yield out

    return key_texts


@dataclass
class _Blocks:
    """Every profile's block per rule (``rule``: its position in ``rules``) and how many
    profiles the block holds (``size``)."""

    rules: list[tuple[str, ...]]
    blocks: DataFrame  # rule, block, profile, size (a row only where the profile has the key)
    sizes: dict[tuple[str, ...], tuple[int, int]]  # rule -> (pairs, profiles with the key)
    # rule -> pairs in blocks of at most ``max_block`` profiles
    small_block_pairs: dict[tuple[str, ...], int]

    @classmethod
    def of(
        cls,
        profiles: DataFrame,
        rules: list[tuple[str, ...]],
        kept: _Kept,
        max_block: int | None,
    ) -> _Blocks:
        keys = [key for key in KEYS if any(key in rule for rule in rules)]
        unknown = {key for rule in rules for key in rule} - set(KEYS)
        if unknown:
            raise ValueError(f"unknown blocking key {sorted(unknown)}; known keys: {KEYS}")
        schema = T.StructType(
            [T.StructField("profile", T.LongType())]
            + [T.StructField(key, T.StringType()) for key in keys]
        )
        texts = profiles.select("profile", *COMPARED).mapInPandas(_keyer(keys), schema)
        entries = []
        for position, rule in enumerate(rules):
            present = F.lit(True)
            for key in rule:
                present = present & (F.col(key) != "")
            entries.append(
                F.when(
                    present,
                    F.struct(
                        F.lit(position).alias("rule"),
                        F.concat_ws("\x1f", *rule).alias("block"),
                    ),
                )
            )
        blocks = (
            texts.select("profile", F.explode(F.array(*entries)).alias("entry"))
            .filter(F.col("entry").isNotNull())
            .select("entry.rule", "entry.block", "profile")
        )
        sized = blocks.groupBy("rule", "block").agg(F.count("*").alias("size"))
        blocks = kept.keep(blocks.join(sized, ["rule", "block"]))
        pairs = F.expr("size * (size - 1) div 2")
        small = F.lit(False) if max_block is None else F.col("size") <= max_block
        counted = (
            sized.groupBy("rule")
            .agg(
                F.sum(pairs).alias("pairs"),
                F.sum("size").alias("profiles"),
                F.sum(F.when(small, pairs).otherwise(0)).alias("small_block_pairs"),
            )
            .collect()
        )
        sizes = {rule: (0, 0) for rule in rules}
        small_block_pairs = dict.fromkeys(rules, 0)
        for row in counted:
            sizes[rules[row["rule"]]] = (int(row["pairs"]), int(row["profiles"]))
            small_block_pairs[rules[row["rule"]]] = int(row["small_block_pairs"])
        return cls(rules, blocks, sizes, small_block_pairs)

    def pairs(
        self, rules: list[tuple[tuple[str, ...], int | None]], blocks: DataFrame | None = None
    ) -> DataFrame:
        """Pairs of profiles (``row_l`` < ``row_r``) in one block of any of ``rules`` (each
        with the most profiles its blocks may hold, ``None``: any) (``blocks``: only these
        profiles' blocks)."""
        blocks = self.blocks if blocks is None else blocks
        chosen_rule = F.lit(False)
        for rule, max_block in rules:
            this_rule = F.col("rule") == self.rules.index(rule)
            if max_block is not None:
                this_rule = this_rule & (F.col("size") <= max_block)
            chosen_rule = chosen_rule | this_rule
        chosen = blocks.filter(chosen_rule)
        left = chosen.select("rule", "block", F.col("profile").alias("row_l"))
        right = chosen.select("rule", "block", F.col("profile").alias("row_r"))
        return (
            left.join(right, ["rule", "block"])
            .filter(F.col("row_l") < F.col("row_r"))
            .select("row_l", "row_r")
        )


@dataclass
class _FoundOnSpark:
    """``blocking.FoundPairs`` on Spark: the rules added, their pairs counted when asked."""

    blocks: _Blocks
    rules: list[tuple[tuple[str, ...], int | None]] = field(default_factory=list)

    def add(self, rule: tuple[str, ...], max_block: int | None) -> None:
        self.rules.append((rule, max_block))

    def distinct(self) -> int:
        return self.blocks.pairs(self.rules).distinct().count() if self.rules else 0

    def add_new(self, rule: tuple[str, ...], room: int, max_block: int | None) -> int | None:
        new = self.blocks.pairs([(rule, max_block)])
        if self.rules:
            new = new.join(self.blocks.pairs(self.rules), ["row_l", "row_r"], "left_anti")
        count = new.count()
        if count > room:
            return None
        self.rules.append((rule, max_block))
        return count


def _day_month_swapped(profiles: DataFrame) -> DataFrame:
    """``blocking._day_month_swapped``: a birth date read day-for-month joined to the plain one
    at the same postcode."""
    swapped = profiles.filter(
        (F.col("dob_swapped_text") != "") & (F.col("postcode_std") != "")
    ).select(
        F.col("profile").alias("swapped"),
        F.col("dob_swapped_text").alias("day"),
        "postcode_std",
    )
    plain = profiles.filter(F.col("postcode_std") != "").select(
        F.col("profile").alias("plain"), F.col("dob_text").alias("day"), "postcode_std"
    )
    return (
        swapped.join(plain, ["day", "postcode_std"])
        .filter(F.col("swapped") != F.col("plain"))
        .select(
            F.least("swapped", "plain").alias("row_l"),
            F.greatest("swapped", "plain").alias("row_r"),
        )
    )


def _identifier_pairs(profiles: DataFrame) -> DataFrame:
    """``engine.identifier_pairs``: each profile sharing a valid NHS number, UPN or LA child id
    paired with the first profile holding it, and a former UPN with the current one."""
    found = []
    for column in ("nhs_number_valid", "upn_valid", "la_child_id_std"):
        held = profiles.filter(F.col(column).isNotNull()).select("profile", column)
        first = held.groupBy(column).agg(F.min("profile").alias("first"))
        found.append(
            held.join(first, column)
            .filter(F.col("profile") != F.col("first"))
            .select(F.col("first").alias("row_l"), F.col("profile").alias("row_r"))
        )
    former = profiles.filter(F.col("former_upn_valid").isNotNull()).select(
        F.col("profile").alias("former"), F.col("former_upn_valid").alias("upn")
    )
    current = profiles.filter(F.col("upn_valid").isNotNull()).select(
        F.col("profile").alias("current"), F.col("upn_valid").alias("upn")
    )
    found.append(
        former.join(current, "upn")
        .filter(F.col("former") != F.col("current"))
        .select(
            F.least("former", "current").alias("row_l"),
            F.greatest("former", "current").alias("row_r"),
        )
    )
    pairs = found[0]
    for more in found[1:]:
        pairs = pairs.union(more)
    return pairs.distinct()


def _one_slip_pairs(profiles: DataFrame) -> DataFrame:
    """``engine.one_slip_pairs``: the slips of each failing identifier (a few in a hundred
    profiles) are worked out on the executors, in batches (``one_slip_identifiers`` in
    ``mapInPandas``), and the profiles holding them found by a join: nothing that grows with
    the population comes to the driver."""
    spark = profiles.sparkSession
    found = []
    for raw, valid in SLIPPED_IDENTIFIERS:
        failing = profiles.filter(F.col(raw).isNotNull() & F.col(valid).isNull()).select(
            "profile", raw
        )
        slipped = failing.mapInPandas(_slipper(raw), "profile long, identifier string")
        holders = (
            profiles.filter(F.col(valid).isNotNull())
            .groupBy(F.col(valid).alias("identifier"))
            .agg(F.min("profile").alias("holder"))
        )
        one = (
            slipped.join(holders, "identifier")
            .groupBy("profile")
            .agg(F.countDistinct("identifier").alias("held"), F.min("holder").alias("holder"))
            .filter(F.col("held") == 1)
        )
        found.append(
            one.select(
                F.least("profile", "holder").alias("row_l"),
                F.greatest("profile", "holder").alias("row_r"),
            )
        )
    if not found:
        return spark.createDataFrame([], "row_l long, row_r long")
    pairs = found[0]
    for more in found[1:]:
        pairs = pairs.union(more)
    return pairs.distinct()


def _slipper(kind: str) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """Per batch of (``profile``, failing ``kind`` value): each valid identifier one slip away
    (``one_slip_identifiers``), with the profile whose value it is a slip of."""

    def batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            slips = one_slip_identifiers(frame[kind].reset_index(drop=True), kind)
            yield pd.DataFrame(
                {
                    "profile": frame.profile.to_numpy(dtype=np.int64)[slips.position],
                    "identifier": slips.identifier.to_numpy(dtype=object),
                }
            )

    return batches


def _slips_kept(scored: DataFrame) -> DataFrame:
    """``engine.with_slipped_identifiers``'s choice of slipped pairs, on level codes."""
    columns = [F.col(f"{name}_level") for name in ("first_name", "last_name", "date_of_birth")]
    return scored.filter(slip_stands(*columns, level=level_code))


# --- Training ----------------------------------------------------------------------------------


@dataclass
class _PopulationOnSpark:
    """``model.TrainingPopulation`` on Spark: pairs compared on Spark, counted per comparison
    vector, the counts brought to the driver."""

    profiles: DataFrame
    count: int
    blocks: _Blocks

    def __len__(self) -> int:
        return self.count

    def _levels(self, pairs: DataFrame, random: bool, expected_pairs: int) -> LevelCounts:
        counted = _compared(
            pairs, self.profiles, [*COMPARED, *KNOWN], _counter(random), COUNT_SCHEMA,
            expected_pairs,
        )  # fmt: skip
        return _level_counts(counted)

    def random_pairs(self, sample: RandomPairs) -> LevelCounts:
        # Each task draws the pairs and keeps its share: nothing is sent from the driver.
        shares = max(_partitions(self.profiles.sparkSession), math.ceil(sample.size / BATCH_PAIRS))
        pairs = self.profiles.sparkSession.range(shares, numPartitions=shares).mapInPandas(
            _drawer(sample, shares), "row_l long, row_r long"
        )
        return self._levels(pairs, random=True, expected_pairs=sample.size)

    def block(
        self, rule: tuple[str, ...], max_pairs: int, rng: np.random.Generator
    ) -> tuple[LevelCounts, int]:
        total, holding = self.blocks.sizes[rule]
        blocks = self.blocks.blocks.filter(F.col("rule") == self.blocks.rules.index(rule))
        kept = sampled(holding, total, max_pairs, rng)
        if kept is not None:
            # The profiles with the key, in profile order, drawn as ``block_pairs`` draws them.
            spark = self.profiles.sparkSession
            drawn = spark.createDataFrame(
                pd.DataFrame({"position": np.flatnonzero(kept).astype(np.int64)}),
                "position long",
            )
            positions = _numbered(blocks.select("profile"), "profile", "position")
            blocks = blocks.join(positions.join(drawn, "position"), "profile")
        pairs = self.blocks.pairs([(rule, None)], blocks)
        return self._levels(pairs, random=False, expected_pairs=min(total, max_pairs)), total

    def sharing(self, columns: list[str]) -> float:
        present = F.lit(True)
        for column in columns:
            present = present & F.col(column).isNotNull() & (F.col(column) != "")
        counted = self.profiles.filter(present).groupBy(*columns).count()
        total = counted.agg(F.sum(F.expr("count * (count - 1) div 2"))).first()[0]
        return float(total or 0)


# --- 4. Cluster --------------------------------------------------------------------------------


def _components(edges: DataFrame, kept: _Kept) -> DataFrame:
    """Each profile of ``edges`` (``row_l``, ``row_r``) with ``component``: the smallest
    profile connected to it. Each round takes the smallest label among a profile's
    neighbours, then the label of that label (which halves the distance left)."""
    both = kept.keep(
        edges.select(F.col("row_l").alias("node"), F.col("row_r").alias("next"))
        .union(edges.select(F.col("row_r").alias("node"), F.col("row_l").alias("next")))
        .distinct()
    )
    labels = kept.keep(
        both.groupBy("node").agg(F.least(F.min("next"), F.first("node")).alias("label"))
    )
    total = labels.agg(F.sum("label")).first()[0]
    while True:
        neighbours = (
            both.join(
                labels.select(F.col("node").alias("next"), F.col("label").alias("theirs")),
                "next",
            )
            .groupBy("node")
            .agg(F.min("theirs").alias("theirs"))
        )
        lowered = labels.join(neighbours, "node").select(
            "node", F.least("label", "theirs").alias("label")
        )
        jumped = lowered.join(
            lowered.select(F.col("node").alias("label"), F.col("label").alias("onward")), "label"
        ).select("node", F.least("label", "onward").alias("label"))
        labels = kept.keep(jumped)
        # Labels only ever fall: an unchanged sum is an unchanged labelling.
        now = labels.agg(F.sum("label")).first()[0]
        _log.debug("connected components: a round")
        if now == total:
            return labels.select(F.col("node").alias("profile"), F.col("label").alias("component"))
        total = now


def _levels_named(frame: pd.DataFrame) -> pd.DataFrame:
    """Level codes back to ``score_pairs``'s level names (categorical)."""
    for name in COMPARISONS:
        frame[f"{name}_level"] = level_names(name, frame[f"{name}_level"].to_numpy(np.int8))
    return frame


def _scored_frame(pairs: pd.DataFrame, rows: Callable[[pd.Series], np.ndarray]) -> pd.DataFrame:
    """Pairs from Spark as ``score_pairs`` gives them, their profiles renumbered by ``rows``."""
    frame = pairs[PAIR_SCHEMA.fieldNames()].copy()
    frame["row_l"] = rows(frame.row_l)
    frame["row_r"] = rows(frame.row_r)
    for column in ("record_id_l", "record_id_r"):
        frame[column] = frame[column].astype(object)
    return _levels_named(frame).reset_index(drop=True)


CLUSTERED_SCHEMA = T.StructType(
    [
        T.StructField("row_l", T.LongType()),  # a pair's rows, or a profile and its root
        T.StructField("row_r", T.LongType()),
        T.StructField("decision", T.StringType()),
        T.StructField("rule", T.StringType()),
        T.StructField("root", T.LongType()),
    ]
)
# Where a pair of the cluster step's input comes from.
BY_IDENTIFIER, SCORED_PAIR, REVIEWED, BY_SLIP = 0, 1, 2, 3


@dataclass(frozen=True)
class _ClusterRun:
    """What clustering a group of components needs besides its pairs and profiles."""

    model: FellegiSunterModel
    thresholds: ThresholdChoice
    settings: LinkageSettings
    households: int
    attested_households: int
    term_frequency: bool

    def __call__(self, pairs: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        """``cluster_profiles`` on whole components: each pair's decision and rule, and each
        profile's root (``row_l`` the profile, ``row_r`` null)."""
        if pairs.empty:
            return pd.DataFrame(columns=CLUSTERED_SCHEMA.fieldNames())
        profiles = _as_objects(profiles).sort_values("profile").reset_index(drop=True)
        ids = profiles.profile.to_numpy(dtype=np.int64)

        def rows(values: pd.Series) -> np.ndarray:
            return np.searchsorted(ids, values.to_numpy(dtype=np.int64))

        origin = pairs.origin.to_numpy()
        identified = pairs[np.isin(origin, (BY_IDENTIFIER, BY_SLIP))].sort_values(
            ["row_l", "row_r"]
        )
        by_identifier = _scored_frame(identified, rows).assign(
            rule=np.where(identified.origin.to_numpy() == BY_SLIP, ONE_SLIP_RULE, "")
        )
        scored = _scored_frame(pairs[origin == SCORED_PAIR], rows)
        decided = pairs[origin == REVIEWED].sort_values("seq")
        reviewed = pd.DataFrame(
            {
                "row_l": rows(decided.row_l),
                "row_r": rows(decided.row_r),
                "decision": decided.decision.to_numpy(dtype=object),
            }
        )
        evidence = HouseholdEvidence(
            attested=profiles.attested.to_numpy(dtype=bool),
            households=self.households,
            attested_households=self.attested_households,
            two_names=profiles.two_names.to_numpy(dtype=bool),
            two_attested_names=profiles.two_attested_names.to_numpy(dtype=bool),
            two_identifiers=profiles.two_identifiers.to_numpy(dtype=bool),
        )
        columns = ProfileColumns.from_profiles(profiles)
        score = {
            "model": self.model,
            "columns": columns,
            "chunk_pairs": self.settings.chunk_pairs,
            "term_frequency": self.term_frequency,
            "frequencies": _frequencies_of(profiles),
        }
        coherence = None
        if self.settings.thresholds.min_average_probability is not None:
            coherence = Coherence(
                score=lambda left, right: score_pairs(
                    profiles, np.c_[left, right].astype(np.int64), **score
                ),
                min_weight=weight_of_probability(self.settings.thresholds.min_average_probability),
                records_per_profile=profiles.records.to_numpy(dtype=np.int64),
            )
        roots, clustered = cluster_profiles(
            profiles,
            columns,
            by_identifier,
            scored,
            reviewed,
            self.thresholds,
            self.settings.auto_rules,
            twins_from(evidence, self.settings.twins),
            coherence,
        )
        decisions = pd.DataFrame(
            {
                "row_l": ids[clustered.row_l.to_numpy()],
                "row_r": ids[clustered.row_r.to_numpy()],
                "decision": clustered.decision.to_numpy(dtype=object),
                "rule": clustered.rule.to_numpy(dtype=object),
                "root": None,
            }
        )
        roots = pd.DataFrame(
            {"row_l": ids, "row_r": None, "decision": None, "rule": None, "root": ids[roots]}
        )
        return pd.concat([decisions, roots], ignore_index=True)


def _clusterer(run: _ClusterRun) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    def cluster(pairs: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        return run(pairs, profiles)

    return cluster


EVIDENCE_SCHEMA = T.StructType(
    [
        T.StructField("profile", T.LongType()),
        T.StructField("attested", T.BooleanType()),
        T.StructField("two_names", T.BooleanType()),
        T.StructField("two_attested_names", T.BooleanType()),
        T.StructField("two_identifiers", T.BooleanType()),
        T.StructField("households", T.LongType()),
        T.StructField("attested_households", T.LongType()),
    ]
)


def _household_evidence(profiles: pd.DataFrame) -> pd.DataFrame:
    """``household_evidence`` for profiles of whole birthdays; the households counted on the
    first row."""
    profiles = _as_objects(profiles).sort_values("profile").reset_index(drop=True)
    evidence = household_evidence(profiles, ProfileColumns.from_profiles(profiles))
    counts = np.zeros(len(profiles), dtype=np.int64)
    attested_counts = counts.copy()
    if len(profiles):
        counts[0], attested_counts[0] = evidence.households, evidence.attested_households
    return pd.DataFrame(
        {
            "profile": profiles.profile.to_numpy(dtype=np.int64),
            "attested": evidence.attested,
            "two_names": evidence.two_names,
            "two_attested_names": evidence.two_attested_names,
            "two_identifiers": evidence.two_identifiers,
            "households": counts,
            "attested_households": attested_counts,
        }
    )


def _bridge_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``bridge_rows`` for records of whole clusters, with their order kept."""
    frame = _as_objects(frame)
    bridge = bridge_rows(frame)
    bridge["_order"] = frame._order.to_numpy()
    bridge["_row"] = frame._row.to_numpy()
    return bridge


# --- The run -----------------------------------------------------------------------------------


def link_records_spark(
    spark: SparkSession,
    records: DataFrame,
    settings: LinkageSettings | None = None,
    state: KeyState | None = None,
    run_id: str = "run",
    decisions: pd.DataFrame | None = None,
    model: FellegiSunterModel | None = None,
    order_by: str | None = "record_id",
) -> LinkageResult:
    """``link_records`` with its pairwise work on Spark: the same result for the same records
    (``PERSON_RECORD_COLUMNS``), settings, previous keys (``state``), reviewers' decisions and
    model. ``order_by`` is the column in whose order the pandas engine would take the records
    (the warehouse hands it them by ``record_id``); ``None``: the order Spark reads them in.
    The bridge, pairs, review queue and registry come back as pandas frames; the summary is
    the pandas engine's, with ``engine: "spark"``. Needs a classic (not Spark Connect)
    session whose Python workers can import this package."""
    settings = settings or DEFAULT_SETTINGS
    kept = _Kept()
    try:
        return _link(spark, records, settings, state, run_id, decisions, model, order_by, kept)
    finally:
        kept.release()


def _link(
    spark: SparkSession,
    records: DataFrame,
    settings: LinkageSettings,
    state: KeyState | None,
    run_id: str,
    decisions: pd.DataFrame | None,
    model: FellegiSunterModel | None,
    order_by: str | None,
    kept: _Kept,
) -> LinkageResult:
    stopwatch = Stopwatch()
    # 1. Profile.
    unreadable = _unreadable_birth_dates(records)
    profiled = _profile(spark, records, order_by, kept)
    n = profiled.count
    profiles = _with_frequencies(profiled.profiles, kept)
    rules = list(dict.fromkeys([*settings.blocking.rules, *settings.training.blocks]))
    blocks = _Blocks.of(profiles, rules, kept, settings.blocking.max_block_profiles)
    stopwatch.lap("profile")
    _log.debug("%d profiles, %s", n, stopwatch.seconds)
    enough_to_train = n >= settings.training.min_profiles
    if model is not None:
        origin = "given"
    elif enough_to_train:
        model, origin = train_on(_PopulationOnSpark(profiles, n, blocks), settings), "trained"
    else:
        model, origin = default_model(), "default"
    model = model.for_population(max(n, settings.training.min_profiles))
    thresholds = choose_thresholds(model, settings.thresholds)
    stopwatch.lap("train")

    # 2. Block.
    found = _FoundOnSpark(blocks)
    counted = [
        Counted(rule, blocks.sizes[rule][0], blocks.small_block_pairs[rule])
        for rule in settings.blocking.rules
    ]
    reports = choose_within_budget(counted, n, settings.blocking, found)
    candidates = blocks.pairs(found.rules)
    if settings.blocking.day_month_swap:
        candidates = candidates.union(_day_month_swapped(profiles))
    candidates = kept.keep(candidates.distinct())
    candidate_count = candidates.count()
    stopwatch.lap("block")
    _log.debug("%d candidate pairs, %s", candidate_count, stopwatch.seconds)

    # 3. Score.
    def scored_on_spark(pairs: DataFrame, min_weight: float | None, expected: int) -> DataFrame:
        scorer = _scorer(model, min_weight, enough_to_train, settings.chunk_pairs)
        return _compared(pairs, profiles, SCORED, scorer, PAIR_SCHEMA, expected)

    identified = kept.keep(_identifier_pairs(profiles))
    slipped = _one_slip_pairs(profiles).join(identified, ["row_l", "row_r"], "left_anti")
    slipped = _slips_kept(scored_on_spark(slipped, None, n))
    by_identifier = kept.keep(
        scored_on_spark(identified, None, n)
        .withColumn("origin", F.lit(BY_IDENTIFIER))
        .unionByName(slipped.withColumn("origin", F.lit(BY_SLIP)))
    )
    identified = kept.keep(by_identifier.select("row_l", "row_r"))
    scored = kept.keep(
        scored_on_spark(
            candidates.join(identified, ["row_l", "row_r"], "left_anti"),
            thresholds.review_threshold,
            candidate_count,
        )
    )
    _log.debug("%d scored pairs kept", scored.count())  # counting them keeps them
    stopwatch.lap("score")

    # 4. Cluster.
    buckets = _buckets(spark, n)
    evidence, twins = _twins(profiles, buckets, settings, kept)
    run = _ClusterRun(
        model, thresholds, settings, twins.households, twins.attested_households, enough_to_train
    )
    pairs, records = _clusters(
        profiled.records,
        profiles,
        evidence,
        by_identifier,
        scored,
        _reviewed(spark, profiled.records, decisions),
        run,
        buckets,
        kept,
    )

    def candidates_of(waiting: np.ndarray) -> pd.DataFrame:
        """Every candidate pair of these profiles, scored."""
        chosen = spark.createDataFrame(
            pd.DataFrame({"profile": waiting.astype(np.int64)}), "profile long"
        )
        mine = (
            candidates.join(
                F.broadcast(chosen),
                (candidates.row_l == chosen.profile) | (candidates.row_r == chosen.profile),
            )
            .select("row_l", "row_r")
            .distinct()
        )
        rescored = scored_on_spark(mine, None, len(waiting)).toPandas()
        return _scored_frame(rescored, lambda rows: rows.to_numpy(dtype=np.int64))

    lonely = _lonely(records, settings.review_first_sources)
    pairs, unlinked_first = review_unlinked_first(pairs, lonely, candidates_of)
    stopwatch.lap("cluster")

    # 5. Key.
    first_record = records.groupBy("cluster").agg(F.min("record_id").alias("record_id"))
    keys = keys_of_clusters(
        _overlap(spark, records, state),
        first_record.toPandas().set_index("cluster").record_id.astype(object),
        state,
        run_id,
    )
    cluster_keys = spark.createDataFrame(
        pd.DataFrame(
            {
                "cluster": keys.cluster_keys.index.to_numpy(dtype=np.int64),
                "person_key": keys.cluster_keys.to_numpy(dtype=object),
            }
        ),
        "cluster long, person_key string",
    )
    children = len(keys.cluster_keys)  # one key per cluster
    profile_keys, profile_records, records_of_key, shown = _waiting_profiles(
        profiles, records, cluster_keys, pairs, n
    )
    pairs, waiting, deferred = queue_for_review(
        pairs,
        profile_keys,
        profile_records,
        state,
        unlinked_first,
        children,
        settings,
        records_of_key,
    )
    bridge = _bridge(spark, records, cluster_keys, best_probability(pairs), buckets)
    absent_record_keys = carried_forward(state, bridge.record_id, keys.registry)
    stopwatch.lap("key")
    summary = linkage_summary(
        origin=origin,
        records=len(bridge),
        profiles=n,
        candidate_pairs=candidate_count,
        blocking_rules=rules_report(reports),
        thresholds=thresholds,
        model=model,
        twins=twins,
        pairs=pairs,
        waiting=waiting,
        deferred=len(deferred),
        children=children,
        profile_keys=profile_keys,
        unreadable_birth_dates=unreadable,
        seconds=stopwatch.seconds,
    )
    return LinkageResult(
        bridge=bridge,
        pairs=pairs.drop(columns=["row_l", "row_r"]),
        review_queue=review_queue(shown, waiting),
        registry=keys.registry,
        history=keys.history,
        model=model,
        absent_record_keys=absent_record_keys,
        summary={"engine": "spark", **summary},
    )


def _twins(
    profiles: DataFrame, buckets: int, settings: LinkageSettings, kept: _Kept
) -> tuple[DataFrame, TwinEvidence]:
    """Each profile's household evidence (``household_evidence`` for groups of whole
    birthdays), and what the population's households say about twins (``twins_from``: its
    per-profile arrays are left empty, the evidence stays on Spark)."""
    evidence = kept.keep(
        profiles.select("profile", "sources", "nhs_number_valid", "upn_valid", *COMPARED)
        .groupBy(_bucket("dob_text", buckets).alias("bucket"))
        .applyInPandas(_household_evidence, EVIDENCE_SCHEMA)
    )
    households, attested = evidence.agg(F.sum("households"), F.sum("attested_households")).first()
    none = np.zeros(0, dtype=bool)
    population = HouseholdEvidence(none, int(households or 0), int(attested or 0), none, none, none)
    return evidence.drop("households", "attested_households"), twins_from(
        population, settings.twins
    )


def _clusters(
    records: DataFrame,
    profiles: DataFrame,
    evidence: DataFrame,
    by_identifier: DataFrame,
    scored: DataFrame,
    reviewed: pd.DataFrame,
    run: _ClusterRun,
    buckets: int,
    kept: _Kept,
) -> tuple[pd.DataFrame, DataFrame]:
    """``cluster_profiles`` inside the connected components of the pairs that could join two
    profiles, several whole components at a time. Returns the pairs with their decisions (in
    ``cluster_profiles``'s order) and the records with their ``cluster``."""
    spark = records.sparkSession
    pairs = by_identifier.unionByName(scored.withColumn("origin", F.lit(SCORED_PAIR)))
    edges = pairs.select("row_l", "row_r")
    pair_input = pairs.withColumn("decision", F.lit(None).cast("string")).withColumn(
        "seq", F.lit(None).cast("long")
    )
    if len(reviewed):
        decided = spark.createDataFrame(
            reviewed.assign(seq=np.arange(len(reviewed), dtype=np.int64)),
            "row_l long, row_r long, decision string, seq long",
        )
        edges = edges.union(decided.select("row_l", "row_r"))
        pair_input = pair_input.unionByName(
            decided.withColumn("origin", F.lit(REVIEWED)), allowMissingColumns=True
        )
    components = kept.keep(_components(edges, kept))
    # Each side names its bucket afresh: Spark refuses two sides sharing one column.
    pair_input = pair_input.join(
        components.select(
            F.col("profile").alias("row_l"), _bucket("component", buckets).alias("bucket")
        ),
        "row_l",
    )
    profile_input = (
        profiles.select("profile", "records", "nhs_number_valid", "upn_valid", *SCORED)
        .join(evidence, "profile")
        .join(
            components.select("profile", _bucket("component", buckets).alias("bucket")),
            "profile",
        )
    )
    clustered = kept.keep(
        pair_input.groupBy("bucket")
        .cogroup(profile_input.groupBy("bucket"))
        .applyInPandas(_clusterer(run), CLUSTERED_SCHEMA)
    )
    decided_pairs = _pairs_in_order(
        clustered.filter(F.col("row_r").isNotNull())
        .drop("root")
        .join(pairs, ["row_l", "row_r"])
        .toPandas()
    )
    roots = clustered.filter(F.col("row_r").isNull()).select(
        F.col("row_l").alias("profile"), "root"
    )
    # A profile no pair could join to another is a cluster of its own.
    records = kept.keep(
        records.join(roots, "profile", "left").withColumn("cluster", F.coalesce("root", "profile"))
    )
    return decided_pairs, records


def _reviewed(
    spark: SparkSession, records: DataFrame, decisions: pd.DataFrame | None
) -> pd.DataFrame:
    """``engine.reviewed_profiles``, with the profiles of the records decided on looked up on
    Spark."""
    if decisions is None or decisions.empty:
        return reviewed_profiles(decisions, pd.Series(dtype="int64"))
    ids = pd.unique(pd.concat([decisions.record_id_l, decisions.record_id_r]).astype(str))
    wanted = spark.createDataFrame(pd.DataFrame({"record_id": ids}), "record_id string")
    found = records.join(F.broadcast(wanted), "record_id").select("record_id", "profile")
    profile_of = found.toPandas().set_index("record_id").profile
    return reviewed_profiles(decisions, profile_of)


def _pairs_in_order(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs as ``cluster_profiles`` returns them: identifier pairs by rows, then scored
    pairs strongest first."""
    columns = [*PAIR_SCHEMA.fieldNames(), "decision", "rule"]
    by_identifier = pairs[pairs.origin.isin([BY_IDENTIFIER, BY_SLIP])].sort_values(
        ["row_l", "row_r"]
    )
    scored = pairs[pairs.origin == SCORED_PAIR].sort_values(
        ["match_weight", "row_l", "row_r"], ascending=[False, True, True]
    )
    ordered = pd.concat([by_identifier, scored], ignore_index=True)[columns]
    for column in ("record_id_l", "record_id_r", "decision", "rule"):
        ordered[column] = ordered[column].astype(object)
    return _levels_named(ordered)


def _lonely(records: DataFrame, sources: tuple[str, ...]) -> np.ndarray:
    """``engine.lonely_profiles`` on Spark: profiles of clusters all of whose records come from
    ``sources``."""
    if not sources:
        return np.zeros(0, dtype=np.int64)
    lonely_clusters = (
        records.groupBy("cluster")
        .agg(F.min(F.coalesce(F.col("source").isin(list(sources)), F.lit(False))).alias("only"))
        .filter(F.col("only"))
        .select("cluster")
    )
    lonely = records.join(lonely_clusters, "cluster").select("profile").distinct().toPandas()
    return np.sort(lonely.profile.to_numpy(dtype=np.int64))


def _overlap(spark: SparkSession, records: DataFrame, state: KeyState | None) -> pd.DataFrame:
    """How many records of each cluster had each earlier key."""
    if state is None or state.record_keys.empty:
        return pd.DataFrame({"cluster": [], "person_key": [], "records": []})
    earlier = spark.createDataFrame(
        state.record_keys[["record_id", "person_key"]].astype(object),
        "record_id string, person_key string",
    )
    overlap = (
        records.select("record_id", "cluster")
        .join(earlier, "record_id")
        .groupBy("cluster", "person_key")
        .agg(F.count(F.lit(1)).alias("records"))
        .toPandas()
    )
    overlap["person_key"] = overlap.person_key.astype(object)
    return overlap


def _waiting_profiles(
    profiles: DataFrame, records: DataFrame, cluster_keys: DataFrame, pairs: pd.DataFrame, n: int
) -> tuple[np.ndarray, np.ndarray, pd.Series, pd.DataFrame]:
    """What the review queue needs of the profiles of pairs that may wait for a reviewer:
    each one's key and records (in arrays by profile row, blank elsewhere), each of their keys'
    records, and their fields (``REVIEW_FIELDS``, indexed by profile)."""
    waiting = pairs[pairs.decision.isin(REVIEW_DECISIONS)]
    rows = np.unique(np.r_[waiting.row_l.to_numpy(), waiting.row_r.to_numpy()]).astype(np.int64)
    spark = profiles.sparkSession
    wanted = spark.createDataFrame(pd.DataFrame({"profile": rows}), "profile long")
    clusters = records.select("profile", "cluster").distinct()
    shown = (
        profiles.join(F.broadcast(wanted), "profile")
        .join(clusters, "profile")
        .join(cluster_keys, "cluster")
        .select("profile", "records", "person_key", "cluster", *REVIEW_FIELDS)
        .toPandas()
    )
    shown = _as_objects(shown).set_index("profile").sort_index()
    shown.index = shown.index.astype(np.int64)
    profile_keys = np.full(n, None, dtype=object)
    profile_records = np.zeros(n, dtype=np.int64)
    profile_keys[shown.index.to_numpy()] = shown.person_key.to_numpy(dtype=object)
    profile_records[shown.index.to_numpy()] = shown.records.to_numpy(dtype=np.int64)
    their_clusters = spark.createDataFrame(
        pd.DataFrame({"cluster": shown.cluster.unique().astype(np.int64)}), "cluster long"
    )
    sizes = (
        records.join(F.broadcast(their_clusters), "cluster")
        .groupBy("cluster")
        .count()
        .join(cluster_keys, "cluster")
        .toPandas()
    )
    records_of_key = sizes.set_index(sizes.person_key.astype(object))["count"].astype(np.int64)
    return profile_keys, profile_records, records_of_key, shown


def _bridge(
    spark: SparkSession,
    records: DataFrame,
    cluster_keys: DataFrame,
    best: pd.Series,
    buckets: int,
) -> pd.DataFrame:
    """The bridge (``bridge_rows``) made on Spark for groups of whole clusters, in record
    order."""
    best_table = spark.createDataFrame(
        pd.DataFrame(
            {"profile": best.index.to_numpy(dtype=np.int64), "best_probability": best.to_numpy()}
        ),
        "profile long, best_probability double",
    )
    schema = T.StructType(
        [
            T.StructField("source", T.StringType()),
            T.StructField("source_record_id", T.StringType()),
            T.StructField("record_id", T.StringType()),
            T.StructField("person_key", T.StringType()),
            T.StructField("match_method", T.StringType()),
            T.StructField("match_probability", T.DoubleType()),
            records.schema["_order"],
            records.schema["_row"],
        ]
    )
    bridge = (
        records.join(cluster_keys, "cluster")
        .join(best_table, "profile", "left")
        .select(
            "record_id",
            "source",
            "source_record_id",
            "cluster",
            "person_key",
            "nhs_number_valid",
            "upn_valid",
            "la_child_id_std",
            "best_probability",
            "_order",
            "_row",
        )
        .groupBy(_bucket("cluster", buckets).alias("bucket"))
        .applyInPandas(_bridge_rows, schema)
        .toPandas()
    )
    # In the records' order, as the pandas engine gives it.
    bridge = bridge.sort_values(["_order", "_row"]).drop(columns=["_order", "_row"])
    bridge = bridge.reset_index(drop=True)
    for column in ("source", "source_record_id", "record_id", "person_key", "match_method"):
        bridge[column] = bridge[column].astype(object)
    return bridge
