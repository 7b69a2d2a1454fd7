"""One node attempt as the Temporal activity runs it (no cluster needed: the activity's body)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from osop.temporal.attempts import AttemptHost, attempt_request, node_workflow, run_attempt

WORKFLOW: dict[str, Any] = {
    "osop_version": "1.1",
    "id": "attempts",
    "name": "attempts",
    "variables": {"greeting": "hi"},
    "nodes": [
        {"id": "say", "type": "cli", "runtime": {"command": "printf '%s' ${inputs.word}"}},
        {"id": "slow", "type": "cli", "runtime": {"command": "sleep 30"}, "timeout_sec": 0.3},
        {"id": "fail", "type": "cli", "runtime": {"command": "exit 3"}},
        {"id": "wipe", "type": "cli", "runtime": {"command": "rm -rf ./build"}},
        {"id": "ask", "type": "human", "name": "Ask"},
        {
            "id": "pick",
            "type": "data",
            "runtime": {"mapping": {"shout": "outputs.say.stdout + '!'"}},
        },
    ],
    "edges": [{"from": "say", "to": "slow"}],
}


def _request(node: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run_id": "00000000-0000-4000-8000-000000000001",
        "workflow": node_workflow(WORKFLOW, node),
        "node_id": node,
        "attempt": 1,
        "iteration": None,
        "mode": "live",
        "runtime": {},
        "inputs": {},
        "answer": None,
        "delivered": None,
        "timeout_sec": None,
        "approval": "ok",
        "rehearsal_approves": False,
        "references": {},
        "scope": {},
    }
    base.update(overrides)
    return attempt_request(**base)


def _run(tmp_path: Path, request: dict[str, Any]) -> dict[str, Any]:
    host = AttemptHost(workdir=tmp_path, env={"PATH": "/usr/bin:/bin"})
    return asyncio.run(run_attempt(host, request))


def test_node_workflow_carries_only_its_node() -> None:
    reduced = node_workflow(WORKFLOW, "slow")
    assert [n["id"] for n in reduced["nodes"]] == ["slow"]
    assert reduced["edges"] == [] and reduced["variables"] == {"greeting": "hi"}


def test_a_value_is_quoted_for_the_shell_from_the_resolved_references(tmp_path: Path) -> None:
    hostile = "a; touch pwned"
    report = _run(
        tmp_path,
        _request(
            "say",
            runtime={"command": f"printf '%s' {hostile}"},
            references={"inputs.word": hostile},
        ),
    )
    assert report["type"] == "attempt_finished" and report["status"] == "COMPLETED"
    assert report["outputs"]["stdout"] == hostile
    assert not (tmp_path / "pwned").exists()


def test_a_node_timeout_kills_the_process_and_times_the_attempt_out(tmp_path: Path) -> None:
    began = time.monotonic()
    report = _run(tmp_path, _request("slow", runtime={"command": "sleep 30"}, timeout_sec=0.3))
    assert report["status"] == "TIMED_OUT"
    assert report["error"]["code"] == "TIMEOUT"
    assert time.monotonic() - began < 10


def test_a_failure_is_data_with_its_code(tmp_path: Path) -> None:
    report = _run(tmp_path, _request("fail", runtime={"command": "exit 3"}))
    assert report["status"] == "FAILED"
    assert report["error"]["code"] == "EXIT_3"
    assert report["error"]["_retryable"] is True
    assert report["returned"] is False


def test_a_dangerous_command_waits_for_its_approval(tmp_path: Path) -> None:
    request = _request("wipe", runtime={"command": "rm -rf ./build"}, approval="wait")
    report = _run(tmp_path, request)
    assert report["type"] == "wait_requested"
    assert report["kind"] == "approval" and report["node"] == "wipe"


def test_a_refused_approval_rejects_the_attempt(tmp_path: Path) -> None:
    request = _request("wipe", runtime={"command": "rm -rf ./build"}, approval="rejected")
    report = _run(tmp_path, request)
    assert report["status"] == "FAILED" and report["rejected"] is True


def test_an_approved_dangerous_command_runs_and_says_what_it_approved(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    request = _request(
        "wipe", runtime={"command": "rm -rf ./build"}, answer={"decision": "approved"}
    )
    report = _run(tmp_path, request)
    assert report["status"] == "COMPLETED", report
    assert report["approved_subject"]
    assert not (tmp_path / "build").exists()


def test_a_human_node_without_an_answer_asks_to_wait(tmp_path: Path) -> None:
    report = _run(tmp_path, _request("ask"))
    assert report["type"] == "wait_requested" and report["kind"] == "human"
    answered = _run(tmp_path, _request("ask", answer={"decision": "approved", "actor": "ann"}))
    assert answered["status"] == "COMPLETED", answered


def test_a_data_node_sees_the_outputs_handed_to_it(tmp_path: Path) -> None:
    node = WORKFLOW["nodes"][5]
    report = _run(
        tmp_path,
        _request("pick", runtime=node["runtime"], scope={"outputs": {"say": {"stdout": "hey"}}}),
    )
    assert report["status"] == "COMPLETED", report
    assert report["outputs"]["shout"] == "hey!"
