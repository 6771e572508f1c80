"""Flatten an XML return (e.g. the CIN census) into one list of records per schema table.

Each table names the slash path of its record elements below the root (``Children/Child``)
and, per column, the path of the value below the record element (``ChildIdentifiers/UPN``,
``.`` for the element's own text). A record keeps its place in the document: ``_xml_key``
(``12.2.1``: 12th Child, its 2nd CINdetails, its 1st Assessments) and ``_parent_xml_key``
(``12.2``), counting only elements that are records of some table, and its row number is the
line the record element starts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from linkage_ops.ingest.errors import UnreadableFileError
from linkage_ops.ingest.schema import SourceSchema, TableSchema


@dataclass
class Element:
    """A parsed element: tag, text, children and the line it starts on."""

    tag: str
    line: int
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        text = "".join(self.text_parts).strip()
        return text or None

    def find(self, path: str) -> Element | None:
        """The first element at a slash path below this one (``.`` is this element)."""
        node: Element | None = self
        for step in path.split("/"):
            if step in (".", ""):
                continue
            node = next((child for child in node.children if child.tag == step), None)
            if node is None:
                return None
        return node


def parse_xml(path: Path, raw: bytes) -> Element:
    """Parse bytes into ``Element``s with line numbers; malformed XML is unreadable."""
    parser = expat.ParserCreate()
    stack: list[Element] = []
    roots: list[Element] = []

    def start(tag: str, _attributes: dict[str, str]) -> None:
        element = Element(tag=tag, line=parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text_parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as error:
        raise UnreadableFileError(path, f"malformed XML: {error}") from error
    return roots[0]


def _walk(
    node: Element,
    steps: list[str],
    prefix: str,
    key: tuple[int, ...],
    parent_key: tuple[int, ...],
    record_paths: set[str],
):
    """Yield (element, key, parent key) for every element at ``steps`` below ``node``."""
    counts: dict[str, int] = {}
    for child in node.children:
        if child.tag != steps[0]:
            continue
        counts[child.tag] = counts.get(child.tag, 0) + 1
        path = f"{prefix}/{child.tag}" if prefix else child.tag
        is_record = path in record_paths
        child_key = (*key, counts[child.tag]) if is_record else key
        if len(steps) == 1:
            yield child, child_key, parent_key
        else:
            yield from _walk(
                child,
                steps[1:],
                path,
                child_key,
                child_key if is_record else parent_key,
                record_paths,
            )


def xml_records(
    path: Path, raw: bytes, schema: SourceSchema
) -> dict[str, list[tuple[int, dict[str, str | None]]]]:
    """Every table's records as (line number, column -> value), in document order."""
    root = parse_xml(path, raw)
    if schema.root and root.tag != schema.root:
        raise UnreadableFileError(path, f"root element is <{root.tag}>, expected <{schema.root}>")
    record_paths = {table.record_path for table in schema.tables.values() if table.record_path}
    records: dict[str, list[tuple[int, dict[str, str | None]]]] = {}
    for table in schema.tables.values():
        records[table.name] = [
            (element.line, _values(table, element, key, parent_key))
            for element, key, parent_key in _walk(
                root, (table.record_path or "").split("/"), "", (), (), record_paths
            )
        ]
    return records


def _values(
    table: TableSchema, element: Element, key: tuple[int, ...], parent_key: tuple[int, ...]
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for rule in table.columns:
        if rule.name == "_xml_key":
            values[rule.name] = ".".join(map(str, key))
        elif rule.name == "_parent_xml_key":
            values[rule.name] = ".".join(map(str, parent_key)) or None
        else:
            found = element.find(rule.path or rule.name)
            values[rule.name] = found.text if found is not None else None
    return values
