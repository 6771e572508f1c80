"""Linking person records from every source into one person_key per child."""

from linkage_ops.linkage.engine import LinkageResult, link_records
from linkage_ops.linkage.keys import KeyState
from linkage_ops.linkage.model import FellegiSunterModel, train_model
from linkage_ops.linkage.settings import DEFAULT_SETTINGS, LinkageSettings, ModelLevelsMismatch
from linkage_ops.linkage.standardise import PERSON_RECORD_COLUMNS, standardise_records

__all__ = [
    "DEFAULT_SETTINGS",
    "PERSON_RECORD_COLUMNS",
    "FellegiSunterModel",
    "KeyState",
    "LinkageResult",
    "LinkageSettings",
    "ModelLevelsMismatch",
    "link_records",
    "standardise_records",
    "train_model",
]
