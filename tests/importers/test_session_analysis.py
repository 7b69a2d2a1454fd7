"""stats, report and diff of imported sessions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from oracle import expected

from osop.analysis.sessions import diff_sessions, session_stats
from osop.cli.main import cli
from osop.importers import import_sessions, write_records
from osop.record.model import RunRecord

FIXTURES = Path(__file__).parent / "fixtures" / "claude-code"
STREAMED = FIXTURES / "streamed-retry.jsonl"
INTERRUPT = FIXTURES / "compaction-interrupt.jsonl"


def _records() -> list[RunRecord]:
    return [r for i in import_sessions("claude-code", [FIXTURES]) for r in i.records]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("records")
    for imported in import_sessions("claude-code", [FIXTURES]):
        write_records(imported, out)
    return out


def test_stats_totals_are_the_sum_of_sessions_and_subagents() -> None:
    records = _records()
    stats = session_stats(records)
    totals = stats.totals()
    assert totals["sessions"] == 4 and totals["subagent_runs"] == 3
    # every assistant message of every file counted exactly once, sub-agents included
    files = [*FIXTURES.glob("*.jsonl"), *FIXTURES.glob("*/subagents/*.jsonl")]
    counts = [expected(f, sidechain=side) for f in files for side in (False, True)]
    assert totals["tokens"]["output_tokens"] == sum(c["output_tokens"] for c in counts)
    assert totals["tool_calls"] == sum(c["tool_calls"] for c in counts)
    assert totals["cost_usd"] == pytest.approx(sum(r.total_cost_usd for r in records), abs=1e-5)
    assert totals["failed_tool_calls"] == 1 and totals["retries"] == 1
    assert stats.by_tool["Bash"].calls == 4 and stats.by_tool["Bash"].errors == 1
    assert stats.by_activity["verify"].calls == 2
    assert stats.by_step["run"].errors == 1
    assert set(stats.by_model) >= {"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"}
    by_model_cost = sum(b.cost_usd for b in stats.by_model.values())
    assert by_model_cost == pytest.approx(totals["cost_usd"], abs=1e-5)
    row = next(r for r in stats.sessions if r.session_id.startswith("0d9e3c4a"))
    assert row.human_wait_ms >= 600_000 and row.first_edit_ms is not None


def test_stats_command_on_sessions(folder: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert "AGENT SESSIONS" in result.stdout and "TOOL MIX" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    result = CliRunner().invoke(cli, ["stats", str(folder), "--format", "json"])
    data = json.loads(result.stdout)
    assert data["agent_sessions"]["totals"]["sessions"] == 4
    assert data["workflows"] == []


def test_report_shows_phases_and_tool_calls(folder: Path) -> None:
    path = folder / "0d9e3c4a-58f1-4b8e-9d2c-6b1f7a2e4c11.osoplog.json"
    result = CliRunner().invoke(cli, ["report", str(path), "--format", "text"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "tool Bash: pytest tests/test_parser.py -q (6s) retry" in out
    assert "attempt 1 [FAIL]" in out and "human.waited: 10m 1s" in out
    assert out.index("turn_1_1_explore") < out.index("turn_1_2_edit") < out.index("turn_2_prompt")


def test_diff_of_two_sessions() -> None:
    a = next(iter(import_sessions("claude-code", [STREAMED]))).record
    b = next(iter(import_sessions("claude-code", [INTERRUPT]))).record
    diff = diff_sessions(a, b)
    assert not diff.identical
    assert diff.only_a["edited"] == ["docs/parser.md", "src/parser.py"]
    assert diff.only_b["commands"] == ["npm run build"]
    assert diff.tools["Bash"] == (3, 1)
    assert diff.phases_a[:5] == ["prompt", "explore", "edit", "run", "run (retry)"]
    assert diff_sessions(a, a).identical


def test_diff_command_on_sessions(folder: Path) -> None:
    a = folder / "0d9e3c4a-58f1-4b8e-9d2c-6b1f7a2e4c11.osoplog.json"
    b = folder / "7a4c2e9b-1f3d-4c6a-8e5b-2d9f0a1c3b77.osoplog.json"
    result = CliRunner().invoke(cli, ["diff", str(a), str(b)])
    assert result.exit_code == 1
    assert "session diff" in result.stdout and "commands only in B:" in result.stdout
    result = CliRunner().invoke(cli, ["diff", str(a), str(a), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["kind"] == "session-diff"


def test_diff_takes_run_ids_from_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["import", "claude-code", str(FIXTURES), "--store", "--store-dir", str(store)]
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(cli, ["diff", "0d9e3c4a", "7a4c", "--store", str(store)])
    assert result.exit_code == 1 and "session diff" in result.stdout
    result = runner.invoke(cli, ["diff", "0d9e3c4a", "nothing-like-it", "--store", str(store)])
    assert result.exit_code == 2 and "nothing-like-it" in result.stderr
