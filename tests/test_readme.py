"""The README's source table is what a new user reads first: it must name every table the
schemas model, so it cannot silently fall behind a new collection year."""

import re
from pathlib import Path

from linkage_ops.ingest import available_sources, load_schema

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_source_table_names_every_source_and_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The sources") : text.index("## How the data flows")]
    rows = {
        match.group(1): match.group(0) for match in re.finditer(r"^\| `(\w+)` \|.*$", section, re.M)
    }
    assert set(rows) == set(available_sources())
    for source, row in rows.items():
        missing = [t for t in load_schema(source).tables if f"`{t}`" not in row]
        assert missing == [], f"{source}: README does not list {missing}"
