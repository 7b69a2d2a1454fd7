"""The improvement loop closes: evidence rules, runnable output, the iteration record.

Records come from the seeded generator (known answers) or from live runs of
harmless shell commands; every figure asserted is derived from what was planted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from osop.analysis.synthesize import improve
from osop.cli.main import cli
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict

from .generator import Par, Seq, Step, Task, generate, workflow_dict


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _records(tree: Any, steps: list[Step], n: int, seed: int) -> list[Any]:
    return [record_from_dict(r) for r in generate(tree, steps, n, seed=seed).records]


# -- add_retry fires on the evidence there is ---------------------------------------------


def test_flaky_step_without_retries_gets_a_retry_with_the_expected_rate() -> None:
    steps = [
        Step("build"),
        Step("upload", "api", fatal_failure_rate=0.33, error=("HTTP_503", "service unavailable")),
        Step("notify"),
    ]
    tree = Seq((Task("build"), Task("upload"), Task("notify")))
    gen = generate(tree, steps, 90, seed=4)
    records = [record_from_dict(r) for r in gen.records]
    result = improve(workflow_from_dict(gen.workflow), records)
    retry = next(p for p in result.proposals if p.type == "add_retry")
    assert retry.target == "upload"
    uploads = [e for t in gen.truth for e in t.executions if e.node_id == "upload"]
    failed = sum(1 for e in uploads if e.attempts[-1][0] == "FAILED")
    p = failed / len(uploads)  # no retries: one attempt per execution
    assert retry.evidence["transient_failures"] == 0  # no retry ever happened
    assert retry.evidence["attempt_failure_rate"] == round(p, 4)
    assert retry.evidence["success_rate_before"] == round(1 - p, 4)
    assert retry.evidence["success_rate_after"] == round(1 - p**3, 4)
    assert result.after.expected_success_rate > result.before.expected_success_rate
    # a permanent-looking error (a lock that stays) gets no retry
    steps[1] = Step("upload", "api", fatal_failure_rate=0.33, error=("E_LOCK", "table locked"))
    gen = generate(tree, steps, 90, seed=4)
    result = improve(workflow_from_dict(gen.workflow), [record_from_dict(r) for r in gen.records])
    assert not [p for p in result.proposals if p.type == "add_retry"]


# -- parallelize: gates never, both orders first -------------------------------------------


def test_a_gate_is_never_parallelised_and_a_pair_seen_in_both_orders_is() -> None:
    steps = [
        Step("check", fatal_failure_rate=0.2, error=("E_CONFIG", "bad configuration")),
        Step("deploy"),
        Step("scan_a"),
        Step("scan_b"),
        Step("publish"),
    ]
    # records: scan_a and scan_b ran in parallel (both orders); the base says a → b
    seen = Seq(
        (Task("check"), Task("deploy"), Par((Task("scan_a"), Task("scan_b"))), Task("publish"))
    )
    base_tree = Seq(
        (Task("check"), Task("deploy"), Task("scan_a"), Task("scan_b"), Task("publish"))
    )
    gen = generate(seen, steps, 60, seed=11)
    base = workflow_from_dict(workflow_dict(base_tree, steps, "generated-process", "1.0.0"))
    result = improve(base, [record_from_dict(r) for r in gen.records])
    pairs = [p for p in result.proposals if p.type == "parallelize"]
    assert pairs, "the pair seen in both orders must be parallelised"
    first = pairs[0]
    assert first.target == ["scan_a", "scan_b"] and first.evidence["seen_in_both_orders"]
    assert first.evidence["scan_a_first"] > 0 and first.evidence["scan_b_first"] > 0
    targets = [tuple(p.target) for p in pairs]
    assert ("check", "deploy") not in targets  # check failed and deploy never ran: a gate


# -- runnable output -------------------------------------------------------------------------


def _live_records(tmp_path: Path, workflow: Path, runs: int) -> Path:
    store = tmp_path / "store"
    for _ in range(runs):
        result = _invoke("run", workflow, "--store", store)
        assert result.exit_code in (0, 1), result.output
    return store


FLAKY = """\
# A release with a flaky upload (a comment the synthesis must keep)
osop_version: "1.1"
id: flaky-release
name: Flaky release
version: "1.0.0"
nodes:
  - id: build
    type: cli
    name: Build   # trailing comment
    runtime: {command: "echo built"}
  - id: upload
    type: cli
    name: Upload
    runtime:
      command: >-
        n=$(cat counter 2>/dev/null || echo 0); echo $((n + 1)) > counter;
        if [ $((n % 3)) -eq 1 ]; then echo "connection reset by peer" >&2; exit 1; fi;
        echo uploaded
  - id: notify
    type: cli
    name: Notify
    runtime: {command: "echo notified"}
