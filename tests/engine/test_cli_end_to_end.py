"""The run commands end to end, as separate processes: pause/approve/resume, crash/resume, cancel."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import SLOW

from osop.record.model import record_from_dict

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")


def osop(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osop", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        env={**os.environ, "OSOP_HOME": str(tmp / "store")},
        timeout=120,
    )


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def only_run(tmp: Path) -> Path:
    runs = [p for p in (tmp / "store" / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1
    return runs[0]


def record(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "record.osoplog.json").read_text())
    assert isinstance(data, dict)
    return data


def wait_for(predicate: Any, what: str, limit: float = 60.0) -> None:
    """Poll until ``predicate()`` (the limit only guards against a hang; it is not asserted)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def kill_9_while_sleeping(tmp_path: Path, wf: Path, what: str) -> None:
    """Run ``wf``, kill -9 the engine once a node wrote ``sleeper.pid``, then reap the
    orphaned sleeper too (as a crashed machine would have)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "osop", "run", str(wf), "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "OSOP_HOME": str(tmp_path / "store")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sleeper = tmp_path / "sleeper.pid"
    try:
        wait_for(lambda: sleeper.exists() and sleeper.read_text().strip(), what)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if sleeper.exists() and sleeper.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(sleeper.read_text()), signal.SIGKILL)


COUNTER = "n=$(cat {file} 2>/dev/null || echo 0); echo $((n+1)) > {file}"

GATED = f"""
osop_version: "1.1"
id: gated
name: Gated deploy
nodes:
  - {{id: build, type: cli, name: Build, runtime: {{command: "{COUNTER.format(file="builds")}"}}}}
  - id: deploy
    type: cli
    name: Deploy
    approval_gate: {{required: true}}
    runtime: {{command: "echo deployed > deployed.txt"}}
edges:
  - {{from: build, to: deploy}}
"""


def test_pause_approve_resume(tmp_path: Path) -> None:
    wf = write(tmp_path, "gated.osop.yaml", GATED)
    first = osop(tmp_path, "run", str(wf))
    assert first.returncode == 3, first.stderr
    assert "waiting: deploy" in first.stdout
    run_dir = only_run(tmp_path)
    assert record(run_dir)["status"] == "PAUSED"
    listed = osop(tmp_path, "runs", "--json")
    assert json.loads(listed.stdout)[0]["status"] == "PAUSED"
    approved = osop(tmp_path, "approve", run_dir.name[:8], "deploy", "--notes", "ship it")
    assert approved.returncode == 0, approved.stderr
    assert not (tmp_path / "deployed.txt").exists()  # approve records; resume acts
    resumed = osop(tmp_path, "resume", run_dir.name[:8])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (tmp_path / "deployed.txt").exists()
    assert (tmp_path / "builds").read_text().strip() == "1"  # build was not re-run
    final = record(run_dir)
    assert final["status"] == "COMPLETED"
    deploy = [r for r in final["node_records"] if r["node_id"] == "deploy"]
    assert [r["status"] for r in deploy] == ["COMPLETED"]
    again = osop(tmp_path, "resume", run_dir.name)
    assert again.returncode == 1 and "already ended COMPLETED" in again.stderr


def test_rejected_approval_fails_the_run(tmp_path: Path) -> None:
    wf = write(tmp_path, "gated.osop.yaml", GATED)
    assert osop(tmp_path, "run", str(wf)).returncode == 3
    run_id = only_run(tmp_path).name
    osop(tmp_path, "approve", run_id, "deploy", "--decision", "rejected")
    resumed = osop(tmp_path, "resume", run_id)
    assert resumed.returncode == 1
    assert not (tmp_path / "deployed.txt").exists()
    deploy = [r for r in record(only_run(tmp_path))["node_records"] if r["node_id"] == "deploy"]
    assert deploy[-1]["error"]["code"] == "REJECTED"


CRASHY = f"""
osop_version: "1.1"
id: crashy
name: Crash in the middle
nodes:
  - {{id: count, type: cli, name: Count, runtime: {{command: "{COUNTER.format(file="counter")}"}}}}
  - id: long
    type: cli
    name: Long
    runtime:
      command: "if [ -f resumed ]; then echo ok; else echo $$ > sleeper.pid; exec sleep 30; fi"
  - {{id: last, type: cli, name: Last, runtime: {{command: "true"}}}}
