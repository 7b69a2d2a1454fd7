"""The journal, the run store, the atomic record writer, and the small run commands."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from engine_helpers import Runner, cli

from osop.cli.main import cli as osop_cli
from osop.cli.run_support import LiveView
from osop.engine import RunStore
from osop.engine.journal import Journal, read_journal
from osop.engine.values import Redactor, truncate_value
from osop.errors import RunStoreError
from osop.record.model import record_from_dict
from osop.record.writer import record_to_text, write_record


def test_journal_group_commit_writes_on_sync(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path, durable=False, batch=3)
    journal.append({"t": "a"})
    journal.append({"t": "b"})
    assert path.read_text() == ""
    journal.append({"t": "c"})  # the batch is full
    assert [e["t"] for e in read_journal(path)] == ["a", "b", "c"]
    journal.append({"t": "d"}, sync=False)
    journal.close()
    assert [e["seq"] for e in read_journal(path)] == [1, 2, 3, 4]


def test_durable_journal_keeps_lazy_entries_in_order(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path, durable=True)
    journal.append({"t": "decide"}, sync=False)
    assert path.read_text() == ""
    journal.append({"t": "start"})
    assert [e["t"] for e in read_journal(path)] == ["decide", "start"]
    journal.close()


def test_corrupt_journal_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"t": "run", "seq": 1}\nnot json\n{"t": "x", "seq": 3}\n')
    with pytest.raises(RunStoreError, match="corrupt journal entry"):
        read_journal(path)


def test_store_prefix_lookup_and_errors(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    for run_id in ("abc-1", "abd-2"):
        store.create(run_id).write_meta({"run_id": run_id})
    assert store.get("abc").run_id == "abc-1"
    with pytest.raises(RunStoreError, match="ambiguous"):
        store.get("ab")
    with pytest.raises(RunStoreError, match="no run"):
        store.get("zzz")
    with pytest.raises(RunStoreError, match="already exists"):
        store.create("abc-1")


_HOLD = """
import sys, time
from pathlib import Path
from osop.engine.store import RunStore
RunStore(Path(sys.argv[1])).get(sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(30)
"""


def test_a_run_owned_by_a_live_process_is_refused(tmp_path: Path) -> None:
    handle = RunStore(tmp_path).create("r1")
    handle.write_meta({"run_id": "r1"})
    other = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path), "r1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        with pytest.raises(RunStoreError, match=f"process {other.pid}"):
            handle.acquire()
        owner = handle.owner()
        assert owner is not None and owner.pid == other.pid and owner.verified
    finally:
        other.kill()
        other.wait()
    handle.acquire()  # the owner died (the kernel dropped its lock): the run can be taken over
    assert handle.owner_pid() == os.getpid()
    handle.release()
    assert not handle.owner_path.exists()


def test_a_reused_pid_in_the_owner_file_neither_blocks_nor_is_signalled(tmp_path: Path) -> None:
    """The owner died; its pid now belongs to an unrelated live process."""
    handle = RunStore(tmp_path).create("r1")
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        handle.owner_path.write_text(str(unrelated.pid))  # what a dead owner left behind
        assert handle.owner() is None  # nobody holds the lock: idle
        handle.acquire()  # not refused
        handle.release()
        # A stale owner file in the new format (pid + start time) with that pid.
        handle.owner_path.write_text(json.dumps({"pid": unrelated.pid, "started": "1"}))
        assert handle.owner() is None
        assert unrelated.poll() is None
    finally:
        unrelated.kill()
        unrelated.wait()


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    record = {
        "osoplog_version": "1.0",
        "run_id": "x",
        "workflow_id": "w",
        "status": "COMPLETED",
        "started_at": "2026-01-01T00:00:00Z",
        "node_records": [],
    }
    write_record(record, tmp_path / "a.osoplog.json")
    write_record(record, tmp_path / "a.osoplog.yaml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.osoplog.json", "a.osoplog.yaml"]
    assert json.loads((tmp_path / "a.osoplog.json").read_text()) == record
    assert yaml.safe_load((tmp_path / "a.osoplog.yaml").read_text()) == record
    assert "\n" not in record_to_text(record, "json", compact=True).rstrip("\n")


def test_large_values_are_truncated_with_their_size() -> None:
    big = "x" * 100_000
    out = truncate_value({"small": 1, "big": big})
    assert out["small"] == 1
    assert out["big"]["truncated"] is True and out["big"]["size_bytes"] == 100_000
    assert truncate_value([1] * 10) == [1] * 10


def test_redactor_masks_values_and_secret_keys() -> None:
    redact = Redactor(["topsecret-1"])
    assert redact({"a": "x topsecret-1 y", "password": "p"}) == {"a": "x *** y", "password": "***"}
    redact.add(["another-secret"])
    assert redact(["another-secret"]) == ["***"]


def test_record_of_a_run_round_trips_through_the_reader(runner: Runner) -> None:
    out = {"x-simulate": {"outputs": {"v": 1}}}
    result = runner.run(
        {
            "id": "rt",
            "nodes": [cli("a", **out), cli("b", **out)],
            "edges": [{"from": "a", "to": "b"}],
        }
    )
    assert result.handle is not None
    data = json.loads(result.handle.record_path.read_text())
    again = record_from_dict(data)
    assert again.to_dict() == data
    assert again.run_id == result.run_id and len(again.run_id) == 36
    assert data["workflow_hash"].startswith("sha256:")
    assert data["mode"] == "simulated"
    assert all("duration_ms" in r for r in data["node_records"])
    outputs = json.loads(result.handle.outputs_path.read_text())
    assert outputs == {"a": {"v": 1}, "b": {"v": 1}}


def test_live_view_draws_running_waiting_and_done() -> None:
    stream = io.StringIO()
    view = LiveView(stream, color=False)
    view({"event": "run_started", "run_id": "r-1"})
    view({"event": "node_started", "node": "build", "attempt": 1})
    view({"event": "node_finished", "node": "build", "status": "COMPLETED"})
    view({"event": "node_started", "node": "deploy", "attempt": 2})
    view({"event": "node_waiting", "node": "gate", "kind": "approval"})
    view({"event": "run_paused", "status": "PAUSED"})
    last = stream.getvalue().split("\x1b[J")[-1]
    assert "build" in last and "completed" in last
    assert "deploy" in last and "running" in last and "attempt 2" in last
    assert "gate" in last and "waiting for approval" in last


def test_runs_and_status_commands(runner: Runner, tmp_path: Path) -> None:
    result = runner.run({"id": "cmds", "nodes": [cli("a")], "edges": []})
    store = str(tmp_path / ".osop")
    invoke = CliRunner().invoke
    listed = invoke(osop_cli, ["runs", "--store", store, "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["status"] == "COMPLETED"
    shown = invoke(osop_cli, ["status", result.run_id[:6], "--store", store])
    assert shown.exit_code == 0 and "COMPLETED" in shown.output
    as_json = invoke(osop_cli, ["status", result.run_id, "--store", store, "--json"])
    assert json.loads(as_json.output)["run_id"] == result.run_id
    missing = invoke(osop_cli, ["status", "nope", "--store", store])
    assert missing.exit_code == 1 and "Error: no run 'nope'" in missing.output
    empty = invoke(osop_cli, ["runs", "--store", str(tmp_path / "empty")])
    assert empty.exit_code == 0 and "no runs" in empty.output


def test_run_command_usage_errors(tmp_path: Path) -> None:
    wf = tmp_path / "w.osop.yaml"
    wf.write_text(
        yaml.safe_dump(
            {"osop_version": "1.1", "id": "w", "name": "W", "nodes": [cli("a")], "edges": []}
        )
    )
    invoke = CliRunner().invoke
    bad = invoke(osop_cli, ["run", str(wf), "--input", "novalue", "--store", str(tmp_path)])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output
    done = invoke(osop_cli, ["run", str(wf), "--mode", "dry_run", "--store", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "1. a [cli]" in done.output


def test_concurrent_commits_share_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from osop.engine import journal as journal_module

    calls: list[int] = []
    real_fsync = journal_module.os.fsync
    monkeypatch.setattr(journal_module.os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    journal = Journal(tmp_path / "j.jsonl", durable=True)

    async def attempt(n: int) -> None:
        journal.mark({"t": "start", "n": n})
        await journal.commit()

    async def main() -> None:
        await asyncio.gather(*(attempt(n) for n in range(50)))

    asyncio.run(main())
    assert len(calls) == 1
    assert len(read_journal(tmp_path / "j.jsonl")) == 50
    journal.close()
