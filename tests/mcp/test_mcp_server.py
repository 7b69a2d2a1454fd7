"""The MCP server: every tool through a real MCP client session (in process)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import Client

from osop.mcp import OsopTools, build_server

EXAMPLE = Path(__file__).resolve().parents[2] / "tests/conformance/validator/seed-switch.osop.yaml"

APPROVAL = """
osop_version: "1.1"
id: "needs-approval"
name: "Needs approval"
nodes:
  - {id: prepare, type: cli, name: Prepare, runtime: {command: "echo ready"}}
  - id: review
    type: human
    name: Review
    outputs: {decision: {type: string}}
  - {id: ship, type: cli, name: Ship, runtime: {command: "echo shipped"}}
edges:
  - {from: prepare, to: review}
  - {from: review, to: ship, mode: conditional, when: "decision == 'approved'"}
"""

GATED = """
osop_version: "1.1"
id: gated
name: Gated
nodes:
  - {id: build, type: cli, name: Build, runtime: {command: "true"}}
  - {id: deploy, type: cli, name: Deploy, approval_gate: {required: true}, runtime: {command: "true"}}
edges:
  - {from: build, to: deploy}
"""


def _call(server: Any, name: str, arguments: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with Client(server) as client:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, result.content
            text = result.content[0].text
            try:
                return json.loads(text)
            except ValueError:
                return text

    return asyncio.run(go())


@pytest.fixture
def server(tmp_path: Path) -> Any:
    return build_server(tmp_path / "store", tmp_path)


def test_lists_every_tool(server: Any) -> None:
    async def go() -> set[str]:
        async with Client(server) as client:
            return {t.name for t in (await client.list_tools()).tools}

    names = asyncio.run(go())
    assert names == {
        "osop_validate",
        "osop_render",
        "osop_run",
        "osop_runs",
        "osop_status",
        "osop_approve",
        "osop_signal",
        "osop_resume",
        "osop_cancel",
        "osop_report",
        "osop_diff",
        "osop_stats",
        "osop_hub_search",
        "osop_hub_pull",
        "osop_discover",
        "osop_step",
        "osop_log",
        "osop_synthesize",
        "osop_export",
    }


def test_validate_path_and_text(server: Any) -> None:
    report = _call(server, "osop_validate", {"document": str(EXAMPLE)})
    assert report["valid"] is True and report["kind"] == "workflow"
    report = _call(server, "osop_validate", {"document": "nodes:\n  - {id: a, type: humna}\n"})
    assert report["valid"] is False
    assert "node/unknown-type" in {i["rule"] for i in report["issues"]}


def test_render_mermaid(server: Any) -> None:
    text = _call(server, "osop_render", {"workflow": str(EXAMPLE), "format": "mermaid"})
    assert text.startswith("flowchart")


def test_run_pause_approve_resume_report(server: Any) -> None:
    run = _call(server, "osop_run", {"workflow": APPROVAL, "mode": "live"})
    assert run["status"] == "PAUSED" and run["exit_code"] == 3
    run_id = run["run_id"]
    assert any(w.get("node") == "review" for w in run["waiting"])
    listed = _call(server, "osop_runs", {})
    assert [r["run_id"] for r in listed["runs"]] == [run_id]
    assert run["record"]["status"] == "PAUSED"
    assert _call(server, "osop_status", {"run_id": run_id})["status"] == "PAUSED"
    _call(server, "osop_approve", {"run_id": run_id, "node_id": "review", "notes": "fine"})
    done = _call(server, "osop_resume", {"run_id": run_id})
    assert done["status"] == "COMPLETED" and done["exit_code"] == 0
    statuses = {r["node_id"]: r["status"] for r in done["record"]["node_records"]}
    assert statuses == {"prepare": "COMPLETED", "review": "COMPLETED", "ship": "COMPLETED"}
    status = _call(server, "osop_status", {"run_id": run_id})
    assert status["record"]["status"] == "COMPLETED"
    report = _call(server, "osop_report", {"run_id": run_id})
    assert "COMPLETED" in report and "[PASS]" in report


def test_approve_refuses_what_the_node_does_not_allow(server: Any) -> None:
    run = _call(server, "osop_run", {"workflow": GATED, "mode": "live"})
    run_id = run["run_id"]

    async def go(arguments: dict[str, Any]) -> Any:
        async with Client(server) as client:
            return await client.call_tool("osop_approve", {"run_id": run_id, **arguments})

    typo = asyncio.run(go({"node_id": "deploy", "decision": "aproved"}))
    assert typo.is_error and "approved, rejected" in typo.content[0].text
    not_waiting = asyncio.run(go({"node_id": "build"}))
    assert not_waiting.is_error and "not waiting for an answer" in not_waiting.content[0].text
    _call(server, "osop_approve", {"run_id": run_id, "node_id": "deploy", "decision": "rejected"})
    second = asyncio.run(go({"node_id": "deploy", "decision": "approved"}))
    assert second.is_error and "replace" in second.content[0].text
    _call(
        server,
        "osop_approve",
        {"run_id": run_id, "node_id": "deploy", "decision": "approved", "replace": True},
    )
    assert _call(server, "osop_resume", {"run_id": run_id})["status"] == "COMPLETED"


def test_errors_are_tool_errors_not_crashes(server: Any) -> None:
    async def go() -> Any:
        async with Client(server) as client:
            return await client.call_tool("osop_status", {"run_id": "nope"})

    result = asyncio.run(go())
    assert result.is_error
    assert "no run 'nope'" in result.content[0].text


def test_diff_and_stats_over_records(tmp_path: Path) -> None:
    tools = OsopTools(tmp_path / "store", tmp_path)
    first = asyncio.run(tools.run(str(EXAMPLE), seed=1))
    second = asyncio.run(tools.run(str(EXAMPLE), seed=2))
    records = []
    (tmp_path / "records").mkdir()
    for run in (first, second):
        path = tmp_path / "records" / f"{run['run_id']}.osoplog.json"
        path.write_text(json.dumps(run["record"]))
        records.append(str(path))
    diff = tools.diff(records[0], records[1])
    assert "nodes" in json.dumps(diff)
    stats = tools.stats([str(tmp_path / "records")], modes=["simulated"])
    first_stats = stats["workflows"][0]
    assert first_stats["workflow_id"] == "switch-routing" and first_stats["total_runs"] == 2


INPUTS = """
osop_version: "1.1"
id: "needs-inputs"
name: "Needs inputs"
inputs:
  environment: {type: string, enum: [staging, production]}
