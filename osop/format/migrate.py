"""Rewrite legacy documents to the current form, keeping comments and key order.

YAML goes through ruamel.yaml's round-trip mode (the field's tool for editing YAML
without losing comments); JSON keeps its key order.  Only forms the validator
calls legacy are touched, so a current document comes back byte-identical.
"""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osop.errors import LoadError
from osop.expr.legacy import modernise_operators
from osop.format.loader import detect_kind, load_document
from osop.format.vocabulary import SUPPORTED_OSOP_VERSIONS
from osop.format.workflow import derived_id

__all__ = ["Migration", "edit_text", "migrate_path", "migrate_text"]


@dataclass(slots=True)
class Migration:
    """What migrating one document changed (``changes`` empty: already current)."""

    file: str
    changes: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _rename_key(mapping: MutableMapping[str, Any], old: str, new: str) -> None:
    """Rename in place, at the same position (ruamel's CommentedMap keeps comments)."""
    keys = list(mapping.keys())
    position = keys.index(old)
    # ruamel keeps the comments after a key (its trailing comment and the comment
    # lines and blank lines that follow) under that key: carry them to the new key.
    comments = getattr(getattr(mapping, "ca", None), "items", None)
    moved = comments.pop(old, None) if isinstance(comments, dict) else None
    value = mapping.pop(old)
    insert = getattr(mapping, "insert", None)
    if insert is not None:
        insert(position, new, value)
        if moved is not None and isinstance(comments, dict):
            comments[new] = moved
    else:  # a plain dict (JSON): rebuild to keep the order
        items = list(mapping.items())
        mapping.clear()
        items.insert(position, (new, value))
        mapping.update(items)


def _insert_after(mapping: MutableMapping[str, Any], after: str, key: str, value: Any) -> None:
    keys = list(mapping.keys())
    position = keys.index(after) + 1 if after in keys else 0
    insert = getattr(mapping, "insert", None)
    if insert is not None:
        insert(position, key, value)
    else:
        items = list(mapping.items())
        mapping.clear()
        items.insert(position, (key, value))
        mapping.update(items)


def _items(value: Any) -> list[Any]:
    """A list as written, or nothing: a malformed one is the validator's to report."""
    return value if isinstance(value, list) else []


def _migrate_workflow(data: MutableMapping[str, Any], changes: list[str]) -> None:
    if "osop_version" not in data and "osop" in data:
        _rename_key(data, "osop", "osop_version")
        changes.append("/osop: renamed to osop_version")
    version = data.get("osop_version")
    if version is not None and str(version) not in SUPPORTED_OSOP_VERSIONS:
        data["osop_version"] = "1.1"
        changes.append(f"/osop_version: {version!s} → 1.1")
    elif version is None:
        _insert_after(data, "", "osop_version", "1.1")
        changes.append("/osop_version: added (1.1)")
    if "id" not in data and isinstance(data.get("name"), str):
        _insert_after(data, "osop_version", "id", derived_id(data["name"]))
        changes.append(f"/id: added ({derived_id(data['name'])!r}, from the name)")
    for index, node in enumerate(_items(data.get("nodes"))):
        if not isinstance(node, MutableMapping):
            continue
        if "name" not in node and isinstance(node.get("purpose"), str):
            lines = node["purpose"].strip().splitlines()
            label = lines[0].strip()[:256] if lines else ""
            if label:
                _insert_after(node, "type" if "type" in node else "id", "name", label)
                changes.append(f"/nodes/{index}/name: added from purpose")
    for index, edge in enumerate(_items(data.get("edges"))):
        if not isinstance(edge, MutableMapping):
            continue
        if "condition" in edge and "when" not in edge:
            _rename_key(edge, "condition", "when")
            changes.append(f"/edges/{index}/condition: renamed to when")
        when = edge.get("when")
        if isinstance(when, str):
            modern, replaced = modernise_operators(when)
            if replaced:
                edge["when"] = modern
                changes.append(f"/edges/{index}/when: {', '.join(replaced)}")


