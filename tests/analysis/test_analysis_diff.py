"""`osop diff`: the three kinds, their formats and exit codes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from corpus_dir import CORPUS

from osop.analysis.conformance import fitness, replay
from osop.analysis.diff_records import diff_records
from osop.analysis.diff_workflows import diff_workflows
from osop.cli.main import cli
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE

BASE: dict[str, Any] = {
    "osop_version": "1.1",
    "id": "deploy-app",
    "name": "Deploy the app",
    "version": "1.0.0",
    "nodes": [
        {"id": "build", "type": "cli", "name": "Build", "runtime": {"command": "make"}},
        {"id": "test", "type": "cli", "name": "Test", "runtime": {"command": "make test"}},
        {"id": "ship", "type": "cli", "name": "Ship", "runtime": {"command": "make ship"}},
    ],
    "edges": [
        {"from": "build", "to": "test"},
        {"from": "test", "to": "ship", "mode": "conditional", "when": "ok == true"},
    ],
}


def _write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["diff", *args])


# --- workflow vs workflow ---------------------------------------------------------------


def test_identical_workflows_up_to_order_and_legacy_spelling(tmp_path: Path) -> None:
    other = copy.deepcopy(BASE)
    other["edges"] = [
        {"from": "test", "to": "ship", "mode": "conditional", "condition": "ok == true"},
        {"from": "build", "to": "test", "mode": "sequential"},
    ]
    a, b = _write(tmp_path / "a.osop", BASE), _write(tmp_path / "b.osop", other)
    assert diff_workflows(workflow_from_dict(BASE), workflow_from_dict(other)).identical
    result = run(a, b)
    assert result.exit_code == 0, result.output
    assert "identical" in result.output


def test_workflow_changes_field_by_field(tmp_path: Path) -> None:
    other = copy.deepcopy(BASE)
    other["version"] = "1.1.0"
    other["nodes"][0]["runtime"]["command"] = "make -j4"
    other["nodes"].append({"id": "notify", "type": "api", "name": "Notify"})
    other["nodes"] = [n for n in other["nodes"] if n["id"] != "ship"] + [
        {"id": "ship", "type": "cli", "name": "Ship", "runtime": {"command": "make ship"}}
    ]
    other["edges"][1]["when"] = "ok == true && coverage > 80"
    other["edges"].append({"from": "ship", "to": "notify", "mode": "parallel"})
    del other["edges"][0]
    other["edges"].append({"from": "build", "to": "test", "mode": "parallel"})
    d = diff_workflows(workflow_from_dict(BASE), workflow_from_dict(other))
    assert [(c.path, c.old, c.new) for c in d.metadata] == [("version", "1.0.0", "1.1.0")]
    assert [(n.key, n.kind) for n in d.nodes] == [("build", "changed"), ("notify", "added")]
    assert [(f.path, f.old, f.new) for f in d.nodes[0].fields] == [
        ("runtime.command", "make", "make -j4")
    ]
    kinds = {(e.key, e.kind) for e in d.edges}
    assert kinds == {
        ("build -> test (sequential)", "removed"),
        ("build -> test (parallel)", "added"),
        ("test -> ship (conditional)", "changed"),
        ("ship -> notify (parallel)", "added"),
    }
    a, b = _write(tmp_path / "a.osop", BASE), _write(tmp_path / "b.osop", other)
    text = run(a, b)
    assert text.exit_code == 1
    # everything is shown in the text output, not only in JSON
    for fragment in (
        "version: 1.0.0 -> 1.1.0",
        "runtime.command: make -> make -j4",
        "+ notify added",
        "when: ok == true -> ok == true && coverage > 80",
        "- build -> test (sequential) removed",
    ):
        assert fragment in text.output
    md = run(a, b, "--format", "markdown")
    assert md.exit_code == 1 and "### nodes" in md.output and "`notify`" in md.output
    js = json.loads(run(a, b, "--format", "json").output)
    assert js["summary"]["nodes_added"] == 1 and js["summary"]["edges_removed"] == 1


def test_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osop"
    bad.write_text("nodes: [\n")
    good = _write(tmp_path / "good.osop", BASE)
    result = run(str(bad), good)
    assert result.exit_code == 2
    assert "Error:" in result.stderr and "Traceback" not in result.output
    assert run(good, str(tmp_path / "missing.osop")).exit_code == 2


# --- record vs record -------------------------------------------------------------------


def _node(node_id: str, start: int, dur: int, status: str = "COMPLETED", **extra: Any) -> dict:  # type: ignore[type-arg]
    base = f"2026-01-01T00:00:{start:02d}Z"
    end = f"2026-01-01T00:00:{start + dur:02d}Z"
    return {
        "node_id": node_id,
        "node_type": "cli",
        "attempt": 1,
        "status": status,
        "started_at": base,
        "ended_at": end,
        "duration_ms": dur * 1000,
        **extra,
    }


def _record(nodes: list[dict], **extra: Any) -> dict:  # type: ignore[type-arg]
    return {
        "osoplog_version": "1.0",
        "run_id": "00000000-0000-4000-8000-000000000001",
        "workflow_id": "deploy-app",
        "workflow_version": "1.0.0",
        "status": "COMPLETED",
        "started_at": "2026-01-01T00:00:00Z",
        "ended_at": "2026-01-01T00:00:30Z",
        "node_records": nodes,
        **extra,
    }


def test_retries_and_loops_are_kept_apart() -> None:
    a = _record(
        [
            _node("build", 0, 2),
            _node("test", 2, 3),
            _node("test", 5, 3),  # loop iteration 2 (attempt 1 again)
            _node("ship", 8, 1),
        ]
    )
    b = _record(
        [
            _node("build", 0, 2, "FAILED", error={"code": "E1", "message": "x"}),
            {**_node("build", 3, 2), "attempt": 2},
            _node("test", 5, 4),
            _node("ship", 9, 1, ai_metadata={"cost_usd": 0.5}),
        ],
        workflow_hash="sha256:" + "b" * 64,
    )
    a["workflow_hash"] = "sha256:" + "a" * 64
    d = diff_records(record_from_dict(a), record_from_dict(b))
    rows = {r.key: r for r in d.rows}
    assert list(rows) == ["build", "test#1", "test#2", "ship"]
    assert rows["build"].attempts_b == ("FAILED", "COMPLETED") and rows["build"].retried
    assert rows["build"].duration_ms.a == 2000 and rows["build"].duration_ms.b == 5000
    assert rows["build"].duration_ms.percent == pytest.approx(150.0)
    assert rows["test#2"].only_in == "a" and rows["test#2"].looped
    assert rows["test#1"].duration_ms.absolute == 1000
    assert rows["ship"].cost_usd.absolute == pytest.approx(0.5)
    assert d.cost_usd.b == pytest.approx(0.5)
    assert d.attempts.a == 4 and d.attempts.b == 4
    assert any("workflow_hash" in w for w in d.warnings)
    assert not d.identical


def test_record_diff_cli(tmp_path: Path) -> None:
    a = _record([_node("build", 0, 2), _node("test", 2, 3)])
    b = _record([_node("build", 0, 2), _node("test", 2, 5)], workflow_id="other")
    pa = tmp_path / "a.osoplog.json"
    pa.write_text(json.dumps(a))
    pb = tmp_path / "b.osoplog.json"
    pb.write_text(json.dumps(b))
    same = run(str(pa), str(pa))
    assert same.exit_code == 0 and "identical" in same.output
    result = run(str(pa), str(pb))
    assert result.exit_code == 1
    assert "runs of different workflows" in result.output
    assert "duration 3s -> 5s +2s (+66.7%)" in result.output
    js = json.loads(run(str(pa), str(pb), "--format", "json").output)
    row = next(r for r in js["nodes"] if r["node_id"] == "test")
    assert row["duration_ms"] == {"a": 3000.0, "b": 5000.0, "delta": 2000.0, "delta_pct": 66.67}
    assert "| `test` |" in run(str(pa), str(pb), "--format", "markdown").output


# --- workflow vs record (should vs did) -------------------------------------------------

LINE = {
    "osop_version": "1.1",
    "id": "deploy-app",
    "name": "line",
    "nodes": [{"id": n, "type": "cli", "name": n} for n in ("build", "test", "ship")],
    "edges": [{"from": "build", "to": "test"}, {"from": "test", "to": "ship"}],
}


def test_fitness_formula() -> None:
    assert fitness(0, 5, 0, 5) == 1.0
    assert fitness(1, 3, 1, 3) == pytest.approx(2 / 3)
    assert fitness(0, 0, 0, 0) == 1.0


def test_skipped_step_figures() -> None:
    wf = workflow_from_dict(LINE)
    res = replay(wf, record_from_dict(_record([_node("build", 0, 1), _node("ship", 5, 1)])))
    # start→build; build→test produced, never consumed; ship misses test→ship.
    assert (res.produced, res.consumed, res.missing, res.remaining) == (3, 3, 1, 1)
    assert res.fitness == pytest.approx(2 / 3)
    kinds = {(d.kind, d.node_id) for d in res.deviations}
    assert kinds == {("order_violation", "ship"), ("not_run", "test")}


def test_ran_but_should_not_have() -> None:
    wf = workflow_from_dict(
        {
            **LINE,
            "edges": [
                {"from": "build", "to": "test", "mode": "conditional", "when": "x"},
                {"from": "test", "to": "ship", "mode": "fallback"},
            ],
        }
    )
    # test completed, so the fallback to ship is not taken: ship should not run
    rec = _record([_node("build", 0, 1), _node("test", 2, 1), _node("ship", 4, 1)])
    res = replay(wf, record_from_dict(rec))
    assert {(d.kind, d.node_id) for d in res.deviations} == {("unexpected", "ship")}
    assert (res.missing, res.remaining) == (1, 0)


def test_order_violation() -> None:
    wf = workflow_from_dict(LINE)
    rec = _record([_node("build", 0, 1), _node("ship", 2, 1), _node("test", 4, 1)])
    res = replay(wf, record_from_dict(rec))
    assert ("order_violation", "ship") in {(d.kind, d.node_id) for d in res.deviations}
    assert res.missing == 1 and res.remaining == 1 and res.fitness < 1


def test_conformant_runs_of_the_generator(tmp_path: Path) -> None:
    gen = generate(REVIEW_TREE, REVIEW_STEPS, 60, seed=5)
    wf_data = copy.deepcopy(gen.workflow)
    fetch = next(n for n in wf_data["nodes"] if n["id"] == "fetch")
    fetch["retry_policy"] = {"max_retries": 2, "strategy": "fixed", "backoff_sec": 1}
    wf = workflow_from_dict(wf_data)
    results = [replay(wf, record_from_dict(r)) for r in gen.records]
    assert all(r.fitness == 1.0 and r.conformant for r in results), [
        r.deviations for r in results if not r.conformant
    ]
    # without the retry policy the retries are unexplained
    bare = workflow_from_dict(gen.workflow)
    flagged = [replay(bare, record_from_dict(r)) for r in gen.records]
    retried = sum(
        1 for t in gen.truth for e in t.executions if e.node_id == "fetch" and len(e.attempts) > 1
    )
    assert retried > 0
    assert sum(1 for r in flagged for d in r.deviations if d.kind == "unexplained_retry") == retried

    wf_path = _write(tmp_path / "wf.osop", wf_data)
    logs = tmp_path / "logs"
    logs.mkdir()
    for i, rec in enumerate(gen.records[:5]):
        (logs / f"{i}.osoplog.json").write_text(json.dumps(rec))
    ok = run(wf_path, str(logs))
    assert ok.exit_code == 0, ok.output
    assert "records 5, conformant 5, log fitness 1.000" in ok.output


def test_early_join_and_foreign_node() -> None:
    gen = generate(REVIEW_TREE, REVIEW_STEPS, 1, seed=11)
    wf = workflow_from_dict(gen.workflow)
    rec = copy.deepcopy(gen.records[0])
    by_id = {r["node_id"]: r for r in rec["node_records"]}
    # ai_review (the join of lint and unit_tests→build) starts before build ends
    by_id["lint"]["ended_at"] = by_id["build"]["started_at"]  # lint's branch is done
    by_id["ai_review"]["started_at"] = by_id["build"]["started_at"]
    rec["node_records"].append({**by_id["lint"], "node_id": "intruder"})
    res = replay(wf, record_from_dict(rec))
    kinds = {(d.kind, d.node_id) for d in res.deviations}
    assert ("early_join", "ai_review") in kinds
    assert ("not_in_workflow", "intruder") in kinds
    assert res.fitness < 1.0


@pytest.mark.parametrize(
    "stem",
    [
        "osop-examples__claude-code-session__fix-auth-bug@129b19ee64",
        "osop-examples__compliance__eu-ai-act-high-risk",
    ],
)
def test_corpus_records_conform_to_their_workflows(stem: str) -> None:
    corpus = CORPUS
    wf, log = corpus / f"{stem}.osop", corpus / f"{stem}.osoplog.yaml"
    if not (wf.exists() and log.exists()):
        pytest.skip(f"corpus pair {stem} not present")
    result = run(str(wf), str(log), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"]["log_fitness"] == 1.0
    assert data["records"][0]["tokens"]["missing"] == 0


def _wf(nodes: list[str], edges: list[dict[str, Any]]) -> Any:
    return workflow_from_dict(
        {"id": "deploy-app", "nodes": [{"id": n, "type": "cli"} for n in nodes], "edges": edges}
    )


def test_handled_failure_through_fallback_conforms() -> None:
    wf = _wf(
        ["build", "ship", "rollback"],
        [{"from": "build", "to": "ship"}, {"from": "build", "to": "rollback", "mode": "fallback"}],
    )
    rec = _record([_node("build", 0, 1, "FAILED"), _node("rollback", 2, 1)])
    res = replay(wf, record_from_dict(rec))
    assert res.conformant and res.fitness == 1.0
    # the fallback step running although the build succeeded is a deviation
    bad = _record([_node("build", 0, 1), _node("ship", 2, 1), _node("rollback", 4, 1)])
    assert {d.kind for d in replay(wf, record_from_dict(bad)).deviations} == {"unexpected"}


def test_loop_iterations_conform() -> None:
    wf = _wf(
        ["start", "work", "check", "done"],
        [
            {"from": "start", "to": "work"},
            {"from": "work", "to": "check"},
            {"from": "check", "to": "work", "mode": "loop", "when": "again"},
            {"from": "check", "to": "done"},
        ],
    )
    nodes = [_node("start", 0, 1)]
    t = 1
    for _ in range(3):
        nodes += [_node("work", t, 1), _node("check", t + 1, 1)]
        t += 2
    nodes.append(_node("done", t, 1))
    res = replay(wf, record_from_dict(_record(nodes)))
    assert res.conformant, res.deviations
    assert (res.missing, res.remaining) == (0, 0)


def test_switch_takes_exactly_the_branch_that_ran() -> None:
    wf = _wf(
        ["route", "a", "b", "end"],
        [
            {
                "from": "route",
                "to": "a",
                "mode": "switch",
                "when": "kind",
                "cases": [{"value": "x", "to": "a"}, {"value": "y", "to": "b"}],
            },
            {"from": "a", "to": "end"},
            {"from": "b", "to": "end"},
        ],
    )
    rec = _record([_node("route", 0, 1), _node("b", 2, 1), _node("end", 4, 1)])
    res = replay(wf, record_from_dict(rec))
    assert res.conformant, res.deviations


def test_failed_run_that_stopped_is_not_blamed_for_what_it_skipped() -> None:
    wf = workflow_from_dict(LINE)
    rec = _record([_node("build", 0, 1), _node("test", 2, 1, "FAILED")], status="FAILED")
    res = replay(wf, record_from_dict(rec))
    assert res.conformant and res.fitness == 1.0
    # a COMPLETED run missing its last step is not
    rec = _record([_node("build", 0, 1), _node("test", 2, 1)])
    res = replay(wf, record_from_dict(rec))
    assert not res.conformant and {d.kind for d in res.deviations} == {"not_run"}


def test_status_class_retry_is_explained() -> None:
    """`retryable_errors: ["5xx"]` (seed 002 §9) explains a retried HTTP_503."""
    wf = workflow_from_dict(
        {
            **LINE,
            "nodes": [
                {**n, "retry": {"max_attempts": 3, "retryable_errors": ["5xx"]}}
                if n["id"] == "build"
                else n
                for n in LINE["nodes"]
            ],
        }
    )

    def run_with(code: str) -> set[tuple[str, str]]:
        failed = _node("build", 0, 1, "FAILED", error={"code": code, "message": "x"})
        retried = _node("build", 1, 1, attempt=2)
        rec = _record([failed, retried, _node("test", 2, 1), _node("ship", 4, 1)])
        return {(d.kind, d.node_id) for d in replay(wf, record_from_dict(rec)).deviations}

    assert ("unexplained_retry", "build") not in run_with("HTTP_503")
    assert ("unexplained_retry", "build") in run_with("HTTP_404")