edges:
  - {{from: count, to: long}}
  - {{from: long, to: last}}
"""


@pytest.mark.slow
def test_kill_9_then_resume_runs_nothing_twice(tmp_path: Path) -> None:
    wf = write(tmp_path, "crashy.osop.yaml", CRASHY)
    kill_9_while_sleeping(tmp_path, wf, "the long node")
    run_dir = only_run(tmp_path)
    status = osop(tmp_path, "status", run_dir.name)
    assert "INTERRUPTED" in status.stdout
    (tmp_path / "resumed").write_text("yes")
    resumed = osop(tmp_path, "resume", run_dir.name)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (tmp_path / "counter").read_text().strip() == "1"
    final = record(run_dir)
    assert final["status"] == "COMPLETED"
    long_records = [
        (r["attempt"], r["status"]) for r in final["node_records"] if r["node_id"] == "long"
    ]
    assert long_records == [(1, "CANCELLED"), (2, "COMPLETED")]
    interrupted = next(r for r in final["node_records"] if r["node_id"] == "long")
    assert interrupted["error"]["code"] == "INTERRUPTED"
    assert [r["status"] for r in final["node_records"] if r["node_id"] == "count"] == ["COMPLETED"]
    validated = osop(tmp_path, "validate", str(run_dir / "record.osoplog.json"))
    assert validated.returncode == 0, validated.stdout


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_leaves_a_cancelled_record(tmp_path: Path, sig: signal.Signals) -> None:
    wf = write(tmp_path, "slow.osop.yaml", SLOW)
    proc = subprocess.Popen(
        [sys.executable, "-m", "osop", "run", str(wf), "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "OSOP_HOME": str(tmp_path / "store")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: (tmp_path / "started.txt").exists(), "the node to start")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err
    final = record(only_run(tmp_path))
    assert final["status"] == "CANCELLED"
    statuses = {r["node_id"]: r["status"] for r in final["node_records"]}
    assert statuses == {"wait": "CANCELLED", "after": "SKIPPED"}
    assert record_from_dict(final).ended_at is not None


def test_cancel_a_paused_run(tmp_path: Path) -> None:
    wf = write(tmp_path, "gated.osop.yaml", GATED)
    assert osop(tmp_path, "run", str(wf)).returncode == 3
    run_id = only_run(tmp_path).name
    cancelled = osop(tmp_path, "cancel", run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    final = record(only_run(tmp_path))
    assert final["status"] == "CANCELLED"
    assert {r["node_id"]: r["status"] for r in final["node_records"]}["deploy"] == "CANCELLED"


def test_signal_then_resume(tmp_path: Path) -> None:
    wf = write(
        tmp_path,
        "sig.osop.yaml",
        """
osop_version: "1.1"
id: sig
name: Signal
nodes:
  - {id: a, type: cli, name: A, runtime: {command: "true"}}
  - {id: b, type: cli, name: B, runtime: {command: "echo '{\\"ok\\": true}'"}}
edges:
  - {from: a, to: b, mode: signal, signal: go}
""",
    )
    assert osop(tmp_path, "run", str(wf)).returncode == 3
    run_id = only_run(tmp_path).name
    sent = osop(tmp_path, "signal", run_id, "go", "--data", '{"by": "ops"}', "--resume")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert record(only_run(tmp_path))["status"] == "COMPLETED"


def test_invalid_workflow_never_starts(tmp_path: Path) -> None:
    wf = write(tmp_path, "bad.osop.yaml", "osop_version: '1.1'\nid: Bad Id\nnodes: []\n")
    result = osop(tmp_path, "run", str(wf))
    assert result.returncode == 2
    assert not (tmp_path / "store").exists()


def test_inputs_answers_and_log(tmp_path: Path) -> None:
    wf = write(
        tmp_path,
        "io.osop.yaml",
        """
osop_version: "1.1"
id: io
name: Inputs and answers
inputs: {count: {type: integer}}
nodes:
  - id: show
    type: cli
    name: Show
    runtime: {command: "echo '{\\"double\\": ${inputs.count}${inputs.count}}'"}
  - {id: review, type: human, name: Review}
edges:
  - {from: show, to: review}
