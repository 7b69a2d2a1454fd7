"""Semantic rules for ``.osoplog`` records, optionally against their workflow."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.format.workflow import Workflow
from osop.record.model import RunRecord, parse_timestamp

__all__ = ["check"]

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _is_uuid4(text: str) -> bool:
    try:
        return uuid.UUID(text).version == 4
    except ValueError:
        return False


def check(
    record: RunRecord, data: Mapping[str, Any], *, workflow: Workflow | None = None
) -> Iterator[Issue]:
    if record.run_id and not _is_uuid4(record.run_id):
        yield Issue(
            "warning",
            "log/run-id-not-uuid4",
            f"run_id {record.run_id!r} is not a UUID v4",
            "/run_id",
        )
    if record.workflow_hash and not _HASH.match(record.workflow_hash):
        yield Issue(
            "warning",
            "log/workflow-hash-format",
            "workflow_hash should be `sha256:` + 64 hex digits",
            "/workflow_hash",
        )
    for key in ("started_at", "ended_at"):
        if data.get(key) is not None and parse_timestamp(data.get(key)) is None:
            yield Issue(
                "warning", "log/timestamp", f"{key} is not an ISO 8601 timestamp", f"/{key}"
            )
    seen_attempts: dict[tuple[str, int | None, int], int] = {}
    # The model keeps the mapping entries only, in order: map them back to their places.
    raw_records = data.get("node_records")
    raw_list = raw_records if isinstance(raw_records, list) else []
    places = [i for i, raw in enumerate(raw_list) if isinstance(raw, Mapping)]
    for index, rec in zip(places, record.node_records, strict=False):
        pointer = join_pointer("/node_records", index)
        if rec.started_at is not None and parse_timestamp(rec.started_at) is None:
            yield Issue(
                "warning",
                "log/timestamp",
                "started_at is not an ISO 8601 timestamp",
                join_pointer(pointer, "started_at"),
            )
        attempt_key = (rec.node_id, rec.iteration, rec.attempt)
        if attempt_key in seen_attempts and "attempt" in raw_list[index]:
            yield Issue(
                "warning",
                "log/duplicate-attempt",
                f"attempt {rec.attempt} of {rec.node_id!r} is recorded twice "
                f"(first at /node_records/{seen_attempts[attempt_key]})",
                join_pointer(pointer, "attempt"),
            )
        seen_attempts.setdefault(attempt_key, index)
    if workflow is None:
        return
    if record.workflow_id and workflow.id and record.workflow_id != workflow.id:
        yield Issue(
            "error",
            "log/workflow-mismatch",
            f"record is of workflow {record.workflow_id!r}, not {workflow.id!r}",
            "/workflow_id",
        )
    for index, rec in zip(places, record.node_records, strict=False):
        pointer = join_pointer("/node_records", index)
        if not workflow.has_node(rec.node_id):
            yield Issue(
                "error",
                "log/unknown-node",
                f"node {rec.node_id!r} is not in workflow {workflow.id!r}",
                join_pointer(pointer, "node_id"),
            )
        elif rec.node_type and workflow.node(rec.node_id).type != rec.node_type:
            yield Issue(
                "error",
                "log/node-type-mismatch",
                f"node {rec.node_id!r} is a {workflow.node(rec.node_id).type} node, "
                f"recorded as {rec.node_type}",
                join_pointer(pointer, "node_type"),
            )
