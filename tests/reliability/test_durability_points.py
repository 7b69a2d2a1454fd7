"""A kill -9 right after each durability point of docs/running.md ("What is on disk
at each point"), then resume to the end.

One live workflow passes every point: the run's start, an attempt's start and end
(the node's ``done`` folded in), a child process (``proc``), a sub-workflow's run
(``child``), an approval gate's ``wait`` and the run's ``paused``, the approval
taken in (``answer``), a signal taken in (``event``) and the run's ``finished``.
For each point a session kills itself (SIGKILL) in the instant after the fsync
that first puts an entry of that kind on disk — before anything acts on it —
and the run is then resumed (answered, signalled) until it ends.  Checked:

* every step ran exactly once (the child process too): nothing completed before
  the kill ran again, and nothing the kill stopped was lost;
* an answer or event once taken in is never asked for again;
* the journal reads, in order, and every record on disk, and the one ``osop
  status`` rebuilds, validates; the run ends COMPLETED.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from crash_harness import EXIT_CRASH, Trial, fork, reap

from osop.engine import deliver_answer, deliver_event
from osop.engine import journal as journal_module
from osop.engine.runner import load_run_state

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="fork, /proc/self/fd, flock"
)

#: Each durability point of docs/running.md, by the entry kind that makes it.
POINTS = ["run", "start", "end", "proc", "child", "wait", "paused", "answer", "event", "finished"]

CHILD = {
    "osop_version": "1.1",
    "id": "child",
    "name": "Child",
    "nodes": [{"id": "c1", "type": "api", "name": "c1"}, {"id": "c2", "type": "api", "name": "c2"}],
    "edges": [{"from": "c1", "to": "c2"}],
}
PARENT = {
    "osop_version": "1.1",
    "id": "points",
    "name": "Points",
    "imports": ["./child.osop.yaml"],
    "nodes": [
        {"id": "first", "type": "api", "name": "first"},
        {
            "id": "shell",
            "type": "cli",
            "name": "shell",
            "runtime": {"command": "echo ran >> side-effect.txt"},
        },
        {"id": "sub", "type": "system", "name": "sub", "workflow_ref": "child"},
        {"id": "gate", "type": "api", "name": "gate", "approval_gate": {"required": True}},
        {"id": "last", "type": "api", "name": "last"},
    ],
    "edges": [
        {"from": "first", "to": "shell"},
        {"from": "shell", "to": "sub"},
        {"from": "sub", "to": "gate"},
        {"from": "gate", "to": "last", "mode": "signal", "signal": "go"},
    ],
}
API_NODES = ("first", "c1", "c2", "gate", "last")


class KillAfterFsync:
    """Stands in for ``os`` in the journal module of a session: right after the fsync
    that first leaves an entry of ``kind`` in the run's journal, SIGKILL."""

    def __init__(self, journal: Path, kind: str) -> None:
        self._journal = str(journal)
        self._marker = b'{"t":"%s"' % kind.encode()

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)
        if os.readlink(f"/proc/self/fd/{fd}") != self._journal:
            return
        with open(self._journal, "rb") as journal:
            if self._marker in journal.read():
                os.kill(os.getpid(), signal.SIGKILL)


class Points(Trial):
    """The workflow above, its sessions (forked) and what they left behind."""

    kill_kind: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.path.write_text(yaml.safe_dump(PARENT, sort_keys=False))
        (self.root / "child.osop.yaml").write_text(yaml.safe_dump(CHILD, sort_keys=False))

    def arm(self) -> None:
        if self.kill_kind is not None:
            journal = self.handle_path / "journal.jsonl"
            journal_module.os = KillAfterFsync(journal, self.kill_kind)  # type: ignore[assignment]


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_right_after_each_durability_point_loses_and_repeats_nothing(
    tmp_path: Path, point: str
) -> None:
    trial = Points(tmp_path / "trial", pause=0.0, resume_approves=False)
    trial.run_id = str(uuid.uuid4())
    trial.kill_kind = point
    errors = tmp_path / "errors.txt"
    codes: list[int] = []
    answered = signalled = False
    for session in range(10):
        entries = trial.journal(f"{point}: before session {session}") or []
        trial.check_record_file(f"{point}: before session {session}")
        if entries and trial.finished_status() is not None:
            break
        completed = trial.completed_nodes(entries)
        seen = len(trial.trace_lines())
        if entries:
            state = load_run_state(trial.store.get(trial.run_id))
            if "gate" in state.waits and not answered:
                deliver_answer(trial.store, trial.run_id, "gate", {"decision": "approved"})
                answered = True
            if state.edge_waits and not signalled:
                deliver_event(trial.store, trial.run_id, "go")
                signalled = True
        code = reap(fork(trial.start if session == 0 else trial.resume, errors))
        codes.append(code)
        if code == -signal.SIGKILL:
            trial.kill_kind = None  # killed once: the sessions after it run to their end
        trial.check_not_rerun(completed, seen, f"{point}: session {session}")
    assert EXIT_CRASH not in codes, errors.read_text() if errors.exists() else codes
    assert -signal.SIGKILL in codes, f"the kill at {point!r} never came: {codes}"
    entries = trial.journal(f"{point}: at the end") or []
    assert trial.finished_status() == "COMPLETED", codes
    trial.check_record_file(f"{point}: at the end")
    trial.check_rebuilt_record(f"{point}: at the end")
    assert trial.problems == []
    # Every step ran exactly once: none was repeated, none was lost.
    starts = Counter(words[1] for words in trial.trace_lines() if words[0] == "start")
    assert starts == Counter(API_NODES), starts
    assert (trial.root / "side-effect.txt").read_text() == "ran\n"
    # What was taken in stays taken in: the gate asked once, the signal was awaited once.
    kinds = Counter(e["t"] for e in entries)
    assert kinds["answer"] == 1 and kinds["event"] == 1
    answer_at = next(i for i, e in enumerate(entries) if e["t"] == "answer")
    assert not [e for e in entries[answer_at:] if e["t"] == "wait" and e.get("node") == "gate"]
