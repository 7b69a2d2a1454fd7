"""Pick the comparison two (or more) documents call for, by their kinds.

workflow + workflow → structural diff; record + record → run diff; workflow +
records → should vs did (token replay).  The CLI's ``osop diff`` and the MCP
server's ``osop_diff`` both come through here.
"""

from __future__ import annotations

from pathlib import Path

from osop.analysis.conformance import ConformanceResults, ConformanceSummary, Replayer, summarise
from osop.analysis.diff_format import AnyDiff
from osop.analysis.diff_records import diff_records
from osop.analysis.diff_workflows import diff_workflows
from osop.analysis.documents import document_kind, read_run, read_workflow
from osop.analysis.selection import (
    DEFAULT_MODES,
    LOG_SUFFIXES,
    iter_record_files,
    record_paths,
    require_some,
    stream_records,
)
from osop.analysis.sessions import diff_sessions, is_session
from osop.errors import OsopError
from osop.format.loader import detect_kind

__all__ = ["LOG_SUFFIXES", "ComparisonError", "compare_paths"]


class ComparisonError(OsopError):
    """The documents given cannot be compared with each other (a usage problem)."""


def _kind(item: str, store_root: Path | None) -> tuple[str, str]:
    """``(kind, path)``: a path's document kind, or a run id resolved to its record."""
    if Path(item).exists() or any(ch in item for ch in "*?["):
        return document_kind(item), item
    path = str(record_paths([item], store_root)[0])
    return "log", path


def _replay_all(
    first: str, others: list[str], modes: frozenset[str], store_root: Path | None
) -> ConformanceSummary:
    """Replay the records of ``first``'s workflow among ``others`` (modes as selected).

    Records of other workflows are left out and said so, as are unreadable files
    found in folders (``osop stats`` does the same); a file named on its own must be
    readable.
    """
    workflow = read_workflow(first)
    for item in others:
        if Path(item).is_file():
            read_run(item)  # a file named on its own must be readable: raise now
    # Streamed: each record is replayed and let go (100,000 files fit).
    selection, stream = stream_records(
        others, modes=modes, store_root=store_root, workflow_id=workflow.id
    )
    replayer = Replayer(workflow)
    results = ConformanceResults()  # compact: ~30 bytes a record, not ~400
    versions: set[str] = set()
    add, outcome = results.add, replayer.outcome
    for path, plain in stream:
        head = plain.head
        if head.workflow_version:
            versions.add(head.workflow_version)
        add(outcome(plain, path), path, head.run_id)
    require_some(selection, others)
    notes = [selection.describe()]
    if workflow.version and versions - {workflow.version}:
        notes.append(
            f"the records are of version(s) {', '.join(sorted(versions))}; "
            f"the workflow is version {workflow.version}"
        )
    summary = summarise(first, results, [f.message for f in selection.failures])
    summary.notes = notes
    summary.selection = selection.to_dict()
    return summary


def compare_paths(
    first: str,
    second: str,
    *rest: str,
    modes: frozenset[str] = DEFAULT_MODES,
    store_root: Path | None = None,
) -> AnyDiff:
    """Compare documents by path or run id; folders after a workflow are searched.

    A workflow compared with records uses the records of that workflow only, of the
    selected ``modes`` (live by default); two records named one by one are compared
    whatever their modes.
    """
    kind_a, first = _kind(first, store_root)
    if kind_a == "workflow":
        items = [second, *rest]
        if not rest and Path(second).is_file() and document_kind(second) == "workflow":
            return diff_workflows(read_workflow(first), read_workflow(second), first, second)
        if (
            not rest
            and Path(second).is_dir()
            and next(iter_record_files([second], store_root), None) is None
        ):
            workflows = [
                p
                for p in sorted(Path(second).rglob("*"))
                if p.is_file() and detect_kind(p.name) == "workflow"
            ]
            if len(workflows) == 1:
                return diff_workflows(
                    read_workflow(first), read_workflow(str(workflows[0])), first, second
                )
            raise ComparisonError(f"no records found in {second}")
        for item in items:
            if Path(item).is_file() and document_kind(item) != "log":
                raise ComparisonError(
                    "compare a workflow with one workflow, or with one or more records"
                )
        return _replay_all(first, items, modes, store_root)
    if kind_a == "log":
        kind_b, second = _kind(second, store_root)
        if not rest and kind_b == "workflow":
            raise ComparisonError(
                f"to compare a workflow with what a run did, give the workflow first: "
                f"osop diff {second} {first}"
            )
        if rest or kind_b != "log":
            raise ComparisonError("a record is compared with exactly one other record")
        run_a, run_b = read_run(first), read_run(second)
        if is_session(run_a) and is_session(run_b):
            return diff_sessions(run_a, run_b, first, second)
        return diff_records(run_a, run_b, first, second)
    raise ComparisonError(f"{first}: diff compares workflows and records, not {kind_a} files")
