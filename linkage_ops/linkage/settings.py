"""Everything that shapes a linkage run, as one data object (the way Splink's settings are data).

``LinkageSettings`` holds the comparisons with their named levels in order, the similarity
cut-offs the levels use, the blocking rules and the pair budget that chooses among them, the
training blocks and EM settings, and how the match and review thresholds are chosen. It is
saved inside every trained model file (``FellegiSunterModel.to_json``), so a model says what it
was trained with; a model whose comparison levels differ from the engine's is refused with a
message saying how to retrain (``check_levels``).

``DEFAULT_SETTINGS`` is the only place these values are written down.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from linkage_ops.ingest.schema import DEATHS_SOURCE


@dataclass(frozen=True)
class Comparison:
    """One field comparison: its levels in order (a pair takes the first level whose rule it
    meets; level 0 is always ``missing``), and whether the exact level is adjusted for how
    common the value is."""

    name: str
    levels: tuple[str, ...]
    term_frequency: bool = False


@dataclass(frozen=True)
class BlockingSettings:
    """Candidate pairs agree on every key of at least one rule (keys: ``blocking.KEYS``).

    A rule giving more than ``max_rule_pairs_per_profile`` pairs per profile on this data is too
    coarse for this population as a whole and runs only in its blocks of at most
    ``max_block_profiles`` profiles (``None``: left out); the rules run cheapest first while the
    distinct pairs found stay within ``max_pairs_per_profile`` per profile (a rule is charged
    only for pairs no cheaper rule found; a key mostly blank is cheap and kept), or
    ``min_pairs`` if more.
    A rule whose keys include all of a used rule's keys adds nothing and is skipped. The run
    reports each rule's pairs and fate.
    """

    rules: tuple[tuple[str, ...], ...]
    max_pairs_per_profile: float = 8.0
    # The budget is never below this many pairs: a population of tens of thousands scores
    # them in a second or two, and a weaker-field one needs the rules they pay for.
    min_pairs: int = 500_000
    max_rule_pairs_per_profile: float = 4.0
    max_block_profiles: int | None = 10
    # Also join a birth date read day-for-month to the plain one within the same address.
    day_month_swap: bool = True


@dataclass(frozen=True)
class TrainingSettings:
    """How the model is trained: ``u`` from random pairs, ``m`` by EM sessions on blocks."""

    # The birth date's m is estimated among pairs sharing a first name and an address, where
    # different children are rare. Among pairs sharing a full name, the namesakes a population
    # holds (names run in families and communities) join EM's "match" class with different
    # birth dates: there, m of a different birth date came out 3-5 times its true value
    # (independent generator 0.11 against 0.02, FEBRL 4 0.22 against 0.07). The name block is
    # the fallback for records without addresses (a session with nothing left to estimate is
    # skipped).
    blocks: tuple[tuple[str, ...], ...] = (
        ("dob_text",),
        ("first_name_canonical", "postcode_std"),
        ("first_name_canonical", "last_name_std"),
    )
    u_sample_pairs: int = 1_000_000
    # A block larger than this is sampled. A county's birth-date block holds 32 million pairs,
    # about 2% of them matches: half a million pairs still hold some 10,000 matches for EM, and
    # a million took 0.8 s more to compare with the same links (bench, 250k children).
    em_max_pairs: int = 500_000
    em_max_iterations: int = 100
    em_tolerance: float = 1e-5
    # Pseudo-count that keeps a level never seen among matches from an infinite weight.
    pseudo_count: float = 1.0
    seed: int = 2024
    # Fewer profiles than this are too few to train on: the shipped model is used instead.
    min_profiles: int = 1_000


@dataclass(frozen=True)
class ThresholdSettings:
    """How the match and review thresholds (match weights, log2 odds) are chosen.

    By default both come from the trained model (``thresholds.choose_thresholds``), from the
    precision and recall it expects at each weight: the match threshold is the lowest weight at
    which the pairs it links are at least ``target_precision`` precise; the review threshold is
    the highest weight below that at which linking and reviewing together reach
    ``target_recall``, but never above the weight of ``always_review_probability``. Neither
    goes below its floor (a pair's own probability). Links chain,
    so a cluster must also hold together as a whole (``min_average_probability``). A fixed
    ``match_weight`` or ``review_weight`` overrides the choice. At most ``review_share`` of the
    children found (or ``min_review_children``, if more) wait in the review queue, the most
    consequential pairs first; the rest are ``review_deferred`` to a later refresh.
    """

    target_precision: float = 0.999
    target_recall: float = 0.999
    match_weight: float | None = None
    review_weight: float | None = None
    # Never link a pair the model finds less than 95% likely to be one child (the expected
    # precision of everything linked can stay high while the weakest links are coin flips);
    # never ask a reviewer about a pair less than 20% likely to be one.
    min_match_probability: float = 0.95
    min_review_probability: float = 0.2
    # A pair the model finds more likely than not one child is never left unlinked unseen:
    # the review threshold never rises above this probability's weight (a small or clean
    # population's model can expect 99.9% recall just below the match threshold, and it is
    # overconfident there).
    always_review_probability: float = 0.5
    # A cluster joined by scored links stays one child only if records drawn from its parts
    # are on average at least this likely to be one child (average linkage; parts are held
    # together by identifiers or reviewers); ``None`` leaves clusters as the links made them.
    min_average_probability: float | None = 0.5
    review_share: float = 0.01
    # A small population may still have this many children in review.
    min_review_children: int = 50


@dataclass(frozen=True)
class AutoRule:
    """A class of borderline pairs decided without a reviewer, and recorded under ``name``: a
    pair between the review and match thresholds whose levels are all among the allowed ones
    takes ``decision`` (``link`` or ``non_match``); with ``any_weight``, a pair above the match
    threshold too. Twins, pairs with two different identifiers and ambiguous pairs are never
    decided this way."""

    name: str
    decision: str
    levels: tuple[tuple[str, tuple[str, ...]], ...]
    # Also above the match threshold: for a pattern the model, which takes fields as
    # independent, overrates (brothers and sisters share a surname and an address).
    any_weight: bool = False


@dataclass(frozen=True)
class TwinSettings:
    """When a pair born the same day in one household, with different first names, is held
    for a reviewer as possible twins instead of linked.

    Twins are two children, each recorded under their own name: two different first names each
    given by more than one record ("attested") are twins, and so are different sexes. A first
    name that is a one-off in its record may be a twin seen once, or the child's own record
    with the name mistyped or replaced. Which is likelier depends on the population: where
    attested twins make up at least ``min_attested_share`` of the households that show two
    first names on one birthday, one-off names are held too; where they do not (a population
    without twins, or whose first names are often replaced), one-off names are left to the
    model. Below ``min_households`` such households there is too little to judge, and one-off
    names are held.
    """

    min_attested_share: float = 0.2
    min_households: int = 20


@dataclass(frozen=True)
class LinkageSettings:
    comparisons: tuple[Comparison, ...]
    # Jaro-Winkler similarity at or above which names are ``close`` / ``similar``.
    similarity: tuple[tuple[str, float], ...]
    blocking: BlockingSettings
    training: TrainingSettings = field(default_factory=TrainingSettings)
    thresholds: ThresholdSettings = field(default_factory=ThresholdSettings)
    auto_rules: tuple[AutoRule, ...] = ()
    twins: TwinSettings = field(default_factory=TwinSettings)
    # Levels of two comparisons that people who live together share (brothers and sisters:
    # one surname, one address). The model takes comparisons as independent, which counts a
    # household twice; a pair at both levels gets their joint weight instead, from how many
    # pairs of profiles of different children share both (``model.Household``).
    household: tuple[tuple[str, str], ...] = (("last_name", "exact"), ("postcode", "full"))
    # Pairs are compared this many at a time, to bound memory at county scale.
    chunk_pairs: int = 2_000_000
    # Threads for steps that can run at once (training beside blocking, chunks of pairs
    # scored side by side): NumPy, pandas and rapidfuzz do most of their work outside
    # Python's lock. With more than one, blocking runs in a child process where that is safe
    # (``beside.py``). The result is the same with any number.
    threads: int = 2
    # Records of these sources that link to no other source's record go to the top of the
    # review queue with their likeliest candidate: a death that links to nobody is a child
    # whose services have not been told.
    review_first_sources: tuple[str, ...] = (DEATHS_SOURCE,)

    @property
    def levels(self) -> dict[str, tuple[str, ...]]:
        """Each comparison's levels in order."""
        return {comparison.name: comparison.levels for comparison in self.comparisons}

    def cut_off(self, name: str) -> float:
        return dict(self.similarity)[name]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["similarity"] = dict(self.similarity)
        data["household"] = [list(level) for level in self.household]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkageSettings:
        """Settings from ``to_dict``; an unknown key is an error, not ignored."""
        _check_keys(cls, data, "linkage settings")
        blocking = dict(data["blocking"])
        _check_keys(BlockingSettings, blocking, "blocking")
        blocking["rules"] = tuple(tuple(rule) for rule in blocking["rules"])
        training = dict(data.get("training", {}))
        _check_keys(TrainingSettings, training, "training")
        if "blocks" in training:
            training["blocks"] = tuple(tuple(block) for block in training["blocks"])
        thresholds = dict(data.get("thresholds", {}))
        _check_keys(ThresholdSettings, thresholds, "thresholds")
        twins = dict(data.get("twins", {}))
        _check_keys(TwinSettings, twins, "twins")
        auto_rules = []
        for item in data.get("auto_rules", []):
            _check_keys(AutoRule, item, "auto rule")
            levels = tuple((name, tuple(allowed)) for name, allowed in item["levels"])
            auto_rules.append(
                AutoRule(item["name"], item["decision"], levels, item.get("any_weight", False))
            )
        comparisons = []
        for item in data["comparisons"]:
            _check_keys(Comparison, item, "comparison")
            comparisons.append(Comparison(**(item | {"levels": tuple(item["levels"])})))
        return cls(
            comparisons=tuple(comparisons),
            similarity=tuple(dict(data["similarity"]).items()),
            blocking=BlockingSettings(**blocking),
            training=TrainingSettings(**training),
            thresholds=ThresholdSettings(**thresholds),
            auto_rules=tuple(auto_rules),
            twins=TwinSettings(**twins),
            household=tuple(tuple(level) for level in data.get("household", cls.household)),
            chunk_pairs=int(data.get("chunk_pairs", cls.chunk_pairs)),
            threads=int(data.get("threads", cls.threads)),
            review_first_sources=tuple(data.get("review_first_sources", cls.review_first_sources)),
        )


def _check_keys(kind: type, data: dict[str, Any], what: str) -> None:
    unknown = set(data) - {f.name for f in fields(kind)}
    if unknown:
        raise ValueError(f"unknown {what} setting(s): {', '.join(sorted(unknown))}")


class ModelLevelsMismatch(ValueError):
    """A saved model was trained with other comparison levels than this engine uses."""


def check_levels(saved: dict[str, list[str] | tuple[str, ...]], where: str) -> None:
    """Refuse a model whose comparisons or levels (in order) differ from the engine's."""
    expected = DEFAULT_SETTINGS.levels
    problems = []
    for name, levels in expected.items():
        got = tuple(saved.get(name, ()))
        if name not in saved:
            problems.append(f"{name} is missing")
        elif got != levels:
            missing = [level for level in levels if level not in got]
            extra = [level for level in got if level not in levels]
            detail = []
            if missing:
                detail.append(f"lacks {', '.join(missing)}")
            if extra:
                detail.append(f"has unknown {', '.join(extra)}")
            problems.append(f"{name} {'; '.join(detail) or 'has its levels in another order'}")
    problems += [
        f"{name} is not a comparison of this engine" for name in saved if name not in expected
    ]
    if problems:
        raise ModelLevelsMismatch(
            f"{where}: the model was trained with other comparison levels than this engine uses "
            f"({'; '.join(problems)}). Retrain it on your records: "
            "linkage-ops link RECORDS --out DIR --save-model MODEL.json (without --model)"
        )


DEFAULT_SETTINGS = LinkageSettings(
    comparisons=(
        Comparison(
            "first_name",
            (
                "missing",
                "exact",
                "nickname",
                "close",
                "similar",
                "prefix",
                "swapped",
                "different",
            ),
            term_frequency=True,
        ),
        Comparison(
            "last_name",
            (
                "missing",
                "exact",
                "part_or_former",
                "close",
                "similar",
                "prefix",
                "swapped",
                "different",
            ),
            term_frequency=True,
        ),
        Comparison("middle_names", ("missing", "exact", "shared", "different")),
        Comparison(
            "date_of_birth",
            (
                "missing",
                "exact",
                "day_month_swapped",
                "near",
                "month_day",
                "year_month",
                "year_only",
                "different",
            ),
        ),
        Comparison("postcode", ("missing", "full", "sector", "district", "close", "different")),
        Comparison("sex", ("missing", "agree", "disagree")),
    ),
    similarity=(("close", 0.92), ("similar", 0.82)),
    blocking=BlockingSettings(
        rules=(
            # Two fields agreeing exactly.
            ("dob_text", "first_name_canonical"),
            ("dob_text", "last_name_std"),
            ("dob_text", "postcode_std"),
            ("dob_text", "postcode_sector"),
            ("first_name_canonical", "last_name_std"),
            ("postcode_std", "birth_year"),
            ("last_name_std", "postcode_sector", "birth_year"),
            # Names that sound alike (typos keep the Soundex code more often than the
            # spelling), in either order, with a part of the birth date that survived.
            ("dob_text", "first_name_soundex"),
            ("dob_text", "last_name_soundex"),
            ("names_soundex", "birth_year"),
            ("names_soundex", "dob_month_day"),
            ("names_soundex", "dob_year_month"),
            ("names_soundex", "postcode_std"),
            ("first_name_soundex", "postcode_std"),
            ("last_name_soundex", "postcode_std"),
            ("dob_year_month", "postcode_std"),
            ("dob_month_day", "postcode_std"),
            ("names_initials", "dob_text"),
            # One name's sound with two of the three parts of the birth date.
            ("first_name_soundex", "dob_year_month"),
            ("first_name_soundex", "dob_month_day"),
            ("first_name_soundex", "dob_year_day"),
            ("last_name_soundex", "dob_year_month"),
            ("last_name_soundex", "dob_month_day"),
            ("last_name_soundex", "dob_year_day"),
            ("names_soundex", "dob_year_day"),
            # Initials with two parts of the birth date, or with the address.
            ("names_initials", "dob_year_month"),
            ("names_initials", "dob_month_day"),
            ("names_initials", "dob_year_day"),
            ("names_initials", "postcode_std"),
            # No usable birth date: names, one of them mistyped.
            ("first_name_soundex", "last_name_std"),
            ("first_name_canonical", "last_name_soundex"),
            ("names_prefixes", "sex"),
            # Broad: only where this population is small enough for them.
            ("names_soundex",),
            ("names_prefixes",),
            ("dob_text",),
        ),
    ),
    auto_rules=(
        # One child written twice with at most a typo in one field, at one address: no
        # reviewer needed. A typo in a name is obvious without an address too; namesakes born
        # a day or a digit apart are not (one name may be shared by many children).
        AutoRule(
            "birth_date_same_names_within_a_typo",
            "link",
            (
                ("date_of_birth", ("exact",)),
                ("first_name", ("exact", "nickname", "close")),
                ("last_name", ("exact", "part_or_former", "close")),
                ("postcode", ("missing", "full", "sector", "close")),
            ),
        ),
        AutoRule(
            "names_same_birth_date_within_a_typo",
            "link",
            (
                ("date_of_birth", ("near", "day_month_swapped")),
                ("first_name", ("exact", "nickname")),
                ("last_name", ("exact", "part_or_former")),
                ("postcode", ("full", "sector", "close")),
            ),
        ),
        # No name on one side and no shared address: a birthday alone cannot tell which of the
        # children born that day this is, and neither can a reviewer.
        AutoRule(
            "birth_date_alone",
            "non_match",
            (
                ("first_name", ("missing",)),
                ("last_name", ("missing",)),
                ("postcode", ("missing", "sector", "district", "close", "different")),
            ),
        ),
        # Brothers and sisters: one surname and address, another birth year and a first name
        # that is not the same one mistyped. However strong the rest looks, not one child.
        AutoRule(
            "possible_siblings",
            "non_match",
            (
                ("last_name", ("exact", "part_or_former")),
                ("postcode", ("full",)),
                ("date_of_birth", ("different", "year_only")),
                ("first_name", ("missing", "close", "similar", "prefix", "swapped", "different")),
            ),
            any_weight=True,
        ),
        # The same with the surname mistyped on one side: another first name (or none), not
        # the same one mistyped, as well as another birth year.
        AutoRule(
            "possible_siblings_surname_mistyped",
            "non_match",
            (
                ("last_name", ("close", "similar")),
                ("postcode", ("full",)),
                ("date_of_birth", ("different", "year_only")),
                ("first_name", ("missing", "swapped", "different")),
            ),
            any_weight=True,
        ),
        # Another first name at one surname and address, and no birth date to tell them apart:
        # a brother or sister, even sharing a middle name (families pass names on).
        AutoRule(
            "sibling_without_birth_date",
            "non_match",
            (
                ("first_name", ("different",)),
                ("date_of_birth", ("missing",)),
                ("last_name", ("exact", "part_or_former")),
                ("postcode", ("full",)),
            ),
        ),
        # Another first name and birth year, between the thresholds: not worth a reviewer.
        AutoRule(
            "sibling_like",
            "non_match",
            (
                ("date_of_birth", ("different",)),
                ("first_name", ("different",)),
            ),
        ),
    ),
)
