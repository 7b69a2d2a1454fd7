"""The engine core alone, per node, against bare asyncio in the same run.

    python bench/bench_core.py [--quick | --smoke]

:class:`osop.engine.core.Core` decides a no-op chain and a fan-out/fan-in event by
event with no host around it: no event loop, no journal file, no record.  Each
decision's entries are encoded as the host encodes them (``to_dict``), and each
attempt the core starts is reported back at once as completed with the outputs
``{"n": 1}`` (what the no-op executor of ``bench_engine.py`` returns).  Two figures
per shape, CPU time per node:

- **setup**: building the core for the workflow (its topology, the per-run facts)
  and deciding ``Begin`` (the frontier);
- **decisions**: every later decision, attempt by attempt.

The baseline is ``bench_engine.py``'s: a bare asyncio loop awaiting one task per
node, measured in the same run, rounds alternating with the core's.  The ratio
says how much of the engine's goal (the whole engine within 5× bare asyncio per
node) the core alone takes.  Only the core's public API is used, so the script
also measures another tree's core: ``--tree PATH`` (a checkout of another revision).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# The tree whose engine is measured: ``--tree PATH``, else the one this script is in.
sys.path.insert(
    0,
    sys.argv[sys.argv.index("--tree") + 1]
    if "--tree" in sys.argv[:-1]
    else str(Path(__file__).resolve().parent.parent),
)

from _bare_asyncio import bare_chain

from osop.engine import protocol
from osop.engine.core import Core, CoreSettings
from osop.engine.entries import Run
from osop.engine.state import RunState
from osop.engine.values import Redactor
from osop.format.workflow import Workflow, workflow_from_dict

AT = "2026-01-01T00:00:01.000000Z"


def chain(n: int) -> Workflow:
    return workflow_from_dict(
        {
            "id": "chain",
            "name": "chain",
            "nodes": [{"id": f"n{i}", "type": "cli"} for i in range(n)],
            "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(n - 1)],
        }
    )


def fan(width: int) -> Workflow:
    nodes = [{"id": "start", "type": "cli"}]
    nodes += [{"id": f"b{i}", "type": "cli"} for i in range(width)]
    nodes.append({"id": "join", "type": "cli"})
    edges = [{"from": "start", "to": f"b{i}", "mode": "parallel"} for i in range(width)]
    edges += [{"from": f"b{i}", "to": "join"} for i in range(width)]
    return workflow_from_dict({"id": "fan", "name": "fan", "nodes": nodes, "edges": edges})


def decide_run(workflow: Workflow) -> tuple[float, float, int]:
    """(setup CPU s, decisions CPU s, attempts) of one simulated run decided by the core."""
    state = RunState()
    start = time.process_time()
    settings = CoreSettings(run_id="r", mode="simulated", seed=1, env={"PATH": "/bin"})
    core = Core(workflow, state, settings, Redactor())
    core.note(Run(meta={"run_id": "r", "started_at": AT, "seed": 1, "mode": "simulated"}))
    decision = core.decide(protocol.Begin(at=AT))
    for entry in decision.entries:
        entry.to_dict()
    pending = [c for c in decision.commands if isinstance(c, protocol.StartAttempt)]
    setup = time.process_time() - start
    attempts = 0
    start = time.process_time()
    while pending:
        command = pending.pop()
        report = protocol.AttemptFinished(
            node=command.node,
            attempt=command.attempt,
            iteration=command.iteration,
            at=AT,
            status="COMPLETED",
            duration_ms=0.01,
            outputs={"n": 1},
            returned=True,
        )
        decision = core.decide(report)
        for entry in decision.entries:
            entry.to_dict()
        pending.extend(c for c in decision.commands if isinstance(c, protocol.StartAttempt))
        attempts += 1
    decisions = time.process_time() - start
    assert core.phase == "over", core.phase
    return setup, decisions, attempts


def measure(name: str, workflow: Workflow, nodes: int, repeat: int) -> None:
    core: list[tuple[float, float, int]] = []
    bare: list[float] = []
    for _ in range(repeat):  # alternating: a neighbour's load weighs on both alike
        core.append(decide_run(workflow))
        bare.append(bare_chain(nodes))
    assert all(run[2] == nodes for run in core), (nodes, core[0][2])
    setup = statistics.median(run[0] for run in core) / nodes * 1e6
    decisions = statistics.median(run[1] for run in core) / nodes * 1e6
    baseline = statistics.median(bare) / nodes * 1e6
    print(
        f"{name:<32} setup {setup:6.1f} µs/node  decisions {decisions:6.1f} µs/node  "
        f"together {setup + decisions:6.1f}   bare asyncio {baseline:5.1f} µs/node  "
        f"ratio {(setup + decisions) / baseline:5.2f}x (decisions alone "
        f"{decisions / baseline:4.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the bench runs")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--tree", help="measure the engine of this checkout instead")
    args = parser.parse_args()
    n, width, repeat = (10_000, 1_000, args.repeat)
    if args.quick:
        n, width = 2_000, 200
    if args.smoke:
        n, width, repeat = 40, 8, 1
    decide_run(chain(200))  # warm up: imports, caches
    bare_chain(200)
    import osop

    print(
        f"{Path(osop.__file__).parent.parent}: CPU time, medians of {repeat} alternating "
        "rounds; no host, entries encoded\n"
    )
    shapes: list[tuple[str, Any, int]] = [
        (f"core alone, chain of {n}", chain(n), n),
        (f"core alone, fan-out {width} wide", fan(width), width + 2),
    ]
    for name, workflow, nodes in shapes:
        measure(name, workflow, nodes, repeat)


if __name__ == "__main__":
    main()
