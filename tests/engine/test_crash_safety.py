"""Crash safety of the run store: torn journals, the run lock, valid records, compensations."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import Runner, cli

from osop.engine import RunOptions, RunStore, VirtualClock, cancel_run, journal, resume_run
from osop.engine.journal import read_journal
from osop.engine.recording import build_record
from osop.engine.runner import load_run_state, materialise_record
from osop.engine.state import RunState
from osop.errors import ExecutionError, RunStoreError
from osop.format.validate import validate_path
from osop.record.writer import write_record

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks and signals")

GATED = {
    "id": "gated",
    "nodes": [
        cli("build"),
        {**cli("deploy"), "approval_gate": {"required": True}},
        cli("after"),
    ],
    "edges": [{"from": "build", "to": "deploy"}, {"from": "deploy", "to": "after"}],
}


def paused_run(runner: Runner) -> str:
    result = runner.run(GATED, mode="live", clock=VirtualClock())
    assert result.paused
    return result.run_id


def resume(runner: Runner, run_id: str, **options: Any) -> Any:
    options.setdefault("auto_approve", True)
    return asyncio.run(resume_run(run_id, store=runner.store, options=RunOptions(**options)))


def assert_valid_record(path: Path) -> None:
    report = validate_path(path)
    assert report.valid, [i.to_dict(str(path)) for i in report.errors]
    rules = {i.rule for i in report.warnings}
    assert "log/duplicate-attempt" not in rules


# -- a torn last entry --------------------------------------------------------------------


def test_a_torn_last_entry_is_cut_off_and_never_appended_after(runner: Runner) -> None:
    run_id = paused_run(runner)
    handle = runner.store.get(run_id)
    whole = handle.journal_path.read_bytes()
    fragment = b'{"t":"end","node":"deploy","attempt":1,"outputs":{"big":"xxxxxxxx'
    with handle.journal_path.open("ab") as out:
        out.write(fragment)  # kill -9 while writing a large entry
    result = resume(runner, run_id)
    assert result.status == "COMPLETED"
    assert any("torn entry" in note for note in getattr(result, "notes", []))
    data = handle.journal_path.read_bytes()
    assert fragment not in data and data.startswith(whole)
    entries = read_journal(handle.journal_path)  # whole again: no corruption
    seqs = [e["seq"] for e in entries]
    assert seqs == list(range(1, len(seqs) + 1))
    record = json.loads(handle.record_path.read_text())
    assert any("torn entry" in w for w in record["x-warnings"])
    assert_valid_record(handle.record_path)


def test_cancel_also_cuts_a_torn_tail_first(runner: Runner) -> None:
    run_id = paused_run(runner)
    handle = runner.store.get(run_id)
    with handle.journal_path.open("ab") as out:
        out.write(b'{"t":"wait","node":"de')
    assert cancel_run(runner.store, run_id) == "cancelled"
    assert load_run_state(handle).status == "CANCELLED"  # readable: nothing after a fragment


def test_a_whole_last_entry_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"t":"run","seq":1}\n{"t":"resumed","seq":2}')
    assert journal.recover_tail(path) is None
    assert path.read_bytes().endswith(b'{"t":"resumed","seq":2}\n')
    path.write_bytes(b'{"t":"run","seq":1}\n\x00\x00\x00')  # power loss: zeroes at the end
    recovered = journal.recover_tail(path)
    assert recovered is not None and recovered.offset == 20 and recovered.dropped_bytes == 3
    assert path.read_bytes() == b'{"t":"run","seq":1}\n'


def test_a_damaged_line_in_the_middle_is_reported_clearly(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"t":"run","seq":1}\n{"t":"sta\n{"t":"resumed","seq":3}\n')
    with pytest.raises(RunStoreError) as caught:
        read_journal(path)
    message = str(caught.value)
    assert f"{path}:2:" in message and "byte 20" in message and "in the middle" in message
    assert journal.recover_tail(path) is None  # not a torn tail: left for a person to look at


# -- every record written validates --------------------------------------------------------


def test_the_record_written_when_a_run_starts_validates(runner: Runner, tmp_path: Path) -> None:
    path = runner.write(GATED)
    from osop.engine.runner import _entry_nodes
    from osop.format.api import load_workflow

    state = RunState()
    state.apply(
        {
            "t": "run",
            "seq": 1,
            "run_id": "r1",
            "workflow_id": "gated",
            "mode": "live",
            "started_at": "2026-01-01T00:00:00Z",
            "entry": _entry_nodes(load_workflow(path)),
        }
    )
    out = tmp_path / "start.osoplog.json"
    write_record(build_record(state), out, compact=True)
    assert_valid_record(out)
    records = json.loads(out.read_text())["node_records"]
    assert [(r["node_id"], r["node_type"], r["status"]) for r in records] == [
        ("build", "cli", "PENDING")
    ]


def test_the_record_on_disk_after_the_start_validates(runner: Runner) -> None:
    run_id = paused_run(runner)
    handle = runner.store.get(run_id)
    # What was on disk right after the start: the journal's first entry only.
    first = handle.journal_path.read_text().splitlines()[0]
    handle.journal_path.write_text(first + "\n")
    materialise_record(handle)
    assert_valid_record(handle.record_path)


# -- the lock comes first -----------------------------------------------------------------

_HOLD = """
import json, sys, time
from pathlib import Path
from osop.engine.store import RunStore
handle = RunStore(Path(sys.argv[1])).get(sys.argv[2])
handle.acquire()
if len(sys.argv) > 3:  # pretend the owner file names another process
    handle.owner_path.write_text(json.dumps({"pid": int(sys.argv[3]), "started": "1"}))
