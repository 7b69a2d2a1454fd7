"""What the hub records about a package when it is published.

The project's validator decides whether a package is publishable (any error →
refused, with the issues); the summary keeps what search and the pages show:
conformance level, node types, tags, the node purposes, the security summary
(the riskiest command or SQL class per node and the approval gates) and, per
workflow, its purpose and entry inputs (what an agent needs to choose one).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osop.diagnostics import Issue
from osop.format.sop import SopDocument
from osop.format.validate import ValidationReport, validate_path
from osop.format.workflow import Node, Workflow
from osop.hub.package import PackageError, check_package_path, resolve_ref, sop_refs
from osop.security.rules import Level, highest

__all__ = ["PackageSummary", "WorkflowInfo", "node_risk", "summarize_package", "workflow_info"]


@dataclass(slots=True)
class WorkflowInfo:
    """One operation: what it is for and what it needs to start."""

    path: str
    id: str
    name: str
    description: str | None
    inputs: list[str]
    node_types: list[str]
    level: int | None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputs": self.inputs,
            "node_types": self.node_types,
            "level": self.level,
        }


@dataclass(slots=True)
class PackageSummary:
    kind: str
    title: str
    description: str
    tags: list[str]
    node_types: list[str]
    level: int | None
    purposes: list[str]
    security: dict[str, Any]
    workflows: list[WorkflowInfo]
    issues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if i["severity"] == "error"]

    def search_text(self) -> str:
        names = [f"{w.id} {w.name} {w.title or ''}" for w in self.workflows]
        return " ".join([self.title, self.description, *self.tags, *names, *self.purposes])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "node_types": self.node_types,
            "level": self.level,
            "security": self.security,
            "workflows": [w.to_dict() for w in self.workflows],
            "issues": self.issues,
        }


def node_risk(node: Node) -> tuple[Level, list[str]]:
    """The riskiest class of what a node runs (shell command or SQL), with the rules."""
    from osop.security.commands import classify_command
    from osop.security.sql import classify_sql

    runtime = node.runtime
    command = runtime.get("command") or runtime.get("cmd") or runtime.get("script")
    levels: list[Level] = []
    rules: list[str] = []
    if isinstance(command, str | list) and command:
        result = classify_command(
            command if isinstance(command, str) else [str(c) for c in command]
        )
        levels.append(result.level)
        rules.extend(r.rule for r in result.reasons)
    query = runtime.get("sql") or runtime.get("query")
    if node.type == "db" and isinstance(query, str) and query:
        result = classify_sql(query)
        levels.append(result.level)
        rules.extend(r.rule for r in result.reasons)
    return highest(levels), rules


def workflow_info(
    wf: Workflow, path: str, level: int | None, title: str | None = None
) -> WorkflowInfo:
    inputs = list(wf.declared_inputs)
    if not inputs:
        for node in wf.entry_nodes():
            inputs.extend(n for n in node.declared_inputs if n not in inputs)
    return WorkflowInfo(
        path=path,
        id=wf.id,
        name=wf.label,
        description=wf.description,
        inputs=inputs,
        node_types=sorted({n.type for n in wf.nodes}),
        level=level,
        title=title,
    )


def _issue_dicts(report: ValidationReport, path: str) -> list[dict[str, Any]]:
    return [i.to_dict(path) for i in report.issues if i.severity in ("error", "warning")]


def summarize_package(main: str, files: dict[str, str]) -> PackageSummary:
    """Validate every file of a package (laid out in a private folder) and summarise it.

    Raises :class:`PackageError` for a package whose shape is wrong (bad paths, a
    ``.sop`` ref that is a URL or leaves the package); validation problems are
    returned as ``issues`` (the caller refuses a package with errors).
    """
    for path in files:
        check_package_path(path)
    if main not in files:
        raise PackageError(f"the main document {main!r} is not among the package's files")
    with tempfile.TemporaryDirectory(prefix="osop-hub-") as tmp:
        root = Path(tmp)
        for path, text in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return _summarize(root, main, files)


def _summarize(root: Path, main: str, files: dict[str, str]) -> PackageSummary:
    issues: list[dict[str, Any]] = []
    main_report = validate_path(root / main)
    issues.extend(_issue_dicts(main_report, main))
    if main_report.kind not in ("workflow", "sop"):
        what = main_report.kind or "unreadable"
        issues.append(
            Issue(
                "error", "hub/not-a-process", f"a package holds an .osop or a .sop, not {what}"
            ).to_dict(main)
        )
        return PackageSummary("unknown", main, "", [], [], None, [], {}, [], issues)
    entries: list[tuple[str, str | None]] = []  # (package path, title)
    if main_report.kind == "sop":
        model = main_report.model
        assert isinstance(model, SopDocument)
        for section in model.sections:
            for entry in section.entries:
                if entry.ref is not None:
                    entries.append((resolve_ref(main, entry.ref), entry.title))
        listed = {path for path, _ in entries} | {main}
        for ref in sop_refs(model.raw):
            resolve_ref(main, ref)  # raises for URLs and escapes
        extra = sorted(set(files) - listed)
        if extra:
            issues.append(
                Issue(
                    "error",
                    "hub/unlisted-file",
                    f"files the .sop does not refer to: {', '.join(extra)}",
                ).to_dict(main)
            )
        title, description = model.name, model.description or ""
        tags = list(model.tags)
    else:
        extra = sorted(set(files) - {main})
        if extra:
            issues.append(
                Issue(
                    "error", "hub/unlisted-file", f"a workflow package holds one file, not {extra}"
                ).to_dict(main)
            )
        entries.append((main, None))
        title, description, tags = "", "", []
    workflows: list[WorkflowInfo] = []
    purposes: list[str] = []
    node_types: set[str] = set()
    risky: list[dict[str, Any]] = []
    gates: list[dict[str, str]] = []
    levels: list[int | None] = []
    for path, entry_title in dict.fromkeys(entries):
        if path not in files:
            continue  # the validator already warned: sop/missing-ref
        report = main_report if path == main else validate_path(root / path, kind="workflow")
        if path != main:
            issues.extend(_issue_dicts(report, path))
        wf = report.model
        if not isinstance(wf, Workflow):
            continue
        levels.append(report.level)
        info = workflow_info(wf, path, report.level, entry_title)
        workflows.append(info)
        node_types.update(info.node_types)
        purposes.extend(x for x in (wf.description, *(n.purpose for n in wf.nodes)) if x)
        for tag in wf.tags:
            if tag not in tags:
                tags.append(tag)
        for node in wf.nodes:
            risk, rules = node_risk(node)
            if risk != "safe":
                risky.append({"workflow": path, "node": node.id, "level": risk, "rules": rules})
            if node.type == "human" or node.requires_approval:
                gates.append({"workflow": path, "node": node.id, "type": node.type})
        if main_report.kind == "workflow":
            title, description = wf.label, wf.description or ""
    known = [lv for lv in levels if lv is not None]
    level = min(known) if known and len(known) == len(levels) else None
    security = {
        "risk": highest(r["level"] for r in risky),
        "risky_nodes": risky,
        "approval_gates": gates,
    }
    return PackageSummary(
        kind=str(main_report.kind),
        title=title,
        description=description,
        tags=tags,
        node_types=sorted(node_types),
        level=level,
        purposes=purposes,
        security=security,
        workflows=workflows,
        issues=issues,
    )