""",
    )
    answers = write(tmp_path, "answers.yaml", "review: {decision: approved, notes: fine}\n")
    result = osop(
        tmp_path,
        "run",
        str(wf),
        "--input",
        "count=4",
        "--answers",
        str(answers),
        "--log",
        "out.osoplog.yaml",
        "--json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["event"] == "result" and lines[-1]["status"] == "COMPLETED"
    assert any(e["event"] == "node_finished" and e["node"] == "review" for e in lines)
    import yaml

    logged = yaml.safe_load((tmp_path / "out.osoplog.yaml").read_text())
    show = next(r for r in logged["node_records"] if r["node_id"] == "show")
    assert show["outputs"]["double"] == 44
    assert logged["workflow_hash"].startswith("sha256:")
    assert osop(tmp_path, "validate", "out.osoplog.yaml").returncode == 0


LIVE_ANSWER = """
osop_version: "1.1"
id: live-answer
name: Answer while other branches run
nodes:
  - {id: start, type: cli, name: Start, runtime: {command: "true"}}
  - {id: review, type: human, name: Review}
  - id: build
    type: cli
    name: Build
    runtime: {command: "i=0; while [ ! -f go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"}
  - {id: ship, type: cli, name: Ship, runtime: {command: "true"}}
edges:
  - {from: start, to: review, mode: parallel}
  - {from: start, to: build, mode: parallel}
  - {from: review, to: ship}
  - {from: build, to: ship}
"""


def journal_has(run_dir: Path, kind: str, node: str | None = None) -> bool:
    path = run_dir / "journal.jsonl"
    if not path.exists():
        return False
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("t") == kind and (node is None or entry.get("node") == node):
            return True
    return False


@pytest.mark.slow
def test_an_answer_given_while_the_run_is_live_is_picked_up(tmp_path: Path) -> None:
    wf = write(tmp_path, "live.osop.yaml", LIVE_ANSWER)
    proc = subprocess.Popen(
        [sys.executable, "-m", "osop", "run", str(wf), "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "OSOP_HOME": str(tmp_path / "store")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: (tmp_path / "store" / "runs").is_dir(), "the run folder")
        run_dir = only_run(tmp_path)
        wait_for(lambda: journal_has(run_dir, "wait", "review"), "the human wait")
        approved = osop(tmp_path, "approve", run_dir.name, "review")
        assert approved.returncode == 0, approved.stderr
        wait_for(lambda: journal_has(run_dir, "answer", "review"), "the answer to be read")
        (tmp_path / "go").write_text("")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    statuses = {r["node_id"]: r["status"] for r in record(run_dir)["node_records"]}
    assert statuses == {
        "start": "COMPLETED",
        "review": "COMPLETED",
        "build": "COMPLETED",
        "ship": "COMPLETED",
    }


CHILD_WITH_LONG_STEP = """
osop_version: "1.1"
id: child
name: Child
nodes:
  - {id: step_one, type: cli, name: One, runtime: {command: "echo one >> child.log"}}
  - id: long
    type: cli
    name: Long
    runtime:
      command: "if [ -f resumed ]; then echo ok; else echo $$ > sleeper.pid; exec sleep 30; fi"
edges:
  - {from: step_one, to: long}
"""

PARENT_OF_CHILD = """
osop_version: "1.1"
id: parent
name: Parent
imports: [./child.osop.yaml]
nodes:
  - {id: before, type: cli, name: Before, runtime: {command: "echo before >> parent.log"}}
  - {id: sub, type: system, name: Sub, workflow_ref: child}
edges:
  - {from: before, to: sub}
"""


@pytest.mark.slow
def test_kill_9_inside_a_sub_workflow_resumes_the_same_child(tmp_path: Path) -> None:
    write(tmp_path, "child.osop.yaml", CHILD_WITH_LONG_STEP)
    wf = write(tmp_path, "parent.osop.yaml", PARENT_OF_CHILD)
    kill_9_while_sleeping(tmp_path, wf, "the child's long node")
    runs = json.loads(osop(tmp_path, "runs", "--json", "--all").stdout)
    parent = next(r for r in runs if not r.get("parent_run_id"))
    (tmp_path / "resumed").write_text("yes")
    resumed = osop(tmp_path, "resume", parent["run_id"])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (tmp_path / "parent.log").read_text().count("before") == 1
    assert (tmp_path / "child.log").read_text().count("one") == 1  # the child was resumed
    runs = json.loads(osop(tmp_path, "runs", "--json", "--all").stdout)
    assert len(runs) == 2 and all(r["status"] == "COMPLETED" for r in runs)
