"""What both process-mining exports need: times, resources, attempt events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from osop.record.model import NodeRecord, RunRecord, parse_timestamp

__all__ = ["AttemptTimes", "attempt_times", "format_time", "resource_of"]


def format_time(moment: datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset (what XES and OCEL readers parse)."""
    return moment.isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class AttemptTimes:
    start: datetime | None
    end: datetime | None


def attempt_times(record: NodeRecord) -> AttemptTimes:
    """Start and end of an attempt; a missing end is start + duration when known."""
    start = parse_timestamp(record.started_at)
    end = parse_timestamp(record.ended_at)
    if end is None and start is not None and record.duration_ms is not None:
        try:
            end = start + timedelta(milliseconds=record.duration_ms)
        except (OverflowError, ValueError):
            end = None  # an absurd duration: keep the start, drop the end
    return AttemptTimes(start, end)


def resource_of(run: RunRecord, record: NodeRecord) -> str | None:
    """Who did it: the human actor, else the model, else the run's agent runtime."""
    human = record.human_metadata or {}
    if human.get("actor"):
        return str(human["actor"])
    ai = record.ai_metadata or {}
    if ai.get("model"):
        return str(ai["model"])
    runtime = run.runtime or {}
    if runtime.get("agent"):
        return str(runtime["agent"])
    return None
