"""OSOP: define, run, record, compare and improve processes.

The public API is what this module exports (``__all__``, pinned by a test).
Names are imported on first use so that ``osop --version`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: public name → module that defines it (``module:attribute`` when the names differ)
_EXPORTS: dict[str, str] = {
    # errors
    "OsopError": "osop.errors",
    "LoadError": "osop.errors",
    "ValidationError": "osop.errors",
    "ExpressionError": "osop.errors",
    "MissingReferenceError": "osop.errors",
    "ExecutionError": "osop.errors",
    "RunStoreError": "osop.errors",
    "Issue": "osop.diagnostics",
    # documents
    "load_workflow": "osop.format.api",
    "load_record": "osop.format.api",
    "load_sop": "osop.format.api",
    "load_document": "osop.format.loader",
    "Workflow": "osop.format.workflow",
    "Node": "osop.format.workflow",
    "Edge": "osop.format.workflow",
    "RetryPolicy": "osop.format.workflow",
    "workflow_from_dict": "osop.format.workflow",
    "RunRecord": "osop.record.model",
    "NodeRecord": "osop.record.model",
    "record_from_dict": "osop.record.model",
    "SopDocument": "osop.format.sop",
    # validation
    "ValidationReport": "osop.format.validate",
    "validate_path": "osop.format.validate",
    "validate_text": "osop.format.validate",
    "migrate_path": "osop.format.migrate",
    # a run that waits for a person
    "approve": "osop.engine.answers",
    "resume": "osop.engine.runner:resume_run",
}

__all__ = ["__version__", *_EXPORTS]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from osop.diagnostics import Issue
    from osop.engine.answers import approve
    from osop.engine.runner import resume_run as resume
    from osop.errors import (
        ExecutionError,
        ExpressionError,
        LoadError,
        MissingReferenceError,
        OsopError,
        RunStoreError,
        ValidationError,
    )
    from osop.format.api import load_record, load_sop, load_workflow
    from osop.format.loader import load_document
    from osop.format.migrate import migrate_path
    from osop.format.sop import SopDocument
    from osop.format.validate import ValidationReport, validate_path, validate_text
    from osop.format.workflow import Edge, Node, RetryPolicy, Workflow, workflow_from_dict
    from osop.record.model import NodeRecord, RunRecord, record_from_dict


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'osop' has no attribute {name!r}")
    import importlib

    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