edges:
  - {from: build, to: upload}
  - {from: upload, to: notify}
"""


@pytest.mark.slow
def test_define_run_synthesize_approve_apply_run_again(tmp_path: Path, monkeypatch: Any) -> None:
    """The whole loop through the CLI, live, with harmless commands."""
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "flaky.osop.yaml"
    workflow.write_text(FLAKY)
    store = _live_records(tmp_path, workflow, 9)
    before = json.loads(_invoke("stats", store, "--format", "json").output)["workflows"]
    assert before[0]["total_runs"] == 9 and before[0]["success_rate"] == pytest.approx(6 / 9)

    better, insights = tmp_path / "better.osop.yaml", tmp_path / "iteration.yaml"
    result = _invoke(
        "synthesize", store, "--base", workflow, "-o", tmp_path / "proposal.osop.yaml",
        "--insights", insights,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "based on 9 record(s) (9 live)" in result.output
    record = yaml.safe_load(insights.read_text())["iteration"]
    assert record["status"] == "proposed"
    ids = [c["id"] for c in record["proposed_changes"]]
    assert "add_retry:upload" in ids
    retry = next(c for c in record["proposed_changes"] if c["id"] == "add_retry:upload")
    assert retry["evidence"]["success_rate_after"] == pytest.approx(1 - (3 / 9) ** 3, abs=1e-4)

    nothing = _invoke("iteration", "apply", insights, "-o", better)
    assert nothing.exit_code == 0 and "nothing to apply" in nothing.output
    assert not better.exists()
    others = [i for i in ids if i != "add_retry:upload"]
    if others:
        assert _invoke("iteration", "reject", insights, *others).exit_code == 0
    approved = _invoke("iteration", "approve", insights, "add_retry:upload", "--actor", "ops")
    assert approved.exit_code == 0, approved.output
    applied = _invoke("iteration", "apply", insights, "-o", better)
    assert applied.exit_code == 0, applied.output
    text = better.read_text()
    assert "# A release with a flaky upload" in text and "# trailing comment" in text
    assert "retry_policy" in text and 'version: "1.1.0"' in text
    final = yaml.safe_load(insights.read_text())["iteration"]
    assert final["status"] == "applied" and final["applied"]["changes"] == ["add_retry:upload"]

    # run the applied version: the upload now survives its flaky attempts
    for _ in range(6):
        assert _invoke("run", better, "--store", store).exit_code == 0
    after = json.loads(_invoke("stats", store, "--format", "json").output)["workflows"]
    versions = {w["workflow_version"]: w for w in after}
    assert versions["1.1.0"]["success_rate"] == 1.0
    assert versions["1.1.0"]["success_rate"] > versions["1.0.0"]["success_rate"]
    failed = next(
        p.parent.name
        for p in sorted((store / "runs").glob("*/record.osoplog.json"))
        if json.loads(p.read_text())["status"] == "FAILED"
    )
    improved = next(
        p.parent.name
        for p in sorted((store / "runs").glob("*/record.osoplog.json"))
        if json.loads(p.read_text()).get("workflow_version") == "1.1.0"
    )
    diff = _invoke("diff", failed[:8], improved[:8], "--store", store)
    assert diff.exit_code == 1 and "FAILED -> COMPLETED" in diff.output


def test_synthesize_without_a_change_writes_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "steady.osop.yaml"
    workflow.write_text(FLAKY.replace("$((n % 3)) -eq 1", "1 -eq 0"))
    store = _live_records(tmp_path, workflow, 4)  # under every rule's minimum of 5 runs
    out = tmp_path / "out.osop.yaml"
    result = _invoke("synthesize", store, "--base", workflow, "-o", out)
    assert result.exit_code == 0, result.output
    assert "no change proposed" in result.output and not out.exists()


def test_precheck_runs_the_check_the_failures_point_at(tmp_path: Path, monkeypatch: Any) -> None:
    """A step failing on a missing file gets a cli pre-check that tests for that file."""
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "needs-config.osop.yaml"
    workflow.write_text(
        FLAKY.replace("id: flaky-release", "id: needs-config").replace(
            """command: >-
        n=$(cat counter 2>/dev/null || echo 0); echo $((n + 1)) > counter;
        if [ $((n % 3)) -eq 1 ]; then echo "connection reset by peer" >&2; exit 1; fi;
        echo uploaded""",
            "command: cat deploy.conf",
        )
    )
    store = _live_records(tmp_path, workflow, 5)
    out = tmp_path / "better.osop.yaml"
    result = _invoke("synthesize", store, "--base", workflow, "-o", out)
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text())
    check = next(n for n in data["nodes"] if n["id"] == "upload_precheck")
    assert check["type"] == "cli" and "test -e deploy.conf" in check["runtime"]["command"]
    # the output runs: simulated, and live (the check stops the run early, clearly)
    assert _invoke("run", out, "--mode", "simulated", "--store", tmp_path / "s").exit_code == 0
    live = _invoke("run", out, "--store", tmp_path / "s")
    assert live.exit_code == 1
    assert "deploy.conf exists is required" in live.output
    (tmp_path / "deploy.conf").write_text("ok\n")
    assert _invoke("run", out, "--store", tmp_path / "s").exit_code == 0


# -- the right runs ---------------------------------------------------------------------------


def test_analyses_use_live_records_and_say_which(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "steady.osop.yaml"
    workflow.write_text(FLAKY.replace("$((n % 3)) -eq 1", "1 -eq 0"))
    store = tmp_path / "store"
    assert _invoke("run", workflow, "--store", store).exit_code == 0
    for mode in ("simulated", "dry_run"):
        assert _invoke("run", workflow, "--store", store, "--mode", mode).exit_code == 0
    text = _invoke("stats", store).output
    assert "based on 1 record(s) (1 live); left out 1 dry_run, 1 simulated" in text
    data = json.loads(_invoke("stats", store, "--format", "json", "--mode", "all").output)
    assert data["workflows"][0]["total_runs"] == 3
    assert data["selection"]["used_by_mode"] == {"dry_run": 1, "live": 1, "simulated": 1}
    # a record of another workflow beside them is left out of `diff WF RUNS`, and said so
    other = tmp_path / "other.osop.yaml"
    other.write_text(
        FLAKY.replace("id: flaky-release", "id: other-flow").replace("1 -eq 1", "1 -eq 0")
    )
    _invoke("run", other, "--store", store)
    conformance = _invoke("diff", workflow, store / "runs", "--format", "json")
    summary = json.loads(conformance.output)
    assert summary["summary"]["records"] == 1
    assert summary["selection"]["left_out_other_workflows"] == {"other-flow": 1}
    # a run id (prefix) stands for its record everywhere a record is accepted
    run_id = next((store / "runs").iterdir()).name
    for args in (
        ("stats", run_id[:8], "--mode", "all"),
        ("export", run_id[:8], "--to", "xes", "-o", tmp_path / "x.xes", "--mode", "all"),
        ("diff", run_id[:8], run_id[:8]),
    ):
        result = _invoke(*args, "--store", store)
        assert result.exit_code == 0, (args, result.output)
    missing = _invoke("stats", "no-such-run", "--store", store)
    assert missing.exit_code == 2 and "not a run" in missing.output


def test_mcp_stats_and_diff_take_run_ids(tmp_path: Path) -> None:
    import asyncio

    from osop.mcp.server import OsopTools

    workflow = tmp_path / "steady.osop.yaml"
    workflow.write_text(FLAKY.replace("$((n % 3)) -eq 1", "1 -eq 0"))
    tools = OsopTools(tmp_path / "store", tmp_path)
    run = asyncio.run(tools.run(str(workflow), mode="live"))
    stats = tools.stats([run["run_id"][:8]])
    assert stats["selection"]["used_by_mode"] == {"live": 1}
    assert tools.diff(str(workflow), run["run_id"])["summary"]["records"] == 1


def test_inferred_workflow_carries_runtimes_and_fallbacks_and_runs(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "with-fallback.osop.yaml"
    alert = """  - id: alert
    type: cli
    name: Alert
    runtime: {command: "echo upload failed, alerting"}
