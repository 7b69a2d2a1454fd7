"""Rewrite legacy documents to the current form, keeping comments and key order.

YAML goes through ruamel.yaml's round-trip mode (the field's tool for editing YAML
without losing comments); JSON keeps its key order.  Only forms the validator
calls legacy are touched, so a current document comes back byte-identical.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osop.errors import LoadError
from osop.expr.legacy import modernise_operators
from osop.format.loader import detect_kind, load_document
from osop.format.vocabulary import SUPPORTED_OSOP_VERSIONS

__all__ = ["Migration", "migrate_path", "migrate_text"]


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
    value = mapping.pop(old)
    insert = getattr(mapping, "insert", None)
    if insert is not None:
        insert(position, new, value)
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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "workflow"


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
        _insert_after(data, "osop_version", "id", _slug(data["name"]))
        changes.append(f"/id: added ({_slug(data['name'])!r}, from the name)")
    for index, node in enumerate(data.get("nodes") or []):
        if not isinstance(node, MutableMapping):
            continue
        if "name" not in node and isinstance(node.get("purpose"), str):
            label = node["purpose"].strip().splitlines()[0][:256] if node["purpose"] else ""
            if label:
                _insert_after(node, "type" if "type" in node else "id", "name", label)
                changes.append(f"/nodes/{index}/name: added from purpose")
    for index, edge in enumerate(data.get("edges") or []):
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

    if data.get("status") is not None and normalise_status(data["status"]) != data["status"]:
        changes.append(f"/status: {data['status']} → {normalise_status(data['status'])}")
        data["status"] = normalise_status(data["status"])
    for index, rec in enumerate(data.get("node_records") or []):
        if not isinstance(rec, MutableMapping):
            continue
        status = rec.get("status")
        if status is not None and normalise_status(status) != status:
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
    if doc.syntax == "json":
        data: Any = json.loads(text)
        _apply(kind, data, changes)
        out = json.dumps(data, indent=2, ensure_ascii=False) + "\n" if changes else text
        return Migration(name, changes, out)
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long strings
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        data = yaml.load(text)
    except Exception as exc:  # ruamel raises many types; the loader accepted the text
        raise LoadError(f"cannot round-trip this YAML: {exc}", file=name) from None
    _apply(kind, data, changes)
    if not changes:
        return Migration(name, [], text)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return Migration(name, changes, buffer.getvalue())


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

        atomic_write_text(file, migration.text)
    return migration
