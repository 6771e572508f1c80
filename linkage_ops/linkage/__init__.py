"""Linking person records from every source into one person_key per child."""

from linkage_ops.linkage.engine import LinkageResult, MatchRules, link_records
from linkage_ops.linkage.keys import KeyState
from linkage_ops.linkage.model import FellegiSunterModel, TrainingSettings, train_model
from linkage_ops.linkage.standardise import PERSON_RECORD_COLUMNS, standardise_records

__all__ = [
    "PERSON_RECORD_COLUMNS",
    "FellegiSunterModel",
    "KeyState",
    "LinkageResult",
    "MatchRules",
    "TrainingSettings",
    "link_records",
    "standardise_records",
    "train_model",
]
