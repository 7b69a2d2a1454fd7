"""The definitions records ran with, where they are known.

The run store keeps the workflow each run executed (``workflow.osop``) beside its
record, so a process inferred from stored runs can carry each step's runtime — the
command, the request — rather than a bare name.  Records from elsewhere have no
such copy; their steps stay without one (see :mod:`osop.analysis.infer`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from osop.errors import OsopError
from osop.format.loader import load_path
from osop.record.model import RunRecord

__all__ = ["SNAPSHOT_NAME", "definitions_beside"]

#: What the run store calls the copy of the workflow a run executed.
SNAPSHOT_NAME = "workflow.osop"


def definitions_beside(records: Iterable[tuple[str, RunRecord]]) -> dict[str, dict[str, Any]]:
    """Node id → its definition in the newest run that has a snapshot beside its record."""
    newest_first = sorted(records, key=lambda pr: pr[1].started_at or "", reverse=True)
    found: dict[str, dict[str, Any]] = {}
    read: set[Path] = set()
    for path, _ in newest_first:
        snapshot = Path(path).parent / SNAPSHOT_NAME
        if snapshot in read or not snapshot.is_file():
            continue
        read.add(snapshot)
        try:
            data = load_path(snapshot, kind="workflow", max_bytes=None).data
        except OsopError:
            continue  # a damaged copy teaches nothing; the record itself still counts
        for node in data.get("nodes") or []:
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                found.setdefault(node["id"], node)
    return found
