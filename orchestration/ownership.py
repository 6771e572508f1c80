"""Who owns each group of assets, and which groups hold personal data, decided in one place.

Owners come from ``config/asset_owners.yaml`` (or the file ``WAREHOUSE_ASSET_OWNERS`` names):
``<group>: [team:<name> | email]``. Groups that hold names, birth dates, addresses or
identifiers are tagged ``personal_data: identifiable``; the pseudonymous marts
``personal_data: pseudonymous``. The UI can then filter on the tag (``tag:personal_data``).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

DEFAULT_OWNERS_FILE = Path(__file__).resolve().parents[1] / "config" / "asset_owners.yaml"
OWNERS_FILE_ENV = "WAREHOUSE_ASSET_OWNERS"

PERSONAL_DATA_TAG = "personal_data"
# Groups whose tables hold identifying fields (the published asset writes the restricted
# publication too).
IDENTIFIABLE_GROUPS = frozenset(
    {"landing", "raw", "staging", "intermediate", "linkage", "restricted", "published"}
)
PSEUDONYMOUS_GROUPS = frozenset({"marts"})


def owners_file() -> Path:
    return Path(os.environ.get(OWNERS_FILE_ENV) or DEFAULT_OWNERS_FILE)


@cache
def _owners(path: Path) -> dict[str, list[str]]:
    document = yaml.safe_load(path.read_text("utf-8")) or {}
    if not isinstance(document, dict) or not all(
        isinstance(owners, list) and all(isinstance(o, str) for o in owners)
        for owners in document.values()
    ):
        raise ValueError(f"{path}: expected <group>: [team:<name> or email, ...]")
    return {str(group): list(owners) for group, owners in document.items()}


def owners_of(group: str) -> list[str]:
    """The owners of an asset group (none if the file names none)."""
    return _owners(owners_file()).get(group, [])


def tags_of(group: str) -> dict[str, str]:
    """``personal_data: identifiable`` or ``pseudonymous`` for the groups that hold either."""
    if group in IDENTIFIABLE_GROUPS:
        return {PERSONAL_DATA_TAG: "identifiable"}
    if group in PSEUDONYMOUS_GROUPS:
        return {PERSONAL_DATA_TAG: "pseudonymous"}
    return {}
