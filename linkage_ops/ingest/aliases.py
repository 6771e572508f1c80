"""Header aliases: an authority's extract often names a column differently from the schema.

Three things map a delivered header to the schema's column, tried in order and recorded in the
load log whenever one applies:

1. the authority's own alias map, configuration not code: ``config/header_aliases.yaml`` (or
   the file ``WAREHOUSE_HEADER_ALIASES`` names), ``<source>: {their header: schema column}``;
2. the aliases a schema column ships with (names other suppliers are known to use);
3. the same name written differently: case, spaces, underscores and hyphens ignored
   (``NHS Number`` and ``nhs_number`` are ``NHS_NUMBER``).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import yaml

from linkage_ops.ingest.schema import SchemaError, SourceSchema, available_sources

DEFAULT_ALIAS_FILE = Path(__file__).resolve().parents[2] / "config" / "header_aliases.yaml"
ALIAS_FILE_ENV = "WAREHOUSE_HEADER_ALIASES"


def alias_file() -> Path:
    """The authority's alias map in use."""
    return Path(os.environ.get(ALIAS_FILE_ENV) or DEFAULT_ALIAS_FILE)


@cache
def _read_alias_file(path: Path, modified: float) -> dict[str, dict[str, str]]:
    del modified  # part of the cache key only: an edited file is read again
    document = yaml.safe_load(path.read_text("utf-8")) or {}
    if not isinstance(document, dict):
        raise SchemaError(f"{path}: expected <source>: {{their header: schema column}}")
    sources = set(available_sources())
    aliases: dict[str, dict[str, str]] = {}
    for source, mapping in document.items():
        if source not in sources:
            raise SchemaError(f"{path}: unknown source {source!r} ({', '.join(sorted(sources))})")
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise SchemaError(f"{path}: {source}: expected their header: schema column pairs")
        aliases[source] = dict(mapping)
    return aliases


def authority_aliases(source: str) -> dict[str, str]:
    """The authority's aliases for ``source`` (none when there is no alias file)."""
    path = alias_file()
    if not path.exists():
        return {}
    return _read_alias_file(path, path.stat().st_mtime).get(source, {})


def _loose(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def map_header(
    header: list[str], schema: SourceSchema, aliases: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The header with each delivered name that is not a schema column replaced by the schema
    column it stands for, and the replacements made (delivered name -> schema column)."""
    columns = {rule.name for table in schema.tables.values() for rule in table.columns}
    shipped = {
        alias: rule.name
        for table in schema.tables.values()
        for rule in table.columns
        for alias in rule.aliases
    }
    loose: dict[str, set[str]] = {}
    for name in columns | set(shipped):
        loose.setdefault(_loose(name), set()).add(shipped.get(name, name))
    unknown = sorted(target for target in aliases.values() if target not in columns)
    if unknown:
        raise SchemaError(
            f"{alias_file()}: {schema.source}: no such column {', '.join(map(repr, unknown))}"
        )
    present = set(header)
    mapped, applied = [], {}
    for name in header:
        target = None
        if name not in columns:
            target = aliases.get(name) or shipped.get(name)
            if target is None and len(loose.get(_loose(name), ())) == 1:
                (target,) = loose[_loose(name)]
        if target is not None and target not in present and target not in mapped:
            mapped.append(target)
            applied[name] = target
        else:
            mapped.append(name)
    return mapped, applied