print("held", flush=True)
time.sleep(60)
"""


def hold(store: RunStore, run_id: str, *fake_owner: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(store.root), run_id, *fake_owner],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_refused_resume_writes_nothing(runner: Runner) -> None:
    run_id = paused_run(runner)
    handle = runner.store.get(run_id)
    before = handle.journal_path.read_bytes()
    owner = hold(runner.store, run_id)
    try:
        with pytest.raises(RunStoreError, match=f"process {owner.pid}"):
            resume(runner, run_id)
        assert handle.journal_path.read_bytes() == before
    finally:
        owner.kill()
        owner.wait()
    assert resume(runner, run_id).status == "COMPLETED"


def test_cancel_signals_only_the_proven_owner(runner: Runner) -> None:
    run_id = paused_run(runner)
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = hold(runner.store, run_id, str(unrelated.pid))
    try:
        with pytest.raises(ExecutionError, match="cannot be proven"):
            cancel_run(runner.store, run_id)
        assert unrelated.poll() is None  # not signalled
        assert owner.poll() is None
    finally:
        owner.kill()
        owner.wait()
    try:
        # The owner died; its file still names a live (unrelated) process.
        handle = runner.store.get(run_id)
        handle.owner_path.write_text(str(unrelated.pid))
        assert cancel_run(runner.store, run_id) == "cancelled"
        assert unrelated.poll() is None
        assert load_run_state(handle).status == "CANCELLED"
    finally:
        unrelated.kill()
        unrelated.wait()


def test_a_resumed_entry_never_follows_the_end_of_a_run(runner: Runner) -> None:
    """The wedge: a run closed by `cancel` while a refused resume still wrote its entry."""
    run_id = paused_run(runner)
    assert cancel_run(runner.store, run_id) == "cancelled"
    handle = runner.store.get(run_id)
    before = handle.journal_path.read_bytes()
    with pytest.raises(ExecutionError, match="already ended CANCELLED"):
        resume(runner, run_id)
    assert handle.journal_path.read_bytes() == before
    assert json.loads(handle.record_path.read_text())["status"] == "CANCELLED"


# -- compensations --------------------------------------------------------------------------

SAGA = {
    "id": "saga",
    "nodes": [
        cli("reserve"),
        {**cli("ship"), "x-simulate": {"status": "FAILED", "error": {"code": "E", "message": "x"}}},
        cli("unreserve"),
    ],
    "edges": [
        {"from": "reserve", "to": "ship"},
        {"from": "reserve", "to": "unreserve", "mode": "compensation"},
    ],
}


def test_a_compensation_has_one_record_per_attempt(runner: Runner) -> None:
    result = runner.run(SAGA)
    assert result.status == "FAILED"
    unreserve = [
        (r.attempt, r.status) for r in result.record.node_records if r.node_id == "unreserve"
    ]
    assert unreserve == [(1, "COMPLETED")]
    assert result.handle is not None
    assert_valid_record(result.handle.record_path)


def test_an_unused_compensation_is_still_skipped(runner: Runner) -> None:
    saga = {**SAGA, "nodes": [*SAGA["nodes"][:1], cli("ship"), SAGA["nodes"][2]]}
    result = runner.run(saga)
    assert result.status == "COMPLETED"
    unreserve = [r.status for r in result.record.node_records if r.node_id == "unreserve"]
    assert unreserve == ["SKIPPED"]


def test_owner_file_names_pid_and_start_time(runner: Runner) -> None:
    run_id = paused_run(runner)
    handle = runner.store.get(run_id)
    handle.acquire()
    try:
        data = json.loads(handle.owner_path.read_text())
        assert data["pid"] == os.getpid() and data["started"]
    finally:
        handle.release()
