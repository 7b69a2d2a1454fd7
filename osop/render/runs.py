"""Run records found beside a workflow file, summarised for a document's Runs tab."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from osop.errors import OsopError
from osop.format.loader import load_path
from osop.record.model import RunRecord, parse_timestamp, record_from_dict

__all__ = ["RECORD_SUFFIXES", "RunSummary", "records_beside", "records_in_store", "summarise_run"]

RECORD_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")
#: A folder with more records than this is summarised from its newest files only.
MAX_RECORDS = 200


@dataclass(frozen=True, slots=True)
class RunSummary:
    file: str
    run_id: str
    status: str
    mode: str | None
    started_at: str | None
    duration_seconds: float | None
    node_statuses: dict[str, int]
    attempts: int
    cost_usd: float


def summarise_run(record: RunRecord, file: str) -> RunSummary:
    counts: dict[str, int] = {}
    latest: dict[str, str] = {}
    for nr in record.node_records:  # the last attempt of a node decides its status
        latest[nr.node_id] = nr.status
    for status in latest.values():
        counts[status] = counts.get(status, 0) + 1
    return RunSummary(
        file=file,
        run_id=record.run_id,
        status=record.status,
        mode=record.mode,
        started_at=record.started_at,
        duration_seconds=record.duration_seconds,
        node_statuses=dict(sorted(counts.items())),
        attempts=len(record.node_records),
        cost_usd=record.total_cost_usd,
    )


def records_beside(
    workflow_file: Path, workflow_id: str, warnings: list[str] | None = None
) -> list[RunSummary]:
    """Records in the workflow's folder whose ``workflow_id`` matches, newest first.

    Unreadable records are skipped with a note in ``warnings``: a broken log must
    not stop a document from rendering.
    """
    folder = workflow_file.parent
    if not workflow_id or not folder.is_dir():
        return []
    try:
        with os.scandir(folder) as entries:  # name test first: no stat per workflow file
            files = sorted(
                Path(e.path)
                for e in entries
                if e.name.lower().endswith(RECORD_SUFFIXES) and e.is_file()
            )[-MAX_RECORDS:]
    except OSError as exc:
        if warnings is not None:
            warnings.append(f"{folder}: cannot list run records: {exc.strerror or exc}")
        return []
    runs: list[RunSummary] = []
    for path in files:
        try:
            doc = load_path(path, kind="log", max_bytes=None)
        except OsopError as exc:
            if warnings is not None:
                warnings.append(f"{path}: skipped unreadable record: {exc}")
            continue
        if str(doc.data.get("workflow_id", "")) != workflow_id:
            continue
        runs.append(summarise_run(record_from_dict(doc.data), path.name))

    runs.sort(key=_newest_first)
    return runs


def _newest_first(run: RunSummary) -> float:
    started = parse_timestamp(run.started_at)
    return -started.timestamp() if started else 0.0


def records_in_store(
    store_root: Path, workflow_id: str, warnings: list[str] | None = None
) -> list[RunSummary]:
    """The run store's records of ``workflow_id``, newest first (the newest 200 runs)."""
    from osop.analysis.records import read_record
    from osop.engine.store import RunStore

    if not workflow_id:
        return []
    runs: list[RunSummary] = []
    for handle in RunStore(store_root).iter_runs():
        if not handle.record_path.is_file():
            continue
        try:
            record = read_record(handle.record_path)
        except OsopError as exc:
            if warnings is not None:
                warnings.append(f"run {handle.run_id}: skipped unreadable record: {exc}")
            continue
        if record.workflow_id == workflow_id:
            runs.append(summarise_run(record, f"run {handle.run_id[:8]}"))
    runs.sort(key=_newest_first)
    return runs[:MAX_RECORDS]