def _migrate_log(data: MutableMapping[str, Any], changes: list[str]) -> None:
    from osop.record.model import normalise_status

    status = data.get("status")
    if isinstance(status, str) and normalise_status(status) != status:
        changes.append(f"/status: {data['status']} → {normalise_status(data['status'])}")
        data["status"] = normalise_status(data["status"])
    for index, rec in enumerate(_items(data.get("node_records"))):
        if not isinstance(rec, MutableMapping):
            continue
        status = rec.get("status")
        if isinstance(status, str) and normalise_status(status) != status:
            rec["status"] = normalise_status(status)
            changes.append(f"/node_records/{index}/status: {status} → {rec['status']}")
        if "attempt" not in rec:
            _insert_after(rec, "node_type" if "node_type" in rec else "node_id", "attempt", 1)
            changes.append(f"/node_records/{index}/attempt: added (1)")
        if isinstance(rec.get("error"), str):
            rec["error"] = {"code": None, "message": rec["error"]}
            changes.append(f"/node_records/{index}/error: string → {{code, message}}")


def migrate_text(text: str, name: str) -> Migration:
    """Migrate one document's text; raises :class:`LoadError` when it cannot be read."""
    doc = load_document(text, name)  # the same checks as everywhere (hostile input, size)
    changes: list[str] = []
    kind = doc.kind or detect_kind(name, doc.data)
    out = edit_text(
        text, name, lambda data: _apply(kind, data, changes), json_syntax=doc.syntax == "json"
    )
    return Migration(name, changes, out if changes else text)


def edit_text(
    text: str, name: str, edit: Callable[[Any], None], *, json_syntax: bool | None = None
) -> str:
    """Apply ``edit`` to the document's data and write it back as it was written.

    YAML goes through ruamel's round trip (comments, key order, quotes and lines
    the edit did not touch are kept); JSON keeps its key order.  A byte-order mark
    and CRLF line endings are given back.  ``edit`` changes the data in place.
    """
    if json_syntax is None:
        json_syntax = load_document(text, name).syntax == "json"
    # Writers drop a byte-order mark and write "\n": note both to give them back.
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    crlf = "\r\n" in text
    if json_syntax:
        data: Any = json.loads(text.removeprefix(bom))
        edit(data)
        out = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        return bom + (out.replace("\n", "\r\n") if crlf else out)
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long strings
    yaml.indent(mapping=2, sequence=4, offset=2)
    source = text.removeprefix(bom).replace("\r\n", "\n") if crlf or bom else text
    try:
        data = yaml.load(source)
    except Exception as exc:  # ruamel raises many types; the loader accepted the text
        raise LoadError(f"cannot round-trip this YAML: {exc}", file=name) from None
    edit(data)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    out = _restore_respaced_lines(source, buffer.getvalue(), name)
    return bom + (out.replace("\n", "\r\n") if crlf else out)


def _respaced(before: str, after: str) -> bool:
    indent = len(before) - len(before.lstrip(" "))
    same_indent = before[:indent] == after[:indent] and after[indent : indent + 1] != " "
    return same_indent and "".join(before.split()) == "".join(after.split())


def _restore_respaced_lines(original: str, dumped: str, name: str) -> str:
    """Give back lines the round trip only re-spaced (``{ a: 1 }`` → ``{a: 1}``).

    A migration should show what it changed and nothing else.  The result is kept
    only if it still reads as exactly what ruamel wrote.
    """
    old, new = original.split("\n"), dumped.split("\n")
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            pairs = zip(old[i1:i2], new[j1:j2], strict=True)
            merged += [a if _respaced(a, b) else b for a, b in pairs]
        else:
            merged += new[j1:j2]
    text = "\n".join(merged)
    if text == dumped:
        return dumped
    try:
        same = load_document(text, name, max_bytes=None).data == load_document(dumped, name).data
    except LoadError:
        same = False
    return text if same else dumped


def _apply(kind: str | None, data: Any, changes: list[str]) -> None:
    if not isinstance(data, MutableMapping):
        return
    if kind == "workflow":
        _migrate_workflow(data, changes)
    elif kind == "log":
        _migrate_log(data, changes)


def migrate_path(path: str | Path, *, write: bool = True) -> Migration:
    """Migrate a file in place (atomically: a crash leaves the old or the new file)."""
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read: {exc}", file=str(path)) from None
    migration = migrate_text(text, str(path))
    if write and migration.changed:
        from osop.record.writer import atomic_write_text

        # Through a symlink, rewrite the file it points to, not the link itself.
        atomic_write_text(file.resolve() if file.is_symlink() else file, migration.text)
    return migration
