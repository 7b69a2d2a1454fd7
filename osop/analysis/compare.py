"""Pick the comparison two (or more) documents call for, by their kinds.

workflow + workflow → structural diff; record + record → run diff; workflow +
records → should vs did (token replay).  The CLI's ``osop diff`` and the MCP
server's ``osop_diff`` both come through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from osop.analysis.conformance import ConformanceResult, ConformanceSummary, replay, summarise
from osop.analysis.diff_format import AnyDiff
from osop.analysis.diff_records import diff_records
from osop.analysis.diff_workflows import diff_workflows
from osop.analysis.documents import document_kind, read_run, read_workflow
from osop.analysis.sessions import diff_sessions, is_session
from osop.errors import OsopError

__all__ = ["LOG_SUFFIXES", "ComparisonError", "compare_paths"]

LOG_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")


class ComparisonError(OsopError):
    """The documents given cannot be compared with each other (a usage problem)."""


def _records_in(items: Sequence[str]) -> list[tuple[str, bool]]:
    """``(path, found in a folder)``; hidden folders (a run store) are not searched."""
    out: list[tuple[str, bool]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += sorted(
                (str(p), True)
                for p in path.rglob("*")
                if p.is_file()
                and p.name.endswith(LOG_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            out.append((item, False))
    return out


def _replay_all(first: str, others: list[tuple[str, bool]]) -> ConformanceSummary:
    """Replay every record; one found in a folder that cannot be read is skipped, as
    ``osop stats`` does, while a file named on its own must be readable."""
    workflow = read_workflow(first)
    results: list[ConformanceResult] = []
    skipped: list[str] = []
    for path, in_folder in others:
        try:
            record = read_run(path)
        except OsopError as exc:
            if not in_folder:
                raise
            skipped.append(str(exc))
            continue
        results.append(replay(workflow, record, path))
    if not results:
        raise ComparisonError(f"no readable record among {len(others)} file(s)")
    return summarise(first, results, skipped)


def compare_paths(first: str, second: str, *rest: str) -> AnyDiff:
    """Compare documents by path; folders given after a workflow are searched for records."""
    kind_a = document_kind(first)
    if kind_a == "workflow":
        others = _records_in((second, *rest))
        if not others:
            raise ComparisonError(f"no records found in {second}")
        kinds = {document_kind(p) for p, _ in others}
        if kinds == {"workflow"} and len(others) == 1:
            second = others[0][0]
            return diff_workflows(read_workflow(first), read_workflow(second), first, second)
        if kinds != {"log"}:
            raise ComparisonError(
                "compare a workflow with one workflow, or with one or more records"
            )
        return _replay_all(first, others)
    if kind_a == "log":
        if not rest and document_kind(second) == "workflow":
            raise ComparisonError(
                f"to compare a workflow with what a run did, give the workflow first: "
                f"osop diff {second} {first}"
            )
        if rest or document_kind(second) != "log":
            raise ComparisonError("a record is compared with exactly one other record")
        run_a, run_b = read_run(first), read_run(second)
        if is_session(run_a) and is_session(run_b):
            return diff_sessions(run_a, run_b, first, second)
        return diff_records(run_a, run_b, first, second)
    raise ComparisonError(f"{first}: diff compares workflows and records, not {kind_a} files")
