"""Semantic rules for ``.sop`` collections: refs that resolve, inline workflows that validate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from osop.diagnostics import Issue, join_pointer
from osop.format.sop import SopDocument

__all__ = ["check"]


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def check(sop: SopDocument, *, base_dir: Path) -> Iterator[Issue]:
    from osop.format.rules import workflow_rules
    from osop.format.schemas import validator_for
    from osop.format.validate import _schema_issue
    from osop.format.workflow import workflow_from_dict

    seen: dict[str, str] = {}
    for section in sop.sections:
        for entry in section.entries:
            if entry.ref is not None:
                if not workflow_rules.path_is_file(base_dir / entry.ref):
                    yield Issue(
                        "warning",
                        "sop/missing-ref",
                        f"workflow {entry.ref!r} does not exist (looked in {base_dir})",
                        pointer=join_pointer(entry.pointer, "ref"),
                    )
                elif not _inside(base_dir / entry.ref, base_dir):
                    yield Issue(
                        "warning",
                        "sop/ref-outside-folder",
                        f"workflow {entry.ref!r} is outside the .sop file's folder: "
                        "`osop render` leaves it out unless --allow-outside-refs",
                        pointer=join_pointer(entry.pointer, "ref"),
                    )
                if entry.ref in seen:
                    yield Issue(
                        "info",
                        "sop/duplicate-ref",
                        f"{entry.ref!r} is listed again (first at {seen[entry.ref]})",
                        pointer=entry.pointer,
                    )
                seen.setdefault(entry.ref, entry.pointer)
            if entry.workflow is not None:
                prefix = join_pointer(entry.pointer, "workflow")
                schema_issues = [
                    _schema_issue(e) for e in validator_for("osop").iter_errors(entry.workflow)
                ]
                wf = workflow_from_dict(entry.workflow)
                inner = [
                    *schema_issues,
                    *wf.notes,
                    *workflow_rules.check(
                        wf,
                        entry.workflow,
                        base_dir=base_dir,
                        structural=any(i.is_error for i in schema_issues),
                    ),
                ]
                for issue in inner:
                    yield replace(issue, pointer=prefix + issue.pointer)
            if entry.ref is None and entry.workflow is None:
                yield Issue(
                    "error",
                    "sop/empty-entry",
                    "a workflow entry needs `ref` (a path) or `workflow` (inline)",
                    pointer=entry.pointer,
                )
