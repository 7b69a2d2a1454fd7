"""Runs for the Ledger: a simulated run of the document as it stands, and the
records of the run store played back on the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from osop.engine.store import RunStore
from osop.errors import OsopError

__all__ = ["list_runs", "run_record", "simulate"]

#: The Ledger lists at most this many runs (newest first).
MAX_LISTED = 100


async def simulate(text: str, name: str, store: RunStore, workdir: Path) -> str:
    """Run ``text`` in simulated mode into ``store``; the new run's id.

    The same path as ``osop run --mode simulated``: the document is validated
    first, and a workflow with errors is refused with them.
    """
    from osop.engine import RunOptions, start_run
    from osop.format.validate import validate_text
    from osop.format.workflow import Workflow

    report = validate_text(text, name, base_dir=workdir)
    if not report.valid or not isinstance(report.model, Workflow):
        first = report.errors[0].format(name) if report.errors else f"{name}: not a workflow"
        raise OsopError(f"cannot simulate a document with errors: {first}")
    options = RunOptions(mode="simulated", workdir=workdir, auto_approve=True)
    result = await start_run(
        report.model,
        source=text.encode("utf-8"),
        workflow_path=workdir / name,
        store=store,
        options=options,
    )
    return result.run_id


def list_runs(store: RunStore, workflow_id: str | None) -> list[dict[str, Any]]:
    """Runs of ``workflow_id`` (every run when ``None``), newest first."""
    from osop.engine.runner import describe_run

    runs = [describe_run(h) for h in store.iter_runs()]
    if workflow_id is not None:
        runs = [r for r in runs if r.get("workflow_id") == workflow_id]
    runs.sort(key=lambda r: str(r.get("started_at") or ""), reverse=True)
    return runs[:MAX_LISTED]


def run_record(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run's record in the spec's form (rebuilt from its journal when needed)."""
    from osop.engine.runner import materialise_record, read_imported_record

    handle = store.get(run_id)
    try:
        record = read_imported_record(handle) if handle.imported else materialise_record(handle)
    except OsopError:
        raise
    except Exception as exc:  # a damaged run folder: say so, do not crash the page
        raise OsopError(f"run {run_id}: cannot read its record: {exc}") from None
    return record.to_dict()