edges:
"""
    text = FLAKY.replace("id: flaky-release", "id: with-fallback").replace("edges:\n", alert)
    workflow.write_text(text + "  - {from: upload, to: alert, mode: fallback}\n")
    store = _live_records(tmp_path, workflow, 9)
    out = tmp_path / "inferred.osop.yaml"
    result = _invoke("synthesize", store, "-o", out)
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text())
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["build"]["runtime"]["command"] == "echo built"
    assert "connection reset by peer" in nodes["upload"]["runtime"]["command"]
    modes = {(e["from"], e["to"]): e.get("mode", "sequential") for e in data["edges"]}
    assert modes[("upload", "alert")] == "fallback"
    assert _invoke("run", out, "--mode", "simulated", "--store", tmp_path / "s").exit_code == 0
    live = [_invoke("run", out, "--store", tmp_path / "s").exit_code for _ in range(3)]
    assert set(live) <= {0, 1} and 0 in live
    # records from elsewhere (no copy of the definition beside them) say what is missing
    loose = tmp_path / "loose"
    loose.mkdir()
    for i, record in enumerate(sorted((store / "runs").glob("*/record.osoplog.json"))):
        (loose / f"{i}.osoplog.json").write_text(record.read_text())
    result = _invoke("synthesize", loose, "-o", tmp_path / "bare.osop.yaml")
    assert result.exit_code == 0 and "no definition was recorded for" in result.output


# -- runs you want to look at --------------------------------------------------------------


def test_runs_newest_first_with_a_header_and_colours_on_demand(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    workflow = tmp_path / "steady.osop.yaml"
    workflow.write_text(FLAKY.replace("$((n % 3)) -eq 1", "1 -eq 0"))
    store = tmp_path / "store"
    for _ in range(2):
        assert _invoke("run", workflow, "--store", store).exit_code == 0
    listing = _invoke("runs", "--store", store).output.splitlines()
    assert listing[0].split() == ["RUN", "STATUS", "MODE", "STARTED", "WORKFLOW"]
    started = [line.split()[3] for line in listing[1:]]
    assert started == sorted(started, reverse=True) and len(started) == 2
    run_id = listing[1].split()[0]
    coloured = _invoke("report", run_id, "--store", store, "--format", "ansi").output
    assert "\x1b[32m" in coloured  # kept although the output is not a terminal
    plain = _invoke("report", run_id, "--store", store, "--format", "ansi", "--color", "never")
    assert "\x1b[" not in plain.output and "PASS" in plain.output
    # the document's Runs tab lists the runs from the store too
    page = tmp_path / "page.html"
    assert _invoke("render", workflow, "-o", page, "--store", store).exit_code == 0
    html = page.read_text()
    assert html.count(f"run {run_id}") == 1
