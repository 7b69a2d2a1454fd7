"""Run commands on awkward input: damaged stores, misdirected answers, missing inputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from engine_helpers import SLOW, Runner, cli

from osop.cli.main import cli as osop_cli
from osop.cli.run_support import LiveView
from osop.engine import deliver_answer, deliver_event
from osop.errors import ExecutionError
from osop.format.validate import validate_path

GATED = {
    "id": "gated",
    "nodes": [
        cli("build"),
        {**cli("deploy"), "approval_gate": {"required": True}},
        cli("notify"),
    ],
    "edges": [{"from": "build", "to": "deploy"}, {"from": "deploy", "to": "notify"}],
}


def test_runs_lists_the_others_when_one_run_folder_is_damaged(
    runner: Runner, tmp_path: Path
) -> None:
    result = runner.run({"id": "fine", "nodes": [cli("a")], "edges": []})
    for name, text in (("broken", "{"), ("listy", "[]")):
        folder = tmp_path / ".osop" / "runs" / name
        folder.mkdir()
        (folder / "meta.json").write_text(text)
    store = str(tmp_path / ".osop")
    listed = CliRunner().invoke(osop_cli, ["runs", "--store", store])
    assert listed.exit_code == 0, listed.output
    assert result.run_id[:8] in listed.output
    assert "broken    UNREADABLE" not in listed.output  # ids are shown as they are
    assert listed.output.count("UNREADABLE") == 2
    as_json = CliRunner().invoke(osop_cli, ["runs", "--store", store, "--json"])
    rows = {row["run_id"]: row for row in json.loads(as_json.output)}
    assert rows[result.run_id]["status"] == "COMPLETED"
    assert "meta.json" in rows["broken"]["error"]


def test_a_record_file_that_is_not_an_object_does_not_break_runs(
    runner: Runner, tmp_path: Path
) -> None:
    result = runner.run({"id": "fine", "nodes": [cli("a")], "edges": []})
    (tmp_path / ".osop" / "runs" / result.run_id / "record.osoplog.json").write_text("[1]")
    listed = CliRunner().invoke(osop_cli, ["runs", "--store", str(tmp_path / ".osop")])
    assert listed.exit_code == 0, listed.output
    assert "UNKNOWN" in listed.output


def test_cancelling_a_paused_run_leaves_a_valid_record(runner: Runner, tmp_path: Path) -> None:
    result = runner.run(GATED, mode="live")
    assert result.paused
    store = str(tmp_path / ".osop")
    cancelled = CliRunner().invoke(osop_cli, ["cancel", result.run_id, "--store", store])
    assert cancelled.exit_code == 0, cancelled.output
    path = tmp_path / ".osop" / "runs" / result.run_id / "record.osoplog.json"
    record = json.loads(path.read_text())
    notify = [r for r in record["node_records"] if r["node_id"] == "notify"]
    assert [(r["status"], r["node_type"]) for r in notify] == [("SKIPPED", "cli")]
    report = validate_path(path)
    assert not [i for i in report.issues if i.severity == "error"], report.issues


def test_an_answer_for_a_node_that_already_ended_is_refused(runner: Runner) -> None:
    result = runner.run(GATED, mode="live")
    with pytest.raises(ExecutionError, match=r"'build' .* not waiting for an answer: it ended"):
        deliver_answer(runner.store, result.run_id, "build", {"decision": "approved"})
    deliver_answer(runner.store, result.run_id, "deploy", {"decision": "approved"})


def test_an_answer_for_a_node_waiting_on_a_signal_points_to_osop_signal(
    runner: Runner, tmp_path: Path
) -> None:
    result = runner.run(
        {
            "id": "sig",
            "nodes": [cli("a"), cli("b")],
            "edges": [{"from": "a", "to": "b", "mode": "signal", "signal": "go"}],
        },
        mode="live",
    )
    assert result.paused
    answered = CliRunner().invoke(
        osop_cli, ["approve", result.run_id, "b", "--store", str(tmp_path / ".osop")]
    )
    assert answered.exit_code == 1
    assert "'go', not an answer" in answered.output and "osop signal" in answered.output


def test_a_missing_required_input_is_a_usage_error(tmp_path: Path) -> None:
    wf = tmp_path / "w.osop.yaml"
    wf.write_text(
        yaml.safe_dump(
            {
                "osop_version": "1.1",
                "id": "w",
                "name": "W",
                "inputs": [{"name": "who", "required": True}],
                "nodes": [cli("a")],
                "edges": [],
            }
        )
    )
    store = tmp_path / "store"
    out = CliRunner().invoke(osop_cli, ["run", str(wf), "--store", str(store)])
    assert out.exit_code == 2, out.output
    assert "input 'who' is missing (required)" in out.output
    assert not (store / "runs").exists()  # nothing was started


def test_paused_summary_says_paused_and_counts_attempts_right(runner: Runner) -> None:
    result = runner.run(GATED, mode="live")
    assert result.paused
    summary = result.record.result_summary or ""
    assert summary.startswith("PAUSED: ")
    assert "(1 attempt)" in summary or "(2 attempts)" in summary


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_osop_cancel_stops_a_run_started_in_the_background(tmp_path: Path) -> None:
    """A shell starts `osop run … &` with SIGINT ignored; `osop cancel` must still work."""
    from test_cli_end_to_end import osop, wait_for

    (tmp_path / "slow.osop.yaml").write_text(SLOW)
    env = {**os.environ, "OSOP_HOME": str(tmp_path / "store")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "osop", "run", "slow.osop.yaml", "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        wait_for(lambda: (tmp_path / "started.txt").exists(), "the node to start")
        run_id = next((tmp_path / "store" / "runs").iterdir()).name
        cancelled = osop(tmp_path, "cancel", run_id)
        assert cancelled.returncode == 0, cancelled.stderr
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    assert "CANCELLED" in out


def test_a_workflow_without_an_id_records_the_id_derived_from_its_name(tmp_path: Path) -> None:
    """Early-editor files (`osop: "1.0.0"`, no id) validate; their records must too."""
    wf = tmp_path / "old.osop.yaml"
    wf.write_text(
        'osop: "1.0.0"\nname: "Retry Loop Workflow"\n'
        "nodes:\n  - {id: a, type: cli, purpose: A, runtime: {command: 'true'}}\nedges: []\n"
    )
    log = tmp_path / "run.osoplog.json"
    out = CliRunner().invoke(
        osop_cli,
        ["run", str(wf), "--store", str(tmp_path / "s"), "--log", str(log), "--quiet"],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(log.read_text())["workflow_id"] == "retry-loop-workflow"
    report = validate_path(log)
    assert not [i for i in report.issues if i.severity == "error"], report.issues


def test_deliveries_never_write_secret_named_fields_to_the_inbox(runner: Runner) -> None:
    result = runner.run(GATED, mode="live")
    deliver_answer(
        runner.store, result.run_id, "deploy", {"decision": "approved", "password": "hunter2xyz"}
    )
    deliver_event(runner.store, result.run_id, "go", {"api_key": "k3yk3yk3y", "n": 1})
    inbox = (runner.store.runs / result.run_id / "inbox.jsonl").read_text()
    assert "hunter2xyz" not in inbox and "k3yk3yk3y" not in inbox
    assert '"decision": "approved"' in inbox and '"n": 1' in inbox


def test_live_view_never_redraws_over_a_question_asked_on_the_terminal() -> None:
    stream = io.StringIO()
    view = LiveView(stream, color=False)
    view({"event": "run_started", "run_id": "r-1"})
    view({"event": "node_started", "node": "review", "attempt": 1, "node_type": "human"})
    stream.write("[review] Review\nresponse: approved\n")  # what the prompt printed
    before = len(stream.getvalue())
    view({"event": "node_finished", "node": "review", "status": "COMPLETED"})
    view({"event": "run_finished", "status": "COMPLETED"})
    after = stream.getvalue()[before:]
    assert not after.startswith("\x1b[")  # no cursor movement up into the question
    assert "response: approved" in stream.getvalue()


ASKS = """
osop_version: "1.1"
id: asks
name: Asks
nodes:
  - {id: gate, type: human, name: Gate}
  - {id: after, type: cli, name: After, runtime: {command: "true"}}
edges:
  - {from: gate, to: after}
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals")
def test_ctrl_c_while_a_person_is_asked_ends_the_process(tmp_path: Path) -> None:
    """The prompt's thread is blocked reading the terminal; the process must not wait for it."""
    import pty
    import select
    import time

    (tmp_path / "asks.osop.yaml").write_text(ASKS)
    env = {**os.environ, "OSOP_HOME": str(tmp_path / "store")}
    pid, fd = pty.fork()
    if pid == 0:  # the child: osop on a terminal
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "osop", "run", "asks.osop.yaml"], env)
    seen = b""
    deadline = time.monotonic() + 60  # guards against a hang; not an assertion on speed
    status: int | None = None
    asked = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            with contextlib.suppress(OSError):
                seen += os.read(fd, 4096)
        if not asked and b"response" in seen:
            os.kill(pid, signal.SIGINT)
            asked = True
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw)
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"osop did not exit after Ctrl-C at the prompt: {seen[-500:]!r}")
    os.close(fd)
    assert asked, seen
    assert status == 1, seen
    assert b"CANCELLED" in seen
