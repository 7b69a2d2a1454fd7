"""The public API is small and explicit: pin it, and check every name resolves."""

from __future__ import annotations

import osop

EXPECTED = {
    "__version__",
    "OsopError",
    "LoadError",
    "ValidationError",
    "ExpressionError",
    "MissingReferenceError",
    "ExecutionError",
    "RunStoreError",
    "Issue",
    "load_workflow",
    "load_record",
    "load_sop",
    "load_document",
    "Workflow",
    "Node",
    "Edge",
    "RetryPolicy",
    "workflow_from_dict",
    "RunRecord",
    "NodeRecord",
    "record_from_dict",
    "SopDocument",
    "ValidationReport",
    "validate_path",
    "validate_text",
    "migrate_path",
    "approve",
    "resume",
}


def test_all_is_pinned() -> None:
    assert set(osop.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in osop.__all__:
        assert getattr(osop, name) is not None


def test_errors_share_one_root() -> None:
    for name in ("LoadError", "ValidationError", "ExpressionError", "ExecutionError"):
        assert issubclass(getattr(osop, name), osop.OsopError)
