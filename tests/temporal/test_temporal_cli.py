"""The `--temporal` commands end to end: real worker processes, a real dev server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli
from osop.temporal.connection import TemporalTarget

OSOP = [sys.executable, "-m", "osop"]

GATE = """\
osop_version: "1.1"
id: gated-deploy
name: gated deploy
nodes:
  - {id: build, type: cli, name: Build, runtime: {command: "echo built >> trail.txt"}}
  - id: deploy
    type: cli
    name: Deploy
    approval_gate: {required: true}
    runtime: {command: "echo deployed >> trail.txt"}
edges:
  - {from: build, to: deploy}
"""

SIGNAL = """\
osop_version: "1.1"
id: go-ahead
name: go ahead
nodes:
  - {id: prepare, type: cli, name: Prepare, runtime: {command: "true"}}
  - {id: go, type: cli, name: Go, runtime: {command: "true"}}
edges:
  - {from: prepare, to: go, mode: signal, label: go-ahead}
"""


def _flags(target: TemporalTarget) -> list[str]:
    return ["--temporal", target.address, "--task-queue", target.task_queue]


def _osop(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OSOP, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


class WorkerProcess:
    """`osop worker` in its own process; waits for its health line."""

    def __init__(self, target: TemporalTarget, cwd: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [*OSOP, "worker", *_flags(target), "--grace", "5", *extra],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.health = self.process.stderr.readline()
        assert "osop worker ready" in self.health, self.health + self._rest()

    def _rest(self) -> str:
        self.process.kill()
        _, err = self.process.communicate(timeout=30)
        return err

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=60)
        return self.process.returncode, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)


@pytest.fixture
def worker_factory(target: TemporalTarget, tmp_path: Path) -> Iterator[type[WorkerProcess]]:
    started: list[WorkerProcess] = []

    class Started(WorkerProcess):
        def __init__(self, *extra: str) -> None:
            super().__init__(target, tmp_path, *extra)
            started.append(self)

    yield Started  # type: ignore[misc]
    for worker in started:
        worker.kill()


def test_worker_needs_an_address() -> None:
    result = CliRunner().invoke(cli, ["worker"], env={"OSOP_TEMPORAL_ADDRESS": ""})
    assert result.exit_code == 2
    assert "--temporal HOST:PORT" in result.output


def test_a_temporal_option_without_an_address_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["runs", "--namespace", "prod"], env={"OSOP_TEMPORAL_ADDRESS": ""}
    )
    assert result.exit_code == 2
    assert "--namespace needs --temporal" in result.output


def test_without_the_sdk_the_commands_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "temporalio.client", None)
    result = CliRunner().invoke(cli, ["worker", "--temporal", "127.0.0.1:7233"])
    assert result.exit_code == 1
    assert "pip install 'osop-toolkit[temporal]'" in result.output
    assert "Traceback" not in result.output


def test_secrets_are_not_sent_from_where_a_run_on_temporal_starts(tmp_path: Path) -> None:
    (tmp_path / "gate.osop.yaml").write_text(GATE)
    (tmp_path / "s.env").write_text("TOKEN=hunter2\n")
    from hub_servers import free_port

    done = _osop(
        "run", "gate.osop.yaml", "--secrets-file", "s.env",
        "--temporal", f"127.0.0.1:{free_port()}", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "takes its secrets from the workers" in done.stderr
    assert "osop worker --temporal ... --secrets-file FILE" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_an_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    from hub_servers import free_port

    # Several times: the SDK's native threads used to abort the process now and
    # then while Python shut down (SIGABRT instead of exit 1).
    for _ in range(4):
        done = _osop("runs", "--temporal", f"127.0.0.1:{free_port()}", cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert "cannot reach Temporal" in done.stderr
        assert "Traceback" not in done.stderr and "Fatal Python error" not in done.stderr


@pytest.mark.slow
def test_an_approval_reaches_a_run_after_its_worker_restarted(
    target: TemporalTarget, tmp_path: Path, worker_factory: type[WorkerProcess]
) -> None:
    (tmp_path / "gate.osop.yaml").write_text(GATE)
    first = worker_factory()
    assert f"task-queue={target.task_queue}" in first.health
    started = _osop("run", "gate.osop.yaml", *_flags(target), "--quiet", "--json", cwd=tmp_path)
    assert started.returncode == 3, started.stderr
    summary = json.loads(started.stdout.strip().splitlines()[-1])
    run_id = summary["run_id"]
    assert summary["status"] == "PAUSED"
    assert [w["node"] for w in summary["waiting"]] == ["deploy"]

    code, err = first.stop()  # graceful: exit 0
    assert code == 0, err
    assert "stopped" in err

    worker_factory()  # a new worker process: the run's state comes from its history
    status = _osop("status", run_id[:8], *_flags(target), cwd=tmp_path)  # a prefix will do
    assert status.returncode == 0, status.stderr
    assert "PAUSED" in status.stdout and "waiting: deploy" in status.stdout

    refused = _osop("approve", run_id, "build", *_flags(target), cwd=tmp_path)
    assert refused.returncode == 1
    assert "not waiting for an answer" in refused.stderr

    approved = _osop("approve", run_id, "deploy", *_flags(target), "--actor", "ops", cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    finished = _osop("resume", run_id, *_flags(target), "--log", "run.osoplog.json", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr + finished.stdout
    assert "COMPLETED" in finished.stdout
    assert (tmp_path / "trail.txt").read_text().splitlines() == ["built", "deployed"]

    record = json.loads((tmp_path / "run.osoplog.json").read_text())
    assert record["run_id"] == run_id
    deploy = [r for r in record["node_records"] if r["node_id"] == "deploy"]
    assert len(deploy) == 1 and deploy[0]["status"] == "COMPLETED"
    assert deploy[0]["human_metadata"]["actor"] == "ops"

    listed = _osop("runs", *_flags(target), "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {row["run_id"]: row for row in json.loads(listed.stdout)}
    assert rows[run_id]["workflow_id"] == "gated-deploy"

    report = _osop("report", run_id, *_flags(target), "--format", "text", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "[PASS]" in report.stdout and "deploy" in report.stdout


@pytest.mark.slow
def test_signal_and_cancel_on_temporal(
    target: TemporalTarget, tmp_path: Path, worker_factory: type[WorkerProcess]
) -> None:
    (tmp_path / "signal.osop.yaml").write_text(SIGNAL)
    (tmp_path / "gate.osop.yaml").write_text(GATE)
    worker_factory()
    waiting = _osop("run", "signal.osop.yaml", *_flags(target), "--json", "-q", cwd=tmp_path)
    assert waiting.returncode == 3, waiting.stderr
    run_id = json.loads(waiting.stdout.strip().splitlines()[-1])["run_id"]
    sent = _osop("signal", run_id, "go-ahead", *_flags(target), "--resume", cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr + sent.stdout
    assert "COMPLETED" in sent.stdout

    paused = _osop("run", "gate.osop.yaml", *_flags(target), "--json", "-q", cwd=tmp_path)
    assert paused.returncode == 3
    gated = json.loads(paused.stdout.strip().splitlines()[-1])["run_id"]
    cancelled = _osop("cancel", gated, *_flags(target), cwd=tmp_path)
    assert cancelled.returncode == 0, cancelled.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = _osop("status", gated, *_flags(target), "--json", cwd=tmp_path)
        if json.loads(shown.stdout)["status"] == "CANCELLED":
            break
        time.sleep(0.5)
    record = json.loads(shown.stdout)
    assert record["status"] == "CANCELLED"
    statuses = {r["node_id"]: r["status"] for r in record["node_records"]}
    assert statuses["build"] == "COMPLETED"
    assert os.path.exists(tmp_path / "trail.txt")
    assert (tmp_path / "trail.txt").read_text().splitlines() == ["built"]


PARENT = """\
osop_version: "1.1"
id: release-train
name: release train
imports: [./publish.osop.yaml]
nodes:
  - {id: publish, type: system, name: Publish, workflow_ref: publish}
  - {id: tell, type: cli, name: Tell, runtime: {command: "echo '{\\"url\\": \\"${outputs.publish.url}\\"}'"}}
