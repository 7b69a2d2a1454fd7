"""`osop synthesize`: every proposal checked against what the generator planted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from osop.analysis.conformance import replay
from osop.analysis.infer import infer_workflow
from osop.analysis.synthesize import dump_workflow, improve, synthesize
from osop.cli.main import cli
from osop.format.validate import validate_text
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict

from .generator import Loop, Seq, Step, Task, generate, relations
from .processes import REVIEW_STEPS, REVIEW_TREE, SYNTH_STEPS, SYNTH_TREE

N = 200


@pytest.fixture(scope="module")
def synth():  # type: ignore[no-untyped-def]
    gen = generate(SYNTH_TREE, SYNTH_STEPS, N, seed=9)
    records = [record_from_dict(r) for r in gen.records]
    base = workflow_from_dict(gen.workflow)
    return gen, records, base, improve(base, records)


def _by_type(result: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for p in result.proposals:
        out.setdefault(p.type, []).append(p)
    return out


def test_every_planted_problem_is_found_and_nothing_else(synth) -> None:  # type: ignore[no-untyped-def]
    gen, _, _, result = synth
    props = _by_type(result)
    assert {k: [p.target for p in v] for k, v in props.items()} == {
        "add_retry": ["fetch"],
        "add_timeout": ["lint"],
        "add_approval_gate": ["cleanup"],
        "parallelize": [["lint", "unit_tests"]],
        "add_conditional_bypass": ["human_review"],
        "add_precheck": ["migrate"],
    }
    execs = [e for t in gen.truth for e in t.executions]
    fetch = [e for e in execs if e.node_id == "fetch"]
    retry = props["add_retry"][0]
    assert retry.evidence["executions"] == len(fetch)
    assert retry.evidence["transient_failures"] == sum(
        1 for e in fetch if len(e.attempts) == 2 and e.attempts[-1][0] == "COMPLETED"
    )
    assert retry.config == {"max_retries": 2, "strategy": "exponential", "backoff_sec": 1}
    migrate = [e for e in execs if e.node_id == "migrate"]
    pre = props["add_precheck"][0]
    assert pre.evidence["error"] == "E_LOCK: database is locked"
    assert pre.evidence["count"] == sum(1 for e in migrate if e.attempts[-1][0] == "FAILED")
    humans = [e for e in execs if e.node_id == "human_review"]
    bypass = props["add_conditional_bypass"][0]
    assert bypass.config["condition"] == "risk_level == 'low'"
    assert bypass.config["bypass_to"] == ["deploy"] and bypass.config["from"] == "ai_review"
    assert bypass.evidence["decisions"] == len(humans)
    gate = props["add_approval_gate"][0]
    assert gate.evidence["level"] == "dangerous" and "rm-recursive" in gate.evidence["rules"]
    lint_attempts = sorted(a[1] for e in execs if e.node_id == "lint" for a in e.attempts)
    import numpy as np

    p95 = float(np.percentile(lint_attempts, 95))
    assert props["add_timeout"][0].config["timeout_sec"] == int(np.ceil(1.5 * p95 / 1000))


def test_result_validates_and_keeps_every_base_node(synth) -> None:  # type: ignore[no-untyped-def]
    _, _, base, result = synth
    report = validate_text(dump_workflow(result.workflow), "out.osop", kind="workflow")
    assert report.errors == []
    new = workflow_from_dict(result.workflow)
    assert {n.id for n in base.nodes} <= {n.id for n in new.nodes}
    assert {n.id for n in new.nodes} - {n.id for n in base.nodes} == {"migrate_precheck"}
    assert new.node("fetch").retry is not None and new.node("fetch").retry.max_attempts == 3
    assert new.node("cleanup").requires_approval
    modes = {(e.source, e.target): e.mode for e in new.edges}
    assert modes[("fetch", "lint")] == "parallel" and modes[("fetch", "unit_tests")] == "parallel"
    assert ("lint", "unit_tests") not in modes
    assert modes[("ai_review", "deploy")] == "conditional"
    # "database is locked" names nothing a command could test: a person's checklist
    assert modes[("migrate_precheck", "migrate")] == "conditional"
    assert new.node("migrate_precheck").type == "human"


def test_estimates(synth) -> None:  # type: ignore[no-untyped-def]
    _, records, _, result = synth
    before, after = result.before, result.after
    assert after.critical_path_ms < before.critical_path_ms
    assert after.expected_success_rate >= before.expected_success_rate
    completed = sum(1 for r in records if r.status == "COMPLETED")
    assert before.expected_success_rate == pytest.approx(completed / len(records))
    cost = sum(r.total_cost_usd for r in records) / len(records)
    assert before.expected_cost_usd == pytest.approx(cost)


def test_parallelisation_alone_shortens_the_critical_path() -> None:
    steps = [
        Step("a", "cli", (100.0, 100.0), command="make a"),
        Step("b", "cli", (1000.0, 1000.0), command="make b"),
        Step("c", "cli", (2000.0, 2000.0), command="make c ${outputs.a.x}"),
    ]
    gen = generate(Seq((Task("a"), Task("b"), Task("c"))), steps, 20, seed=1)
    result = improve(
        workflow_from_dict(gen.workflow), [record_from_dict(r) for r in gen.records], "speed"
    )
    assert [(p.type, p.target) for p in result.proposals] == [("parallelize", ["a", "b"])]
    assert result.before.critical_path_ms == pytest.approx(3100.0)
    assert result.after.critical_path_ms == pytest.approx(3000.0)


def test_goal_selects_rules(synth) -> None:  # type: ignore[no-untyped-def]
    _, records, base, _ = synth
    speed = {p.type for p in improve(base, records, "speed").proposals}
    assert speed == {"parallelize", "add_conditional_bypass", "add_timeout", "add_approval_gate"}
    reliable = {p.type for p in improve(base, records, "reliability").proposals}
    assert reliable == {"add_retry", "add_precheck", "add_timeout", "add_approval_gate"}


def test_synthesized_workflow_accepts_the_old_runs_it_was_built_from(synth) -> None:  # type: ignore[no-untyped-def]
    gen, records, _, _ = synth
    # Runs of the base (with its retries) replay cleanly on the base, so the
    # comparison afterwards is about the change alone.
    base = workflow_from_dict(gen.workflow)
    assert all(replay(base, r).missing == 0 for r in records)


def test_deterministic(synth) -> None:  # type: ignore[no-untyped-def]
    _, records, base, result = synth
    again = improve(base, records)
    assert dump_workflow(again.workflow) == dump_workflow(result.workflow)
    assert again.iteration_record() == result.iteration_record()


# --- inference ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "steps"), [(REVIEW_TREE, REVIEW_STEPS), (SYNTH_TREE, SYNTH_STEPS)]
)
def test_inferred_graph_has_the_true_nodes_and_relations(tree: Any, steps: Any) -> None:
    gen = generate(tree, steps, 300, seed=3)
    inference = infer_workflow([record_from_dict(r) for r in gen.records])
    truth = relations(tree)
    for kind in ("before", "parallel", "exclusive"):
        got = getattr(inference.relations, kind)
        # precision and recall of each ordering relation are both 1.0
        assert got == truth[kind], kind
    assert {n["id"] for n in inference.workflow["nodes"]} == {s.id for s in steps}
    true_edges = {(e["from"], e["to"], e.get("mode", "sequential")) for e in gen.workflow["edges"]}
    got_edges = {
        (e["from"], e["to"], e.get("mode", "sequential")) for e in inference.workflow["edges"]
    }
    assert got_edges == true_edges
    whens = {(e["from"], e["to"]): e.get("when") for e in inference.workflow["edges"]}
    assert whens == {(e["from"], e["to"]): e.get("when") for e in gen.workflow["edges"]}
    # and the records replay perfectly on what was inferred
    wf = workflow_from_dict(inference.workflow)
    base_nodes = {s.id for s in steps}
    results = [replay(wf, record_from_dict(r)) for r in gen.records[:50]]
    assert all(r.missing == 0 and r.remaining == 0 for r in results)
    assert {n.id for n in wf.nodes} == base_nodes


def test_inferred_loop() -> None:
    steps = [Step("start"), Step("work"), Step("check"), Step("finish")]
    tree = Seq((Task("start"), Loop(Seq((Task("work"), Task("check"))), 0.5), Task("finish")))
    gen = generate(tree, steps, 60, seed=2)
    inference = infer_workflow([record_from_dict(r) for r in gen.records])
    assert inference.loops == [("check", "work")]
    loop = next(e for e in inference.workflow["edges"] if e.get("mode") == "loop")
    assert loop["when"] == "again == true"
    assert loop["max_iterations"] == max(
        sum(1 for e in t.executions if e.node_id == "work") for t in gen.truth
    )


def test_synthesize_without_base_infers_then_improves() -> None:
    gen = generate(SYNTH_TREE, SYNTH_STEPS, 120, seed=4)
    result = synthesize([record_from_dict(r) for r in gen.records])
    assert result.inferred
    types = {p.type for p in result.proposals}
    assert "parallelize" not in types and "add_approval_gate" not in types
    assert {"add_retry", "add_precheck", "add_conditional_bypass"} <= types
    report = validate_text(dump_workflow(result.workflow), "x.osop", kind="workflow")
    assert report.errors == []


# --- CLI -----------------------------------------------------------------------------------


def test_cli(tmp_path: Path) -> None:
    gen = generate(SYNTH_TREE, SYNTH_STEPS, 80, seed=6)
    base = tmp_path / "base.osop"
    base.write_text(yaml.safe_dump(gen.workflow, sort_keys=False))
    logs = tmp_path / "logs"
    logs.mkdir()
    for i, r in enumerate(gen.records):
        (logs / f"{i}.osoplog.json").write_text(json.dumps(r))
    out, insights = tmp_path / "better.osop", tmp_path / "iteration.json"
    result = CliRunner().invoke(
        cli,
        ["synthesize", str(logs), "--base", str(base), "-o", str(out), "--insights", str(insights)],
    )
    assert result.exit_code == 0, result.output
    assert "add_conditional_bypass" in result.output and "critical path" in result.output
    check = CliRunner().invoke(cli, ["validate", str(out)])
    assert check.exit_code == 0, check.output
    iteration = json.loads(insights.read_text())["iteration"]
    assert iteration["status"] == "proposed" and len(iteration["based_on_runs"]) == 80
    assert {"hotspots", "bottlenecks"} <= set(iteration["analysis"])
    assert any(h["node_id"] == "fetch" for h in iteration["analysis"]["hotspots"])
    assert any(b["node_id"] == "human_review" for b in iteration["analysis"]["bottlenecks"])
    assert all(p["evidence"] for p in iteration["proposed_changes"])
    diff = CliRunner().invoke(cli, ["diff", str(base), str(out)])
    assert diff.exit_code == 1 and "migrate_precheck" in diff.output
    missing = CliRunner().invoke(cli, ["synthesize", str(base), "-o", str(out)])
    assert missing.exit_code == 1 and "Error:" in missing.stderr
