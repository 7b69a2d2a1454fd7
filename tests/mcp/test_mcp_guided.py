"""A guided run driven through the official MCP client, the server a subprocess over stdio.

The server is started exactly as a desktop client starts it (``osop mcp``, working
directory ``/``, the run store from ``OSOP_HOME``).  The client reads the SOP as a
resource and in the agent view, starts a guided run of a corpus workflow (a
parallel fan-out, a join, conditionals, a human step), reports each step with
``osop_log`` choosing outputs that take the merge branch, is refused on bad
reports, loses its server to ``kill -9`` mid-run and goes on with a new one, until
the run is COMPLETED; the record validates, ``osop diff`` finds it conformant
(fitness 1.0) and ``osop stats`` counts it.

With ``OSOP_MCP_TRANSCRIPT=FILE`` the session is written to FILE as Markdown (the
transcript in docs/agents.md is one such session).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from corpus_dir import CORPUS
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

PR_REVIEW = CORPUS / "osop-editor__public__examples__pr_review_pipeline.osop"

#: What the "agent" reports for each step: outputs that take CI pass → review → merge.
PLAN: dict[str, dict[str, Any]] = {
    "pr_opened": {
        "outputs": {"pr_url": "https://git.example/pr/7", "diff_content": "+fix", "branch_name": "fix-7"}
    },
    "run_ci": {"outputs": {"ci_result": "pass", "test_report": "42/42 passed"}, "tool_calls": {"bash": 3}},
    "ai_code_review": {
        "outputs": {"review_comments": [], "risk_level": "low"},
        "ai_metadata": {"model": "claude-sonnet-4-20250514", "prompt_tokens": 1200, "completion_tokens": 300},
    },
    "post_review_comments": {"outputs": {}, "tool_calls": {"http_request": 1}},
    "human_review": {
        "outputs": {"decision": "approve"},
        "human_metadata": {"actor": "alice@example.com", "decision": "approve"},
    },
    "auto_merge": {"outputs": {}, "tool_calls": {"git": 2}},
    "notify_author": {"outputs": {}, "tool_calls": {"slack_post": 1}},
}  # fmt: skip


class Transcript:
    """The session as Markdown: each call and what came back (long values shortened)."""

    def __init__(self, folder: Path) -> None:
        self.lines: list[str] = []
        #: The test's temporary folder, shown as $WORK (paths differ from run to run).
        self.folder = str(folder)

    def note(self, text: str) -> None:
        self.lines += [f"*{text}*", ""]

    def call(self, name: str, arguments: dict[str, Any], result: Any, error: bool) -> None:
        self.lines += [f"**→ {name}** `{_short(json.dumps(arguments, ensure_ascii=False))}`", ""]
        shown = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        label = "tool error" if error else "result"
        self.lines += [f"← {label}:", "", "```", _short(shown, 900), "```", ""]

    def write(self) -> None:
        target = os.environ.get("OSOP_MCP_TRANSCRIPT")
        if target:
            Path(target).write_text("\n".join(self.lines).replace(self.folder, "$WORK"))


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _env(home: Path) -> dict[str, str]:
    return {
        "OSOP_HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(home)),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }


@asynccontextmanager
async def connect(home: Path, root: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "osop", "mcp", "--root", str(root)],
        env=_env(home),
        cwd="/",  # what a desktop client does: runs must not land here
    )
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


async def call(
    session: ClientSession,
    transcript: Transcript,
    name: str,
    arguments: dict[str, Any],
    *,
    error: bool = False,
) -> Any:
    result = await session.call_tool(name, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    transcript.call(name, arguments, value, result.is_error)
    assert result.is_error == error, text
    return value


def _server_pids() -> list[int]:
    """This test's ``osop mcp`` child processes (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"mcp" in cmdline and b"osop" in cmdline:
            pids.append(int(entry.name))
    return pids


