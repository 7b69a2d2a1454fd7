"""Tell documents apart and load them for the analysis commands."""

from __future__ import annotations

from pathlib import Path

from osop.analysis.records import read_record
from osop.errors import LoadError
from osop.format.loader import DocumentKind, detect_kind, load_path
from osop.format.workflow import Workflow, workflow_from_dict
from osop.record.model import RunRecord

__all__ = ["document_kind", "read_run", "read_workflow"]


def document_kind(path: str | Path) -> DocumentKind:
    """``workflow``/``log``/``sop`` by name, else by content."""
    kind = detect_kind(str(path))
    if kind is not None:
        return kind
    return load_path(path, max_bytes=None).kind


def read_workflow(path: str | Path) -> Workflow:
    """A workflow model, read leniently (diffs and replays work on imperfect files too)."""
    doc = load_path(path, kind="workflow")
    if doc.kind != "workflow":
        raise LoadError("not a workflow", rule="document/wrong-kind", file=str(path))
    return workflow_from_dict(doc.data)


def read_run(path: str | Path) -> RunRecord:
    return read_record(path)
