"""The engine: scheduler, journal, run store and the entry points that tie them together.

Typical use::

    import asyncio
    from osop.engine import RunOptions, RunStore, start_run
    from osop.format.api import load_workflow

    wf = load_workflow("deploy.osop.yaml")
    result = asyncio.run(start_run(wf, store=RunStore(), options=RunOptions(mode="simulated")))
    print(result.status, result.exit_code)
"""

from __future__ import annotations

from osop.engine.answers import approve
from osop.engine.clock import Clock, SystemClock, VirtualClock
from osop.engine.lookup import load_run
from osop.engine.options import (
    DEFAULT_MAX_ITERATIONS,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_PAUSED,
    RunOptions,
    RunResult,
)
from osop.engine.recording import build_record
from osop.engine.runner import (
    cancel_run,
    deliver_answer,
    deliver_event,
    describe_run,
    load_run_state,
    materialise_record,
    resume_run,
    start_run,
    workflow_hash,
)
from osop.engine.store import RunHandle, RunStore, default_store_root

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_PAUSED",
    "Clock",
    "RunHandle",
    "RunOptions",
    "RunResult",
    "RunStore",
    "SystemClock",
    "VirtualClock",
    "approve",
    "build_record",
    "cancel_run",
    "default_store_root",
    "deliver_answer",
    "deliver_event",
    "describe_run",
    "load_run",
    "load_run_state",
    "materialise_record",
    "resume_run",
    "start_run",
    "workflow_hash",
]
