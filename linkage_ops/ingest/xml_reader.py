"""Flatten an XML return (the CIN census, the SSDA903 XML form) into one list of records per
schema table, and keep every element the schema does not model.

Each table names the slash path of its record elements below the root (``Children/Child``)
and, per column, where the value sits below the record element (``ChildIdentifiers/UPN``; ``.``
is the element's own text, ``..`` its parent; several paths are tried in order). Namespaces are
ignored: a tag is read without its prefix or namespace. A record keeps its place in the
document: ``_xml_key`` (``12.2.1``: the 12th Child, its 2nd CINdetails, its 1st Assessments) and
``_parent_xml_key`` (``12.2``), counting only elements that are records of some table; its row
number is the line the record element starts on.

Anything else in the file (a block a later return added, a supplier's own extension) is kept
as an ``UnmodelledElement``: its path from the root, text, attributes, line and the record it
sits in. Nothing in a return disappears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from linkage_ops.ingest.errors import UnreadableFileError
from linkage_ops.ingest.schema import SourceSchema, TableSchema


@dataclass(eq=False)
class Element:
    """A parsed element: tag (without namespace), text, attributes, children, parent, line."""

    tag: str
    line: int
    parent: Element | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        text = "".join(self.text_parts).strip()
        return text or None

    def find(self, path: str) -> Element | None:
        """The first element at a slash path from this one (``.`` this one, ``..`` its parent)."""
        node: Element | None = self
        for step in path.split("/"):
            if step in (".", ""):
                continue
            if step == "..":
                node = node.parent
            else:
                node = next((child for child in node.children if child.tag == step), None)
            if node is None:
                return None
        return node

    def iter(self):
        """This element and every element below it, in document order."""
        yield self
        for child in self.children:
            yield from child.iter()


def _local(name: str) -> str:
    """A tag or attribute name without its namespace (``{uri}Tag`` or ``ns:Tag`` -> ``Tag``)."""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def parse_xml(path: Path, raw: bytes) -> Element:
    """Parse bytes into ``Element``s with line numbers; malformed XML is unreadable."""
    parser = expat.ParserCreate()
    stack: list[Element] = []
    roots: list[Element] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        element = Element(
            tag=_local(tag),
            line=parser.CurrentLineNumber,
            parent=stack[-1] if stack else None,
            attributes={
                _local(name): value
                for name, value in attributes.items()
                if not (name == "xmlns" or name.startswith("xmlns:"))
                and not name.startswith("xsi:")
            },
        )
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


@dataclass(frozen=True)
class UnmodelledElement:
    """An element of a return that no table models, kept as delivered."""

    path: str
    text: str | None
    attributes: dict[str, str]
    line: int
    # The record it sits in (the nearest enclosing record of a table), if any.
    record_table: str | None
    record_key: str | None


@dataclass
class XmlContent:
    """A file's records per table (line, column -> value) and what no table models."""

    records: dict[str, list[tuple[int, dict[str, str | None]]]]
    unmodelled: list[UnmodelledElement]


def element_path(element: Element) -> str:
    """``Message/Children/Child/CINdetails/...``: the path from the root."""
    steps = []
    node: Element | None = element
    while node is not None:
        steps.append(node.tag)
        node = node.parent
    return "/".join(reversed(steps))


def xml_content(root: Element, schema: SourceSchema) -> XmlContent:
    """Every table's records, in document order, and every element left unmodelled."""
    by_path: dict[str, list[TableSchema]] = {}
    for table in schema.tables.values():
        if table.record_path:
            by_path.setdefault(table.record_path, []).append(table)
    structural = {
        "/".join(steps[:i])
        for record_path in by_path
        for steps in [record_path.split("/")]
        for i in range(1, len(steps) + 1)
    }
    records: dict[str, list[tuple[int, dict[str, str | None]]]] = {t: [] for t in schema.tables}
    # The root of a return the schema models is its envelope; any other root is content.
    consumed: set[int] = {id(root)} if by_path else set()
    enclosing: dict[int, tuple[str, str]] = {}  # element -> (table, key) of its record

    def visit(node: Element, path: str, key: tuple[int, ...], record: tuple[str, str] | None):
        ordinals: dict[str, int] = {}
        for child in node.children:
            child_path = f"{path}/{child.tag}" if path else child.tag
            ordinals[child.tag] = ordinals.get(child.tag, 0) + 1
            child_key, child_record = key, record
            if child_path in structural:
                consumed.add(id(child))
            tables = by_path.get(child_path, [])
            if tables:
                child_key = (*key, ordinals[child.tag])
                child_record = (tables[0].name, ".".join(map(str, child_key)))
                for table in tables:
                    values = _values(table, child, child_key, key, consumed)
                    if values is not None:
                        records[table.name].append((child.line, values))
            if child_record is not None:
                enclosing[id(child)] = child_record
            visit(child, child_path, child_key, child_record)

    visit(root, "", (), None)
    unmodelled = [
        UnmodelledElement(
            path=element_path(element),
            text=element.text,
            attributes=element.attributes,
            line=element.line,
            record_table=enclosing.get(id(element), (None, None))[0],
            record_key=enclosing.get(id(element), (None, None))[1],
        )
        for element in root.iter()
        if id(element) not in consumed
        and (not element.children or element.text is not None or element.attributes)
    ]
    return XmlContent(records, unmodelled)


def _values(
    table: TableSchema,
    element: Element,
    key: tuple[int, ...],
    parent_key: tuple[int, ...],
    consumed: set[int],
) -> dict[str, str | None] | None:
    """A record's values, marking the elements read as consumed; ``None`` when the table's
    ``present_if`` value is absent or not one of its ``present_values`` (the element is a
    record of another table). A marker that decided the question (blank, or one of the values)
    is consumed: the record's existence is what it says. Any other value is kept as unmodelled."""
    if table.present_if is not None:
        marker = element.find(table.present_if)
        if marker is None:
            return None
        if marker.text is None:
            consumed.add(id(marker))
            return None
        if table.present_values is not None:
            if marker.text not in table.present_values:
                return None
            consumed.add(id(marker))
    values: dict[str, str | None] = {}
    for rule in table.columns:
        if rule.name == "_xml_key":
            values[rule.name] = ".".join(map(str, key))
        elif rule.name == "_parent_xml_key":
            values[rule.name] = ".".join(map(str, parent_key)) or None
        else:
            values[rule.name] = None
            for path in rule.paths or (rule.name,):
                found = element.find(path)
                if found is None:
                    continue
                node: Element | None = found
                while node is not None and node is not element and id(node) not in consumed:
                    consumed.add(id(node))
                    node = node.parent
                consumed.add(id(found))
                values[rule.name] = found.text
                break
    return values
