"""The spec's closed vocabularies, as the guide resolves them (the union of the seeds)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "EDGE_MODES",
    "IMPLICIT_LOOP_MODES",
    "JOIN_MODES",
    "LOG_MODES",
    "NODE_STATUSES",
    "NODE_TYPES",
    "RUN_STATUSES",
    "SUPPORTED_OSOP_VERSIONS",
    "TRIGGER_TYPES",
]

SUPPORTED_OSOP_VERSIONS: Final = ("1.0", "1.1")

NODE_TYPES: Final = (
    "human",
    "agent",
    "api",
    "cli",
    "db",
    "git",
    "docker",
    "cicd",
    "mcp",
    "system",
    "infra",
    "data",
    "company",
    "department",
    "event",
    "gateway",
)

EDGE_MODES: Final = (
    "sequential",
    "conditional",
    "parallel",
    "loop",
    "event",
    "fallback",
    "error",
    "timeout",
    "spawn",
    "switch",
    "compensation",
    "message",
    "dataflow",
    "signal",
    "weighted",
)

JOIN_MODES: Final = ("wait_all", "wait_any", "wait_n")

#: Guarded edge modes whose back edges run as loops ("fix and retry" cycles).
IMPLICIT_LOOP_MODES: Final = frozenset({"conditional", "fallback", "error", "timeout"})

TRIGGER_TYPES: Final = (
    "webhook",
    "schedule",
    "cron",
    "event",
    "manual",
    "api",
    "file_watch",
    "git_push",
)

#: Final run statuses, after the open ones: RUNNING (a process runs it, or it died:
#: `osop resume` continues it) and PAUSED (it waits for a person, an event or a
#: signal; no process runs it).
RUN_STATUSES: Final = (
    "PENDING",
    "RUNNING",
    "PAUSED",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMED_OUT",
)

#: Final node statuses, then the in-progress ones a journal-backed record may hold.
NODE_STATUSES: Final = (
    "COMPLETED",
    "FAILED",
    "SKIPPED",
    "TIMED_OUT",
    "CANCELLED",
    "RUNNING",
    "WAITING",
    "PENDING",
)

LOG_MODES: Final = ("live", "dry_run", "simulated")
