"""Edge cases found by using the analysis commands on engine records.

Engine timestamps have millisecond resolution and simulated steps take no time,
so many executions share one instant; durations are often below a millisecond.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from osop.analysis.conformance import replay
from osop.analysis.diff_format import format_diff
from osop.analysis.diff_records import diff_records
from osop.analysis.infer import infer_workflow
from osop.analysis.records import duration_text
from osop.analysis.stats import compute_stats
from osop.analysis.stats_text import format_stats_text
from osop.analysis.synthesize import synthesize
from osop.cli.main import cli
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict
from osop.render.report import render_report

T0 = "2026-01-01T00:00:00"


def _at(ms: float) -> str:
    return f"{T0}.{int(ms):03d}Z"


def _node(node_id: str, start_ms: float, dur_ms: float, node_type: str = "cli") -> dict[str, Any]:
    """A node record; ``dur_ms`` < 1 ends in the millisecond it started."""
    return {
        "node_id": node_id,
        "node_type": node_type,
        "attempt": 1,
        "status": "COMPLETED",
        "started_at": _at(start_ms),
        "ended_at": _at(start_ms + dur_ms),
        "duration_ms": dur_ms,
    }


def _record(
    nodes: list[dict[str, Any]], run: int = 1, workflow_id: str = "ship-it", **extra: Any
) -> dict[str, Any]:
    end = max(float(n.get("ended_at", n["started_at"])[-4:-1]) for n in nodes)
    return {
        "osoplog_version": "1.0",
        "run_id": f"00000000-0000-4000-8000-{run:012d}",
        "workflow_id": workflow_id,
        "workflow_version": "1.0.0",
        "status": "COMPLETED",
        "started_at": _at(0),
        "ended_at": _at(end),
        "duration_ms": end,
        "node_records": nodes,
        **extra,
    }


def _wf(nodes: list[str], edges: list[dict[str, Any]], wf_id: str = "ship-it") -> dict[str, Any]:
    return {
        "osop_version": "1.1",
        "id": wf_id,
        "name": "Ship it",
        "version": "1.0.0",
        "nodes": [{"id": n, "type": "cli", "name": n.title()} for n in nodes],
        "edges": edges,
    }


# --- durations read by people -----------------------------------------------------------


def test_duration_text_shrinks_the_unit_below_a_second() -> None:
    assert duration_text(0) == "0s"
    assert duration_text(1.67e-05) == "17µs"
    assert duration_text(0.00767) == "7.7ms"
    assert duration_text(0.0443) == "44ms"
    assert duration_text(0.9996) == "1s"  # rounding never shows 1000ms
    assert duration_text(0.0009996) == "1.0ms"
    assert duration_text(1.31) == "1.31s"
    assert duration_text(185) == "3m 5s"
    assert duration_text(None) == duration_text(-1) == duration_text(float("nan")) == "-"
    # a record claiming a near-float-max duration is shown, not an OverflowError
    assert duration_text(1.797693134862316e302).endswith("d 23h")


def _fast_records() -> list[dict[str, Any]]:
    return [
        _record([_node("build", 0, 7.67), _node("test", 8, 0.0167)], run=1),
        _record([_node("build", 0, 7.71), _node("test", 8, 0.0203)], run=2),
    ]


def test_stats_text_has_no_scientific_or_long_decimal_durations() -> None:
    text = format_stats_text(compute_stats(record_from_dict(r) for r in _fast_records()))
    assert "e-0" not in text and "0.00" not in text.replace("$0.0000", "").replace("0.0000", "")
    build = next(line for line in text.splitlines() if line.strip().startswith("build"))
    assert "7.7ms" in build
    test = next(line for line in text.splitlines() if line.strip().startswith("test "))
    assert "17µs" in test or "18µs" in test


def test_record_diff_text_uses_the_same_duration_format() -> None:
    a, b = (record_from_dict(r) for r in _fast_records())
    text = format_diff(diff_records(a, b, "a", "b"))
    assert "duration 7.7ms -> 7.7ms +40µs" in text
    assert "duration 17µs -> 20µs +4µs" in text
    assert "0ms -> 0ms" not in text


# --- instants: several executions in one millisecond -------------------------------------


def test_instant_step_before_a_long_one_is_inferred_in_order() -> None:
    # a human answered instantly, then deploy ran: same start millisecond
    records = [
        record_from_dict(
            _record(
                [
                    _node("build", 0, 40),
                    _node("approve", 41, 0.1, "human"),
                    _node("deploy", 41, 900),
                ],
                run=i,
            )
        )
        for i in range(3)
    ]
    edges = infer_workflow(records).workflow["edges"]
    assert {"from": "approve", "to": "deploy"} in edges
    assert all(e.get("mode") != "parallel" for e in edges)


def test_chain_of_instant_steps_is_inferred_in_record_order() -> None:
    records = [
        record_from_dict(_record([_node(n, 5, 0.02) for n in ("a", "b", "c")], run=i))
        for i in range(3)
    ]
    edges = infer_workflow(records).workflow["edges"]
    assert edges == [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}]


def test_instant_loop_iterations_replay_without_deviation() -> None:
    wf = workflow_from_dict(
        _wf(
            ["start", "each", "done"],
            [
                {"from": "start", "to": "each"},
                {"from": "each", "to": "each", "mode": "loop", "when": "true", "max_iterations": 3},
                {"from": "each", "to": "done"},
            ],
        )
    )
    nodes = [_node("start", 0, 2)] + [_node("each", 2, 0.02) for _ in range(3)]
    nodes.append(_node("done", 2, 0.02))
    res = replay(wf, record_from_dict(_record(nodes)))
    assert res.conformant, res.deviations
    assert (res.missing, res.remaining) == (0, 0)


def test_instant_sequence_replays_in_record_order() -> None:
    wf = workflow_from_dict(
        _wf(["a", "b", "c"], [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}])
    )
    res = replay(wf, record_from_dict(_record([_node(n, 5, 0.02) for n in ("a", "b", "c")])))
    assert res.conformant, res.deviations


# --- records of several workflows, copies, broken files ---------------------------------


def _flow_records(workflow_id: str, first_run: int, count: int) -> list[dict[str, Any]]:
    return [
        _record(
            [_node("fetch", 0, 10), _node("store", 11, 10)],
            run=first_run + i,
            workflow_id=workflow_id,
        )
        for i in range(count)
    ]


def test_synthesize_without_base_learns_from_one_workflow_and_says_so() -> None:
    # a snake_case id is made kebab-case in the inferred workflow: still matched
    mine = _flow_records("my_flow", 1, 3)
    other = [
        _record([_node("x", 0, 5), _node("y", 6, 5)], run=10 + i, workflow_id="other")
        for i in range(2)
    ]
    result = synthesize([record_from_dict(r) for r in mine + other])
    assert result.workflow["id"] == "my-flow"
    assert len(result.based_on_runs) == 3
    assert any(
        "left out 2 record(s) of other workflows ('other' (2))" in w for w in result.warnings
    )
    assert result.iteration_record()["iteration"]["warnings"] == result.warnings


def test_synthesize_cli_warns_about_other_workflows(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i, rec in enumerate(_flow_records("flow-a", 1, 3) + _flow_records("flow-b", 20, 1)):
        (logs / f"r{i}.osoplog.json").write_text(json.dumps(rec))
    out = tmp_path / "new.osop.yaml"
    result = CliRunner().invoke(cli, ["synthesize", str(logs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: left out 1 record(s) of other workflows ('flow-b' (1))" in result.stderr
    assert "critical path  20ms -> 20ms" in result.stdout
    assert yaml.safe_load(out.read_text())["id"] == "flow-a"


def test_copies_of_a_record_count_once(tmp_path: Path) -> None:
    records = _flow_records("flow-a", 1, 2)
    (tmp_path / "copy").mkdir()
    for i, rec in enumerate(records):
        (tmp_path / f"r{i}.osoplog.json").write_text(json.dumps(rec))
        (tmp_path / "copy" / f"r{i}.osoplog.yaml").write_text(yaml.safe_dump(rec))
    # same run id, other content (an edited record): both kept
    edited = dict(records[0], status="FAILED")
    (tmp_path / "edited.osoplog.json").write_text(json.dumps(edited))
    result = CliRunner().invoke(cli, ["stats", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["workflows"][0]["total_runs"] == 3
    assert result.stderr.count("counted once") == 2


def test_diff_skips_an_unreadable_record_found_in_a_folder(tmp_path: Path) -> None:
    wf = tmp_path / "flow.osop.yaml"
    wf.write_text(
        yaml.safe_dump(_wf(["fetch", "store"], [{"from": "fetch", "to": "store"}], "flow-a"))
    )
    logs = tmp_path / "logs"
    (logs / ".store").mkdir(parents=True)
    (logs / "good.osoplog.json").write_text(json.dumps(_flow_records("flow-a", 1, 1)[0]))
    (logs / "broken.osoplog.yaml").write_text("node_records: [\n")
    # hidden folders (a run store) are not searched, as in the other commands
    (logs / ".store" / "hidden.osoplog.yaml").write_text("node_records: [\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["diff", str(wf), str(logs)])
    assert result.exit_code == 0, result.output
    assert "records 1, conformant 1" in result.stdout
    assert "warning: skipped" in result.stderr and "broken.osoplog.yaml" in result.stderr
    assert "hidden" not in result.stderr
    # named on its own, a broken record is an error
    named = runner.invoke(cli, ["diff", str(wf), str(logs / "broken.osoplog.yaml")])
    assert named.exit_code == 2 and named.stderr.startswith("Error:")


# --- reports --------------------------------------------------------------------------


def test_report_of_a_paused_run_does_not_call_the_rest_skipped() -> None:
    wf = workflow_from_dict(
        _wf(["prep", "ask", "go"], [{"from": "prep", "to": "ask"}, {"from": "ask", "to": "go"}])
    )
    waiting = dict(_node("ask", 3, 0), status="WAITING")
    del waiting["ended_at"], waiting["duration_ms"]
    rec = _record([_node("prep", 0, 2), waiting], status="RUNNING")
    del rec["ended_at"], rec["duration_ms"]
    text = render_report(wf, record_from_dict(rec), "text")
    assert "RUNNING, not finished: 1 passed, 0 failed, 0 skipped, 1 in progress" in text
    assert "[SKIP]" not in text and "[PLAN] Go" in text and "not run yet" in text
    assert "not run yet" in render_report(wf, record_from_dict(rec), "html")
    # a run that ended without the step: skipped, as before
    done = _record([_node("prep", 0, 2), _node("ask", 3, 1)], status="FAILED")
    ended = render_report(wf, record_from_dict(done), "text")
    assert "[SKIP] Go" in ended and "not run yet" not in ended


def test_report_of_a_record_alone_names_the_workflow_once() -> None:
    text = render_report(None, record_from_dict(_fast_records()[0]), "text")
    assert "Workflow   ship-it 1.0.0\n" in text


def test_report_escapes_terminal_control_characters_from_the_record() -> None:
    node = _node("step", 0, 5)
    node["outputs"] = {"log\x1b[2J": "done\x1b[31m red \x00 \u202eevil", "ok": "日本語 é"}
    node["error"] = "bad\x07bell"
    text = render_report(None, record_from_dict(_record([node])), "text")
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text and "\x07" not in text
    assert "log\\x1b[2J: done\\x1b[31m red \\x00 \\u202eevil" in text
    assert "日本語 é" in text and "bad\\x07bell" in text
    ansi = render_report(None, record_from_dict(_record([node])), "ansi")
    assert "\x1b[2J" not in ansi and "\x1b[31m red" not in ansi


def test_an_empty_folder_says_what_was_looked_for(tmp_path: Path) -> None:
    for command in (["stats"], ["export", "--to", "xes", "-o", str(tmp_path / "x.xes")]):
        result = CliRunner().invoke(cli, [*command, str(tmp_path)])
        assert result.exit_code == 1
        assert "no execution record found in" in result.stderr and "*.osoplog" in result.stderr


def test_record_then_workflow_suggests_the_right_order(tmp_path: Path) -> None:
    wf = tmp_path / "flow.osop.yaml"
    wf.write_text(yaml.safe_dump(_wf(["fetch", "store"], [{"from": "fetch", "to": "store"}])))
    log = tmp_path / "run.osoplog.json"
    log.write_text(json.dumps(_flow_records("ship-it", 1, 1)[0]))
    result = CliRunner().invoke(cli, ["diff", str(log), str(wf)])
    assert result.exit_code == 2
    assert f"give the workflow first: osop diff {wf} {log}" in result.stderr


def test_deeply_nested_yaml_record_is_an_error_not_a_crash(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "deep.osoplog.yaml"
    path.write_text('osoplog_version: "1.0"\nnode_records: ' + "[" * 100_000 + "]" * 100_000)
    result = subprocess.run(
        [sys.executable, "-m", "osop", "stats", str(path)], capture_output=True, text=True
    )
    assert result.returncode in (1, 2), result.returncode  # not a signal (segfault: -11)
    assert "too-deep" in result.stderr or "deeper" in result.stderr
