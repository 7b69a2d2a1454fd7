"""The iteration record's life: proposed → approved/rejected → applied (binding §7.3).

``osop synthesize --insights FILE`` writes the record with ``status: proposed``
and every change ``status: proposed``.  People decide per change (``approve`` /
``reject``, all changes when none is named), and ``apply`` replays the approved
changes onto the base file through ruamel's round trip — comments, key order and
untouched lines stay — validates the result, and writes it.  The record keeps
who decided what and when, and what was applied to which file (with hashes).
Nothing is written when no change is approved.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import yaml

from osop.analysis.changes import apply_proposal
from osop.errors import OsopError, ValidationError
from osop.format.loader import load_document
from osop.format.migrate import edit_text
from osop.format.validate import validate_text
from osop.record.writer import atomic_write_text

__all__ = [
    "ApplyResult",
    "apply_changes_to_text",
    "apply_iteration",
    "decide",
    "read_iteration",
    "write_iteration",
]

DECISIONS = ("approved", "rejected")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def file_hash(data: bytes) -> str:
    return "sha256:" + sha256(data).hexdigest()


def read_iteration(path: str | Path) -> dict[str, Any]:
    """The iteration record in ``path`` (YAML or JSON), checked for the parts we use."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise OsopError(f"{name}: cannot read: {exc.strerror or exc}") from None
    data = load_document(raw.decode("utf-8", "replace"), name, kind="workflow").data
    iteration = data.get("iteration") if isinstance(data, dict) else None
    changes = iteration.get("proposed_changes") if isinstance(iteration, dict) else None
    if not isinstance(iteration, dict) or not isinstance(changes, list):
        raise OsopError(
            f"{name}: not an iteration record (expected `iteration:` with `proposed_changes:`, "
            "as `osop synthesize --insights FILE` writes)"
        )
    for index, change in enumerate(changes):
        if not isinstance(change, dict) or not change.get("type") or "target" not in change:
            raise OsopError(f"{name}: /iteration/proposed_changes/{index} is not a change")
        change.setdefault("id", f"{change['type']}:{change['target']}")
        change.setdefault("status", "proposed")
    return data


def write_iteration(path: str | Path, data: dict[str, Any]) -> None:
    if str(path).lower().endswith(".json"):
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(Path(path), text)


def _select(changes: list[dict[str, Any]], ids: Sequence[str]) -> list[dict[str, Any]]:
    if not ids:
        return changes
    by_id = {str(c["id"]): c for c in changes}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        known = ", ".join(by_id) or "none"
        raise OsopError(f"no change {', '.join(unknown)} in this iteration (changes: {known})")
    return [by_id[i] for i in ids]


def decide(
    path: str | Path,
    decision: str,
    ids: Sequence[str] = (),
    *,
    actor: str | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    """Approve or reject changes (all not yet applied when ``ids`` is empty); saved."""
    if decision not in DECISIONS:
        raise OsopError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    data = read_iteration(path)
    iteration = data["iteration"]
    changes: list[dict[str, Any]] = iteration["proposed_changes"]
    chosen = _select(changes, ids)
    applied = [c["id"] for c in chosen if c.get("status") == "applied"]
    if applied:
        raise OsopError(f"already applied, cannot be {decision}: {', '.join(applied)}")
    who = actor or getpass.getuser()
    for change in chosen:
        change["status"] = decision
        change["decision"] = {"by": who, "at": _now(), **({"notes": notes} if notes else {})}
    statuses = {c.get("status") for c in changes}
    if "approved" in statuses:
        iteration["status"] = "approved"
    elif statuses == {"rejected"}:
        iteration["status"] = "rejected"
    write_iteration(path, data)
    return data


def apply_changes_to_text(
    text: str, name: str, changes: Sequence[dict[str, Any]], version: str | None = None
) -> str:
    """The base text with ``changes`` applied (and ``version`` set), as it was written."""

    def edit(data: Any) -> None:
        if not isinstance(data, dict):
            raise OsopError(f"{name}: the workflow is not a mapping")
        for change in changes:
            try:
                apply_proposal(data, change)
            except (ValueError, KeyError, TypeError) as exc:
                raise OsopError(
                    f"change {change.get('id')} does not apply to {name}: {exc}"
                ) from None
        if version is not None:
            data["version"] = version

    return edit_text(text, name, edit)


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    output: str | None = None
    #: what the user should know (base changed since the proposal, nothing to apply…)
    notes: list[str] = field(default_factory=list)


def apply_iteration(
    path: str | Path, output: str | Path, base: str | Path | None = None
) -> ApplyResult:
    """Apply the approved changes of the iteration in ``path`` to ``base``; write ``output``.

    The result must pass the validator; nothing is written otherwise, nor when no
    change is approved.  The iteration record is updated to ``applied``.
    """
    data = read_iteration(path)
    iteration = data["iteration"]
    changes: list[dict[str, Any]] = iteration["proposed_changes"]
    approved = [c for c in changes if c.get("status") == "approved"]
    result = ApplyResult()
    if not approved:
        counts = ", ".join(
            f"{sum(1 for c in changes if c.get('status') == s)} {s}"
            for s in ("proposed", "rejected", "applied")
            if any(c.get("status") == s for c in changes)
        )
        result.notes.append(
            f"nothing to apply: no approved change ({counts or 'no changes'}); wrote nothing "
            f"(osop iteration approve {path} [CHANGE_ID...])"
        )
        return result
    origin = iteration.get("workflow") if isinstance(iteration.get("workflow"), dict) else {}
    base_path = Path(base) if base is not None else None
    if base_path is None:
        recorded = origin.get("base") if isinstance(origin, dict) else None
        if not recorded:
            raise OsopError("the iteration names no base workflow: give one with --to BASE")
        base_path = Path(str(recorded))
    try:
        raw = base_path.read_bytes()
    except OSError as exc:
        raise OsopError(f"{base_path}: cannot read: {exc.strerror or exc}") from None
    recorded_hash = origin.get("base_hash") if isinstance(origin, dict) else None
    if recorded_hash and recorded_hash != file_hash(raw):
        result.notes.append(
            f"{base_path} changed since the changes were proposed; they were applied to it "
            "as it is now"
        )
    version = origin.get("proposed_version") if isinstance(origin, dict) else None
    text = apply_changes_to_text(raw.decode("utf-8"), str(base_path), approved, version)
    report = validate_text(text, str(output), kind="workflow", max_bytes=None)
    if report.errors:
        raise ValidationError(report.issues, file=str(output))
    atomic_write_text(Path(output), text)
    moment = _now()
    for change in approved:
        change["status"] = "applied"
        result.applied.append(str(change["id"]))
    iteration["status"] = "applied"
    iteration["applied"] = {
        "at": moment,
        "to": str(base_path),
        "base_hash": file_hash(raw),
        "output": str(output),
        "output_hash": file_hash(text.encode("utf-8")),
        "changes": list(result.applied),
    }
    write_iteration(path, data)
    result.output = str(output)
    return result
