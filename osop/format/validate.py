"""The validator: schema errors plus semantic rules, each issue with a stable rule id.

Modelled on jsonschema: :func:`iter_issues` yields every problem, the report
says whether any is an error, and every issue carries a JSON pointer resolved to
a line and column of the source.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osop.diagnostics import Issue, escape_pointer_token
from osop.errors import LoadError
from osop.format.loader import DEFAULT_MAX_BYTES, Document, DocumentKind, load_document, load_path
from osop.format.rules import workflow_rules
from osop.format.schemas import SchemaName, is_valid, validator_for
from osop.format.vocabulary import EDGE_MODES, NODE_TYPES
from osop.format.workflow import Workflow, workflow_from_dict

if TYPE_CHECKING:
    from jsonschema import ValidationError as SchemaError

    from osop.format.sop import SopDocument
    from osop.record.model import RunRecord

__all__ = [
    "ValidationReport",
    "iter_issues",
    "validate_document",
    "validate_path",
    "validate_text",
]

_SCHEMA_OF: dict[DocumentKind, SchemaName] = {"workflow": "osop", "log": "osoplog", "sop": "sop"}


@dataclass(slots=True)
class ValidationReport:
    """What ``osop validate`` says about one file."""

    file: str
    kind: DocumentKind | None
    issues: list[Issue] = field(default_factory=list)
    #: Conformance level 0–3 (workflows only; ``None`` when invalid or not a workflow).
    level: int | None = None
    #: What the next level needs (empty at level 3).
    next_level: list[str] = field(default_factory=list)
    model: Workflow | RunRecord | SopDocument | None = None
    document: Document | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def ok(self, *, strict: bool = False) -> bool:
        """Valid, and with ``strict`` free of warnings too."""
        return self.valid and not (strict and self.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "valid": self.valid,
            "level": self.level,
            "issues": [i.to_dict(self.file) for i in self.issues],
        }


# --- schema errors → issues -------------------------------------------------------------


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + escape_pointer_token(p) for p in path)


def _did_you_mean(value: Any, choices: Sequence[str]) -> str | None:
    if not isinstance(value, str):
        return None
    close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _schema_issue(error: SchemaError) -> Issue:
    from jsonschema.exceptions import best_match  # only invalid documents get here

    if error.validator in ("anyOf", "oneOf") and error.context:
        # Report the branch that came closest, not "is not valid under any of ...".
        deepest = best_match(error.context)
        if deepest is not None and deepest.validator not in ("anyOf", "oneOf", "type"):
            error = deepest
    path = list(error.absolute_path)
    pointer = _pointer(path)
    schema_path = _pointer(error.absolute_schema_path)
    validator = str(error.validator)
    message = error.message
    hint: str | None = None
    rule = f"schema/{validator}"
    if validator == "required":
        missing = (
            error.message.split("'")[1] if "'" in error.message else str(error.validator_value)
        )
        where = pointer or "the document"
        message = f"missing required field {missing!r} in {where}"
        if isinstance(error.instance, dict):
            # A misspelt key is the usual reason (`tpye: cli`): name it.
            keys = [k for k in error.instance if isinstance(k, str)]
            close = difflib.get_close_matches(missing, keys, n=1, cutoff=0.6)
            hint = f"is {close[0]!r} a misspelling of {missing!r}?" if close else None
    elif validator == "enum" and len(path) == 3 and path[0] == "nodes" and path[2] == "type":
        rule = "node/unknown-type"
        message = f"unknown node type {error.instance!r}; the 16 types are {', '.join(NODE_TYPES)}"
        hint = _did_you_mean(error.instance, NODE_TYPES)
    elif validator == "enum" and len(path) == 3 and path[0] == "edges" and path[2] == "mode":
        rule = "edge/unknown-mode"
        message = f"unknown edge mode {error.instance!r}; the modes are {', '.join(EDGE_MODES)}"
        hint = _did_you_mean(error.instance, EDGE_MODES)
    elif validator == "minItems" and path == ["nodes"]:
        rule = "workflow/empty-nodes"
        message = "a workflow needs at least one node"
    elif validator == "enum":
        allowed = error.validator_value
        choices = [str(c) for c in allowed] if isinstance(allowed, list) else []
        hint = _did_you_mean(error.instance, choices)
    return Issue(
        "error", rule, message, pointer=pointer, hint=hint, schema_path=schema_path or None
    )


def _schema_issues(kind: DocumentKind, data: dict[str, Any]) -> list[Issue]:
    if is_valid(_SCHEMA_OF[kind], data):
        return []
    validator = validator_for(_SCHEMA_OF[kind])
    issues = [_schema_issue(e) for e in validator.iter_errors(data)]
    issues.sort(key=lambda i: i.pointer)
    return issues


# --- the driver -----------------------------------------------------------------------


def _locate(doc: Document, issue: Issue) -> Issue:
    if issue.line is not None:
        return issue
    position = (
        doc.locate_key(issue.pointer) if issue.rule.startswith("schema/") else None
    ) or doc.locate(issue.pointer)
    if position is None:
        return issue
    return replace(issue, line=position[0], column=position[1])


def iter_issues(
    doc: Document,
    *,
    workflow: Workflow | None = None,
    base_dir: Path | None = None,
) -> Iterator[Issue]:
    """Every issue of a parsed document, schema first, then the semantic rules."""
    report = validate_document(doc, workflow=workflow, base_dir=base_dir)
    yield from report.issues


def validate_document(
    doc: Document,
    *,
    workflow: Workflow | None = None,
    base_dir: Path | None = None,
    adopt: bool = False,
) -> ValidationReport:
    """Validate a parsed document.

    ``workflow`` checks a ``.osoplog`` against the workflow it claims to record;
    ``base_dir`` resolves relative paths (imports, ``.sop`` refs) — by default
    the document's folder. ``adopt``: a workflow model takes the document's node
    and edge mappings as its own (see :func:`workflow_from_dict`), for a caller
    that keeps the model and drops the document.
    """
    base = base_dir or (doc.path.parent if doc.path is not None else Path.cwd())
    report = ValidationReport(file=doc.name, kind=doc.kind, document=doc)
    issues = _schema_issues(doc.kind, doc.data)
    structural = any(i.is_error for i in issues)
    if doc.kind == "workflow":
        wf = workflow_from_dict(doc.data, adopt=adopt)
        report.model = wf
        issues.extend(wf.notes)
        issues.extend(workflow_rules.check(wf, doc.data, base_dir=base, structural=structural))
        if not any(i.is_error for i in issues):
            report.level, report.next_level = workflow_rules.conformance_level(wf)
    elif doc.kind == "log":
        # Imported per kind: validating a workflow (start-up of `osop validate`)
        # never pays for the record and .sop models.
        from osop.format.rules import log_rules
        from osop.record.model import record_from_dict

        record = record_from_dict(doc.data)
        report.model = record
        issues.extend(record.notes)
        issues.extend(log_rules.check(record, doc.data, workflow=workflow))
    else:
        from osop.format.rules import sop_rules
        from osop.format.sop import sop_from_dict

        sop = sop_from_dict(doc.data)
        report.model = sop
        inner = list(sop_rules.check(sop, base_dir=base))
        # The .sop schema checks inline workflows too; the workflow rules say the same
        # more precisely (node/unknown-type rather than schema/enum): keep theirs.
        told = {i.pointer for i in inner if _INLINE_WORKFLOW.match(i.pointer)}
        issues = [i for i in issues if not (i.rule.startswith("schema/") and i.pointer in told)]
        issues.extend(inner)
    report.issues = _dedupe([_locate(doc, i) for i in issues])
    return report


_INLINE_WORKFLOW = re.compile(r"^/sections/\d+/workflows/\d+/workflow/")


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Issue] = []
    for issue in issues:
        key = (issue.rule, issue.pointer, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def _load_failure(exc: LoadError, name: str) -> ValidationReport:
    issue = Issue("error", exc.rule, exc.message, pointer="", line=exc.line, column=exc.column)
    return ValidationReport(file=exc.file or name, kind=None, issues=[issue])


def validate_path(
    path: str | Path,
    *,
    workflow: Workflow | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    kind: DocumentKind | None = None,
    adopt: bool = False,
) -> ValidationReport:
    """Load and validate a file; an unreadable file is a report with one error."""
    try:
        doc = load_path(path, kind=kind, max_bytes=max_bytes)
    except LoadError as exc:
        return _load_failure(exc, str(path))
    return validate_document(doc, workflow=workflow, adopt=adopt)


def validate_text(
    text: str | bytes,
    name: str = "<stdin>",
    *,
    workflow: Workflow | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    kind: DocumentKind | None = None,
    base_dir: Path | None = None,
) -> ValidationReport:
    """Validate a document given as text (stdin, an MCP call, a test)."""
    try:
        doc = load_document(text, name, kind=kind, max_bytes=max_bytes)
    except LoadError as exc:
        return _load_failure(exc, name)
    return validate_document(doc, workflow=workflow, base_dir=base_dir)
