"""Runs started by earlier interpreters still replay on the current one.

``histories/`` holds Temporal histories of real runs (recorded with
``record_histories.py``, one set per interpreter version).  A worker that picks up
such a run in flight replays its history through the current interpreter, which
must make the same decisions; a change that does not is caught here, before it
reaches a cluster (docs/temporal.md, "Upgrading workers with runs in flight").
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from osop.temporal import interpreter
from osop.temporal.interpreter import RunWorkflow
from osop.temporal.worker import sandbox_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[RunWorkflow], workflow_runner=sandbox_runner())
    asyncio.run(replayer.replay_workflow(history))


def test_there_are_histories_to_replay() -> None:
    assert len(HISTORIES) >= 5


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
def test_a_recorded_run_replays_on_the_current_interpreter(path: Path) -> None:
    _replay(path)


def test_an_interpreter_that_decides_differently_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from temporalio.workflow import NondeterminismError

    # As if a new release ran attempts under another activity type: old runs would
    # take a different path on replay, which Temporal refuses.
    monkeypatch.setattr(interpreter, "ACTIVITY_NAME", "osop.attempt.v2")
    path = next(p for p in HISTORIES if "approval-gate" in p.name)
    with pytest.raises(NondeterminismError):
        _replay(path)
