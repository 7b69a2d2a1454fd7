"""Pick the comparison two (or more) documents call for, by their kinds.

workflow + workflow → structural diff; record + record → run diff; workflow +
records → should vs did (token replay).  The CLI's ``osop diff`` and the MCP
server's ``osop_diff`` both come through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from osop.analysis.conformance import replay, summarise
from osop.analysis.diff_format import AnyDiff
from osop.analysis.diff_records import diff_records
from osop.analysis.diff_workflows import diff_workflows
from osop.analysis.documents import document_kind, read_run, read_workflow
from osop.errors import OsopError

__all__ = ["LOG_SUFFIXES", "ComparisonError", "compare_paths"]

LOG_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")


class ComparisonError(OsopError):
    """The documents given cannot be compared with each other (a usage problem)."""


def _records_in(items: Sequence[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += sorted(
                str(p) for p in path.rglob("*") if p.is_file() and p.name.endswith(LOG_SUFFIXES)
            )
        else:
            out.append(item)
    return out


def compare_paths(first: str, second: str, *rest: str) -> AnyDiff:
    """Compare documents by path; folders given after a workflow are searched for records."""
    kind_a = document_kind(first)
    if kind_a == "workflow":
        others = _records_in((second, *rest))
        if not others:
            raise ComparisonError(f"no records found in {second}")
        kinds = {document_kind(p) for p in others}
        if kinds == {"workflow"} and len(others) == 1:
            return diff_workflows(read_workflow(first), read_workflow(others[0]), first, others[0])
        if kinds != {"log"}:
            raise ComparisonError(
                "compare a workflow with one workflow, or with one or more records"
            )
        workflow = read_workflow(first)
        return summarise(first, (replay(workflow, read_run(p), p) for p in others))
    if kind_a == "log":
        if rest or document_kind(second) != "log":
            raise ComparisonError("a record is compared with exactly one other record")
        return diff_records(read_run(first), read_run(second), first, second)
    raise ComparisonError(f"{first}: diff compares workflows and records, not {kind_a} files")
