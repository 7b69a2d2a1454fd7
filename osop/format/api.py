"""Load documents as typed models, validated first.

These are what the engine, the analysis commands and Python users call:
an invalid document raises :class:`~osop.errors.ValidationError` carrying every
issue, so nothing runs on a workflow the validator rejects.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from osop.errors import LoadError, ValidationError
from osop.format.loader import DEFAULT_MAX_BYTES, DocumentKind, detect_kind
from osop.format.validate import ValidationReport, validate_path
from osop.format.workflow import Workflow

if TYPE_CHECKING:
    from osop.format.sop import SopDocument
    from osop.record.model import RunRecord

__all__ = ["load_record", "load_sop", "load_workflow"]


_KIND_NAMES: dict[DocumentKind, str] = {
    "workflow": "a workflow (.osop)",
    "log": "a run record (.osoplog)",
    "sop": "a .sop collection",
}


def _checked(
    path: str | Path, kind: DocumentKind, max_bytes: int | None, strict: bool = False
) -> ValidationReport:
    # Only the model is kept: it may take the parsed document's mappings as its own.
    report = validate_path(path, kind=kind, max_bytes=max_bytes, adopt=True)
    if report.kind is None:  # unreadable: the one issue says why
        issue = report.issues[0]
        raise LoadError(
            issue.message, rule=issue.rule, file=report.file, line=issue.line, column=issue.column
        )
    doc = report.document
    found = detect_kind("", doc.data) if doc is not None and isinstance(doc.data, dict) else None
    if found is not None and found != kind:
        # Validated as the wrong kind, every issue would be noise: say what it is instead.
        raise LoadError(
            f"this is {_KIND_NAMES[found]}, not {_KIND_NAMES[kind]}",
            rule="document/wrong-kind",
            file=report.file,
        )
    if not report.ok(strict=strict):
        raise ValidationError(report.issues, file=report.file)
    return report


def load_workflow(
    path: str | Path, *, max_bytes: int | None = DEFAULT_MAX_BYTES, strict: bool = False
) -> Workflow:
    """Read, validate and model an ``.osop`` file."""
    model = _checked(path, "workflow", max_bytes, strict).model
    assert isinstance(model, Workflow)
    return model


def load_record(path: str | Path, *, max_bytes: int | None = None) -> RunRecord:
    """Read, validate and model an ``.osoplog`` file (records may be large: no size cap)."""
    from osop.record.model import RunRecord

    model = _checked(path, "log", max_bytes).model
    assert isinstance(model, RunRecord)
    return model


def load_sop(path: str | Path, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> SopDocument:
    """Read, validate and model a ``.sop`` file."""
    from osop.format.sop import SopDocument

    model = _checked(path, "sop", max_bytes).model
    assert isinstance(model, SopDocument)
    return model
