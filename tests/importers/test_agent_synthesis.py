"""Synthesis over a generated family of sessions with a known process recovers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from session_generator import HIDDEN_LOOP, HIDDEN_PARALLEL, HIDDEN_STEPS, generate_sessions

from osop.analysis.agent_synthesis import step_label, synthesize_sessions
from osop.analysis.synthesize import check_valid, dump_workflow
from osop.cli.main import cli
from osop.errors import OsopError
from osop.importers import import_sessions, write_records
from osop.record.model import RunRecord

#: Steps the synthesis adds on purpose (the prompt, the review before shipping).
STRUCTURAL = {"task", "review_risk"}


def _records(folder: Path) -> list[RunRecord]:
    return [r for i in import_sessions("claude-code", [folder]) for r in i.records]


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_recovers_the_hidden_process(
    tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    generated = generate_sessions(tmp_path / "sessions", 30, seed=seed)
    result = synthesize_sessions(_records(tmp_path / "sessions"))
    steps = {n["id"] for n in result.workflow["nodes"]} - STRUCTURAL
    hits = steps & HIDDEN_STEPS
    precision = len(hits) / len(steps)
    recall = len(hits) / len(HIDDEN_STEPS)
    ratio = result.to_dict()["compression"]["ratio"]
    with capsys.disabled():
        print(
            f"\n[seed {seed}] compression {result.session_nodes} session nodes "
            f"({result.tool_calls} tool calls) -> {result.workflow_nodes} steps = {ratio}x; "
            f"step precision {precision:.2f}, recall {recall:.2f}; "
            f"loop {result.loop and result.loop['body']} max {result.loop and result.loop['max_iterations']}; "
            f"parallel {result.parallel}; dropped {result.dropped}"
        )
    assert precision == 1.0 and recall == 1.0
    assert result.dropped == {"research": result.dropped["research"]}  # the noise, named
    # the loop: edit -> verify, bounded by the most rounds any session took
    assert result.loop is not None and tuple(result.loop["body"]) == HIDDEN_LOOP
    assert result.loop["max_iterations"] == generated.max_rounds
    loops = [e for e in result.workflow["edges"] if e.get("mode") == "loop"]
    assert loops == [
        {
            "from": "verify",
            "to": "edit",
            "mode": "loop",
            "when": "passed == false",
            "max_iterations": generated.max_rounds,
        }
    ]
    # exploration in varying order became parallel branches
    assert [set(b) for b in result.parallel] == [set(HIDDEN_PARALLEL)]
    fan_out = {e["to"] for e in result.workflow["edges"] if e.get("mode") == "parallel"}
    assert fan_out == set(HIDDEN_PARALLEL)
    # order: plan before edit, verify right after edit, review before ship
    order = [n["id"] for n in result.workflow["nodes"]]
    assert order.index("plan") < order.index("edit") < order.index("verify") < order.index("commit")
    assert order.index("review_risk") == order.index("ship") - 1
    gate = next(e for e in result.workflow["edges"] if e["to"] == "ship")
    assert gate == {
        "from": "review_risk",
        "to": "ship",
        "mode": "conditional",
        "when": "decision == 'approved'",
    }
    verify_rule = next(r for r in result.rules if r["rule"] == "verify-after-edit")
    ev = verify_rule["evidence"]
    assert verify_rule["applied"] is (ev["their_failure_rate"] <= ev["their_failure_rate_other"])
    # per-step evidence
    verify = result.steps["verify"]
    assert verify["sessions"] == 30 and verify["failed_calls"] > 0 and verify["tokens"] > 0
    check_valid(result.workflow)
    assert ratio > 10


def test_cli_writes_a_workflow_that_validates_renders_and_runs(tmp_path: Path) -> None:
    generate_sessions(tmp_path / "sessions", 12, seed=3)
    records = tmp_path / "records"
    for imported in import_sessions("claude-code", [tmp_path / "sessions"]):
        write_records(imported, records)
    out = tmp_path / "agent.osop.yaml"
    insights = tmp_path / "insights.json"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["synthesize", str(records), "-o", str(out), "--insights", str(insights)]
    )
    assert result.exit_code == 0, result.stderr
    assert "recorded nodes" in result.stdout and "loop             edit -> verify" in result.stdout
    report = json.loads(insights.read_text())
    assert report["compression"]["workflow_nodes"] == len(report["steps"])
    result = runner.invoke(cli, ["validate", str(out)])
    assert result.exit_code == 0, result.stdout
    assert "0 warning(s)" in result.stdout
    result = runner.invoke(cli, ["render", str(out), "--format", "mermaid"])
    assert result.exit_code == 0 and "loop: passed == false" in result.stdout
    result = runner.invoke(
        cli, ["run", str(out), "--mode", "simulated", "--store", str(tmp_path / "store")]
    )
    assert result.exit_code == 0, result.output
    assert "COMPLETED" in result.output


def test_with_a_base_keeps_its_identity(tmp_path: Path) -> None:
    generate_sessions(tmp_path / "s", 10, seed=5)
    base = {"id": "fix-and-ship", "name": "Fix and ship", "version": "1.2.0",
            "nodes": [{"id": "edit"}, {"id": "deploy"}]}  # fmt: skip
    result = synthesize_sessions(_records(tmp_path / "s"), base=base)
    assert result.workflow["id"] == "fix-and-ship" and result.workflow["version"] == "1.3.0"
    compare = next(r for r in result.rules if r["rule"] == "compare-with-base")
    assert "deploy" in compare["evidence"]["base_steps_not_seen"]
    assert "verify" in compare["evidence"]["steps_not_in_base"]
    assert dump_workflow(result.workflow)


def test_no_sessions_is_a_clear_error() -> None:
    with pytest.raises(OsopError, match="no imported agent sessions"):
        synthesize_sessions([])


@pytest.mark.parametrize(
    ("call", "label"),
    [
        ({"activity": "explore", "target": "src/a.py"}, "explore_src"),
        ({"activity": "explore", "target": "rg -n foo lib/x"}, "explore_lib"),
        ({"activity": "explore", "target": "README.md"}, "explore_project"),
        ({"activity": "vcs", "target": "git commit -m x"}, "commit"),
        ({"activity": "ship", "target": "git push"}, "ship"),
        ({"activity": "other", "target": None}, None),
    ],
)
def test_step_labels(call: dict[str, str | None], label: str | None) -> None:
    assert step_label(call) == label


def test_a_follow_up_prompt_is_not_a_loop() -> None:
    # one session: explore, edit, verify (fails, re-run), push; then, asked again, edit docs
    path = Path(__file__).parent / "fixtures" / "claude-code" / "streamed-retry.jsonl"
    result = synthesize_sessions(_records(path))
    assert result.loop is None
    assert not [e for e in result.workflow["edges"] if e.get("mode") == "loop"]
    order = [n["id"] for n in result.workflow["nodes"]]
    assert order[-2:] == ["review_risk", "ship"]
    check_valid(result.workflow)
