"""What a crash leaves running, and signals in a row, end to end through the CLI."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import SLOW
from test_cli_end_to_end import only_run, osop, record, wait_for, write

from osop.procinfo import group_members, pid_alive

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups"),
    pytest.mark.slow,
]

TRACED = """
osop_version: "1.1"
id: traced
name: Traced
nodes:
  - {id: a, type: cli, name: A, runtime: {command: "echo a >> trace"}}
  - id: b
    type: cli
    name: B
    runtime:
      command: >-
        if [ -f resumed ]; then echo b >> trace;
        else echo $$ > sleeper.pid; sleep 60; echo b >> trace; fi
  - {id: c, type: cli, name: C, runtime: {command: "echo c >> trace"}}
edges:
  - {from: a, to: b}
  - {from: b, to: c}
"""


def start(tmp_path: Path, wf: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "osop", "run", str(wf), "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "OSOP_HOME": str(tmp_path / "store")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def crashed_in_b(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """The engine killed -9 while step b sleeps; b's process group lives on.

    Yields (b's process group, the run folder); kills the group afterwards.
    """
    wf = write(tmp_path, "traced.osop.yaml", TRACED)
    proc = start(tmp_path, wf)
    sleeper = tmp_path / "sleeper.pid"
    try:
        wait_for(lambda: sleeper.exists() and sleeper.read_text().strip(), "step b to start")
        proc.send_signal(signal.SIGKILL)  # the engine only
        proc.communicate(timeout=30)
        stale = int(sleeper.read_text())
        assert pid_alive(stale)
        yield stale, only_run(tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
        if sleeper.exists() and sleeper.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(sleeper.read_text()), signal.SIGKILL)


def test_kill_9_then_resume_stops_the_stale_step_before_running_it_again(
    tmp_path: Path, crashed_in_b: tuple[int, Path]
) -> None:
    stale, run_dir = crashed_in_b
    (tmp_path / "resumed").write_text("yes")
    resumed = osop(tmp_path, "resume", run_dir.name)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # Stopped before b ran again (its whole group: the shell and its sleep).
    assert group_members(stale) == []
    assert (tmp_path / "trace").read_text().split() == ["a", "b", "c"]
    b_records = [r for r in record(run_dir)["node_records"] if r["node_id"] == "b"]
    assert [(r["attempt"], r["status"]) for r in b_records] == [(1, "CANCELLED"), (2, "COMPLETED")]
    error = b_records[0]["error"]
    assert error["code"] == "INTERRUPTED"
    assert f"process group {stale} was still running: stopped" in error["message"]
    assert error["details"]["processes"][0]["outcome"] == "terminated"
    validated = osop(tmp_path, "validate", str(run_dir / "record.osoplog.json"))
    assert validated.returncode == 0, validated.stdout


def test_cancel_of_a_crashed_run_stops_what_its_step_left_running(
    tmp_path: Path, crashed_in_b: tuple[int, Path]
) -> None:
    stale, run_dir = crashed_in_b
    cancelled = osop(tmp_path, "cancel", run_dir.name)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert group_members(stale) == []
    final = record(run_dir)
    assert final["status"] == "CANCELLED"
    b_record = next(r for r in final["node_records"] if r["node_id"] == "b")
    assert b_record["error"]["details"]["processes"][0]["outcome"] == "terminated"
    assert (tmp_path / "trace").read_text().split() == ["a"]


def test_ten_sigterms_in_a_row_still_exit_1_with_a_cancelled_record(tmp_path: Path) -> None:
    wf = write(tmp_path, "slow.osop.yaml", SLOW)
    proc = start(tmp_path, wf)
    try:
        wait_for(lambda: (tmp_path / "started.txt").exists(), "the node to start")
        for _ in range(10):  # a supervisor insisting while the run closes
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.03)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, f"exit {proc.returncode}: {out}{err}"
    assert "Traceback" not in err
    assert record(only_run(tmp_path))["status"] == "CANCELLED"