nodes:
  - {id: deploy, type: cli, name: Deploy, runtime: {command: "echo ${inputs.environment}"}}
"""


def test_run_checks_inputs_before_it_starts(tmp_path: Path) -> None:
    """osop_run gets the library's input check: a tool error naming the input and rule."""
    server = build_server(tmp_path / "store", tmp_path)

    async def go(inputs: dict[str, Any]) -> Any:
        async with Client(server) as client:
            return await client.call_tool(
                "osop_run", {"workflow": INPUTS, "mode": "live", "inputs": inputs}
            )

    missing = asyncio.run(go({}))
    assert missing.is_error
    assert "input 'environment' is missing (required)" in missing.content[0].text
    wrong = asyncio.run(go({"environment": "prod"}))
    assert wrong.is_error and "(enum)" in wrong.content[0].text
    assert not (tmp_path / "store" / "runs").exists() or not any(
        (tmp_path / "store" / "runs").iterdir()
    )
    ok = _call(
        server,
        "osop_run",
        {"workflow": INPUTS, "mode": "live", "inputs": {"environment": "staging"}},
    )
    assert ok["status"] == "COMPLETED"


def test_validate_takes_the_binding_name_and_the_old_one(server: Any) -> None:
    assert _call(server, "osop_validate", {"workflow": str(EXAMPLE)})["valid"] is True
    assert _call(server, "osop_validate", {"document": str(EXAMPLE)})["valid"] is True


def test_render_graph_and_agent(server: Any) -> None:
    graph = _call(server, "osop_render", {"workflow": APPROVAL, "format": "graph"})
    assert [n["id"] for n in graph["nodes"]] == ["prepare", "review", "ship"]
    assert graph["edges"][1] == {
        "from": "review",
        "to": "ship",
        "mode": "conditional",
        "when": "decision == 'approved'",
    }
    assert graph["entry_nodes"] == ["prepare"] and graph["terminal_nodes"] == ["ship"]
    agent = _call(server, "osop_render", {"workflow": APPROVAL, "format": "agent"})
    assert agent.startswith("# SOP for an agent: Needs approval")


def test_step_runs_one_node_alone_with_its_executor(server: Any) -> None:
    entry = _call(server, "osop_step", {"workflow": APPROVAL, "node_id": "prepare", "inputs": {}})
    assert entry["status"] == "COMPLETED"
    assert entry["record_entry"]["node_id"] == "prepare"
    assert entry["outputs"]["stdout"] == "ready"


def test_guided_run_step_log_and_status(server: Any) -> None:
    view = _call(server, "osop_run", {"workflow": APPROVAL, "mode": "live", "guided": True})
    run_id = view["run_id"]
    assert [s["node_id"] for s in view["ready"]] == ["prepare"]
    status = _call(server, "osop_status", {"run_id": run_id})
    assert [s["node_id"] for s in status["ready"]] == ["prepare"]
    view = _call(server, "osop_step", {"run_id": run_id, "node_id": "prepare", "execute": True})
    assert [s["node_id"] for s in view["ready"]] == ["review"]
    view = _call(
        server,
        "osop_log",
        {
            "run_id": run_id,
            "node_id": "review",
            "status": "COMPLETED",
            "outputs": {"decision": "rejected"},
            "human_metadata": {"actor": "bo", "decision": "rejected"},
        },
    )
    assert view["status"] == "COMPLETED" and view["ready"] == []


def test_synthesize_and_export_return_documents(tmp_path: Path) -> None:
    tools = OsopTools(tmp_path / "store", tmp_path)
    first = asyncio.run(tools.run(str(EXAMPLE), seed=1))
    second = asyncio.run(tools.run(str(EXAMPLE), seed=2))
    runs = [first["run_id"], second["run_id"]]
    proposal = tools.synthesize(runs, modes=["simulated"])
    assert "nodes:" in proposal["workflow"] and "proposed_changes" in json.dumps(
        proposal["iteration"]
    )
    xes = tools.export(runs, "xes", modes=["simulated"])
    assert xes["count"] == 2 and xes["document"].lstrip().startswith("<?xml")
    ocel = tools.export(runs, "ocel", modes=["simulated"])
    assert "objects" in json.loads(ocel["document"])


def test_the_run_store_is_never_the_working_directory(monkeypatch: Any, tmp_path: Path) -> None:
    from osop.mcp import default_home

    monkeypatch.delenv("OSOP_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    home = default_home()
    assert home == tmp_path / "data" / "osop"
    tools = OsopTools()
    assert tools.store.root == home and tools.workdir == home / "work"
    monkeypatch.setenv("OSOP_HOME", str(tmp_path / "mine"))
    assert OsopTools().store.root == tmp_path / "mine"