async def _report_ready(
    session: ClientSession, transcript: Transcript, run_id: str, view: dict[str, Any], limit: int
) -> dict[str, Any]:
    """Carry out (here: report per PLAN) up to ``limit`` ready steps, one at a time."""
    for _ in range(limit):
        if not view["ready"]:
            break
        step = view["ready"][0]
        node = step["node_id"]
        arguments = {"run_id": run_id, "node_id": node, "status": "COMPLETED", **PLAN[node]}
        view = await call(session, transcript, "osop_log", arguments)
    return view


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the server process in /proc")
def test_an_mcp_client_follows_a_corpus_sop_to_completed(tmp_path: Path) -> None:
    if not PR_REVIEW.is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    home = tmp_path / "home"
    root = tmp_path / "sops"
    root.mkdir()
    sop = root / "pr_review_pipeline.osop"
    shutil.copy(PR_REVIEW, sop)
    transcript = Transcript(tmp_path)
    killed: list[str] = []

    async def first_server() -> tuple[str, dict[str, Any]]:
        async with connect(home, root) as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
            for name in ("osop_validate", "osop_run", "osop_step", "osop_log", "osop_render",
                         "osop_status", "osop_synthesize", "osop_export"):  # fmt: skip
                assert tools[name].description, name
            assert tools["osop_validate"].annotations.read_only_hint is True  # type: ignore[union-attr]
            assert tools["osop_run"].annotations.destructive_hint is True  # type: ignore[union-attr]
            props = tools["osop_log"].input_schema["properties"]
            assert all(p.get("description") for p in props.values()), props
            assert "workflow" in tools["osop_validate"].input_schema["properties"]
            resources = (await session.list_resources()).resources
            assert [r.name for r in resources] == ["pr_review_pipeline.osop"]
            content = await session.read_resource(resources[0].uri)
            assert "pr_opened" in content.contents[0].text  # type: ignore[union-attr]
            transcript.note("The client validates the SOP and reads it written for an agent.")
            report = await call(session, transcript, "osop_validate", {"workflow": str(sop)})
            assert report["valid"] is True
            plan = await call(
                session, transcript, "osop_render", {"workflow": str(sop), "format": "agent"}
            )
            assert "## The plan, step by step" in plan
            transcript.note("It starts a guided run: the engine hands out the first step.")
            view = await call(
                session,
                transcript,
                "osop_run",
                {"workflow": str(sop), "mode": "live", "guided": True, "agent": "test-agent"},
            )
            run_id = view["run_id"]
            assert view["status"] == "PAUSED" and [s["node_id"] for s in view["ready"]] == [
                "pr_opened"
            ]
            transcript.note("A report missing a declared output is refused; nothing changes.")
            await call(
                session,
                transcript,
                "osop_log",
                {"run_id": run_id, "node_id": "pr_opened", "status": "COMPLETED", "outputs": {}},
                error=True,
            )
            transcript.note("It carries out the steps and reports them one by one.")
            view = await _report_ready(session, transcript, run_id, view, limit=2)
            assert {s["node_id"] for s in view["ready"]} >= {"ai_code_review"}
            transcript.note("A step that is not ready is refused with what is ready instead.")
            await call(
                session,
                transcript,
                "osop_log",
                {"run_id": run_id, "node_id": "auto_merge", "status": "COMPLETED"},
                error=True,
            )
            [pid] = _server_pids()
            transcript.note(f"The server process ({pid}) is killed with SIGKILL mid-run.")
            killed.append(run_id)
            os.kill(pid, signal.SIGKILL)
            return run_id, view

    async def second_server(run_id: str) -> dict[str, Any]:
        async with connect(home, root) as session:
            transcript.note("A new server continues the run from where it was.")
            view = await call(session, transcript, "osop_step", {"run_id": run_id})
            assert view["status"] == "PAUSED" and view["ready"], view
            view = await _report_ready(session, transcript, run_id, view, limit=10)
            assert view["status"] == "COMPLETED", view
            status = await call(session, transcript, "osop_status", {"run_id": run_id[:8]})
            assert status["status"] == "COMPLETED"
            diff = await call(
                session, transcript, "osop_diff", {"first": str(sop), "second": run_id}
            )
            assert json.dumps(diff).count('"fitness": 1.0') >= 1
            return view

    try:
        run_id, _ = asyncio.run(first_server())
    except BaseException:
        if not killed:
            raise
        run_id = killed[0]  # the killed server tore its session down on the way out
    view = asyncio.run(second_server(run_id))
    transcript.write()
    record_path = Path(view["record"])
    assert record_path.parent.parent.parent == home  # the run store is OSOP_HOME, not "/"
    record = json.loads(record_path.read_text())
    assert [(r["node_id"], r["status"]) for r in record["node_records"]] == [
        ("pr_opened", "COMPLETED"),
        ("run_ci", "COMPLETED"),
        ("ai_code_review", "COMPLETED"),
        ("post_review_comments", "COMPLETED"),
        ("human_review", "COMPLETED"),
        ("auto_merge", "COMPLETED"),
        ("notify_author", "COMPLETED"),
    ]
    assert record["runtime"]["agent"] == "test-agent"
    assert record["node_records"][2]["ai_metadata"]["prompt_tokens"] == 1200
    assert record["node_records"][4]["human_metadata"]["actor"] == "alice@example.com"
    cli = [sys.executable, "-m", "osop"]
    env = {**os.environ, "OSOP_HOME": str(home)}
    valid = subprocess.run([*cli, "validate", str(record_path)], env=env, capture_output=True)
    assert valid.returncode == 0, valid.stdout
    diff = subprocess.run(
        [*cli, "diff", str(sop), str(record_path)], env=env, capture_output=True, text=True
    )
    assert diff.returncode == 0 and "fitness 1.000 (conformant)" in diff.stdout, diff.stdout
    stats = subprocess.run(
        [*cli, "stats", str(record_path), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert stats.returncode == 0 and '"total_runs": 1' in stats.stdout, stats.stderr


@pytest.mark.slow
def test_the_follow_sop_prompt_starts_a_guided_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    root = tmp_path / "sops"
    root.mkdir()
    sop = root / "one.osop.yaml"
    sop.write_text(
        "osop_version: '1.1'\nid: one-step\nname: One step\nnodes:\n"
        "  - {id: say, type: cli, name: Say, purpose: Say hello, runtime: {command: 'echo hi'}}\n"
        "edges: []\n"
    )

    async def go() -> str:
        async with connect(home, root) as session:
            prompts = (await session.list_prompts()).prompts
            assert [p.name for p in prompts] == ["follow_sop"]
            [resource] = (await session.list_resources()).resources
            got = await session.get_prompt("follow_sop", {"workflow": str(resource.uri)})
            text: str = got.messages[0].content.text  # type: ignore[union-attr]
            refused = await session.call_tool("osop_step", {"run_id": "nope"})
            assert refused.is_error and "no run 'nope'" in refused.content[0].text  # type: ignore[union-attr]
            return text

    text = asyncio.run(go())
    assert "A guided run has started: run_id" in text
    assert '"node_id": "say"' in text and "# SOP for an agent: One step" in text
    assert len(list((home / "runs").iterdir())) == 1
