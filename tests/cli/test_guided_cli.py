"""A guided run through the CLI only: a shell script is the agent (`osop step`, `osop log`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from corpus_dir import CORPUS

HERE = Path(__file__).parent
AGENT = HERE / "data" / "guided_agent.sh"
#: A corpus workflow with a parallel fan-out, a join, conditionals and a human step.
PR_REVIEW = CORPUS / "osop-editor__public__examples__pr_review_pipeline.osop"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the agent is a bash script")


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OSOP_HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def osop(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "osop", *args],
        capture_output=True,
        text=True,
        env=_env(home),
        cwd=home.parent,
        check=False,
    )


def _view(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


@pytest.mark.slow
def test_a_shell_script_drives_a_corpus_workflow_to_completed(tmp_path: Path) -> None:
    if not PR_REVIEW.is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    home = tmp_path / "home"
    proc = subprocess.run(
        ["bash", str(AGENT), str(PR_REVIEW)],
        capture_output=True,
        text=True,
        env=_env(home),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    final = json.loads(proc.stdout.strip().splitlines()[-1])
    assert final["status"] == "COMPLETED"
    record_path = final["record"]
    record = json.loads(Path(record_path).read_text())
    statuses = {r["node_id"]: r["status"] for r in record["node_records"]}
    assert statuses == {
        "pr_opened": "COMPLETED",
        "run_ci": "COMPLETED",
        "ai_code_review": "COMPLETED",
        "post_review_comments": "COMPLETED",
        "human_review": "COMPLETED",
        "auto_merge": "COMPLETED",  # the branch the agent chose: decision == 'approve'
        "notify_author": "COMPLETED",
    }
    assert record["runtime"]["agent"] == "shell-agent"
    assert osop(home, "validate", record_path).returncode == 0
    diff = osop(home, "diff", str(PR_REVIEW), record_path, "--format", "json")
    assert diff.returncode == 0, diff.stderr
    assert '"fitness": 1.0' in diff.stdout.replace(" ", "").replace(":", ": ")
    stats = osop(home, "stats", record_path, "--format", "json")
    assert stats.returncode == 0, stats.stderr
    assert '"total_runs": 1' in stats.stdout


@pytest.mark.slow
def test_step_and_log_refuse_bad_input_with_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    wf = tmp_path / "wf.osop.yaml"
    wf.write_text(
        "osop_version: '1.1'\nid: two-steps\nname: Two steps\nnodes:\n"
        "  - {id: a, type: cli, name: A, runtime: {command: 'echo a'},"
        " outputs: [{name: n, schema: {type: integer}}]}\n"
        "  - {id: b, type: cli, name: B, runtime: {command: 'echo b'}}\n"
        "edges:\n  - {from: a, to: b}\n"
    )
    started = osop(home, "run", str(wf), "--guided", "--json")
    assert started.returncode == 3, started.stderr
    run = _view(started)["run_id"]
    text = osop(home, "step", run[:8])
    assert text.returncode == 3
    assert "step a [cli] 'A' (attempt 1/1)" in text.stdout
    assert f"osop log {run[:8]} a --status COMPLETED --output n=..." in text.stdout
    journal = home / "runs" / run / "journal.jsonl"
    before = journal.read_bytes()
    for args, message in [
        (("log", run, "b", "--status", "COMPLETED"), "is not ready (ready steps: a)"),
        (("log", run, "zz", "--status", "COMPLETED"), "has no node 'zz'"),
        (("log", run, "a", "--status", "SUCCESS"), "status 'SUCCESS' does not exist"),
        (("log", run, "a", "--status", "COMPLETED"), "declared output(s) missing: n"),
        (("log", run, "a", "--status", "COMPLETED", "--output", "n=x"), "is not of type"),
        (("log", run, "a", "--status", "FAILED", "--tokens", "12"), "--tokens expects IN/OUT"),
        (("log", "ffffffff", "a", "--status", "COMPLETED"), "no run 'ffffffff'"),
        (("step", run, "a"), "give --execute"),
    ]:
        proc = osop(home, *args)
        assert proc.returncode in (1, 2), (args, proc.stdout)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert journal.read_bytes() == before
    done = osop(home, "log", run, "a", "--status", "COMPLETED", "--output", "n=3", "--json")
    assert done.returncode == 3 and [s["node_id"] for s in _view(done)["ready"]] == ["b"]
    executed = osop(home, "step", run, "b", "--execute", "--json")
    assert executed.returncode == 0, executed.stderr
    assert _view(executed)["status"] == "COMPLETED"