edges:
  - {from: publish, to: tell}
"""

CHILD = """\
osop_version: "1.1"
id: publish
name: publish
nodes:
  - id: upload
    type: cli
    name: Upload
    runtime:
      command: "printf %s \\"$TOKEN\\" > token.txt && echo '{\\"url\\": \\"https://x/1\\"}'"
      env: {TOKEN: "${secrets.UPLOAD_TOKEN}"}
edges: []
"""


@pytest.mark.slow
def test_a_sub_workflow_with_a_secret_from_the_workers_secrets_file(
    target: TemporalTarget, tmp_path: Path, worker_factory: type[WorkerProcess]
) -> None:
    (tmp_path / "train.osop.yaml").write_text(PARENT)
    (tmp_path / "publish.osop.yaml").write_text(CHILD)
    (tmp_path / "worker.env").write_text("UPLOAD_TOKEN=tok-5ecret-778\n")
    worker_factory("--secrets-file", "worker.env")
    # Started from another folder: the import is read where the run is started.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "train.osop.yaml").write_text(PARENT)
    (elsewhere / "publish.osop.yaml").write_text(CHILD)
    done = _osop("run", "train.osop.yaml", *_flags(target), "--json", "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "COMPLETED"
    assert (tmp_path / "token.txt").read_text() == "tok-5ecret-778"  # the worker's folder
    shown = _osop("status", summary["run_id"], *_flags(target), "--json", cwd=elsewhere)
    record = json.loads(shown.stdout)
    outputs = {r["node_id"]: r.get("outputs") for r in record["node_records"]}
    assert (outputs["tell"] or {}).get("url") == "https://x/1"
    child = record["x-child-runs"]["publish"]
    child_shown = _osop("status", child, *_flags(target), "--json", cwd=elsewhere)
    assert json.loads(child_shown.stdout)["x-parent-run"]["node_id"] == "publish"
    for text in (done.stdout, done.stderr, shown.stdout, child_shown.stdout):
        assert "tok-5ecret-778" not in text
