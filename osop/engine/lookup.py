"""A stored run's documents: the workflow that ran (its exact copy) and its record."""

from __future__ import annotations

from osop.engine.runner import materialise_record
from osop.engine.store import RunStore
from osop.errors import LoadError
from osop.format.loader import load_path
from osop.format.workflow import Workflow, workflow_from_dict
from osop.record.model import RunRecord

__all__ = ["load_run"]


def load_run(store: RunStore, run_id: str) -> tuple[Workflow | None, RunRecord]:
    """``(workflow, record)`` of a run by id or unique id prefix.

    The record is materialised from the journal, so it is current even for a run
    that is paused or was interrupted.  The workflow is ``None`` when its copy is
    missing or unreadable (the record alone still makes a report).
    """
    handle = store.get(run_id)
    record = materialise_record(handle)
    workflow: Workflow | None = None
    if handle.workflow_path.is_file():
        try:
            workflow = workflow_from_dict(load_path(handle.workflow_path, max_bytes=None).data)
        except LoadError:
            workflow = None
    return workflow, record
