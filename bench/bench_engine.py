"""Engine overhead, measured against baselines run in the same process.

    python bench/bench_engine.py [--quick]

1. A 10,000-node chain and a 1,000-wide fan-out/fan-in of no-op nodes (simulated
   mode, journal and record written, group commit) vs. a bare asyncio loop doing
   the same awaits; also the chain with an fsync per transition (live durability).
2. 200 parallel `true` commands through the engine (live, cli executor) vs.
   spawning the same 200 processes directly with asyncio.
3. CEL cost per edge: a chain with `when:` on every edge vs. the same chain without.

Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osop.engine import RunOptions, RunStore, start_run
from osop.executors.base import NodeContext, NodeResult
from osop.format.workflow import Workflow, workflow_from_dict


class NoOp:
    node_type = "*"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs={"n": 1})


def noop_factory(node_type: str, mode: Any) -> NoOp:
    return NoOp()


def chain(n: int, when: str | None = None) -> Workflow:
    edges: list[dict[str, Any]] = []
    for i in range(n - 1):
        edge: dict[str, Any] = {"from": f"n{i}", "to": f"n{i + 1}"}
        if when:
            edge.update(mode="conditional", when=when)
        edges.append(edge)
    return workflow_from_dict(
        {
            "id": "chain",
            "name": "chain",
            "nodes": [{"id": f"n{i}", "type": "cli"} for i in range(n)],
            "edges": edges,
        }
    )


def fan(width: int, node_type: str = "cli", command: str = "true") -> Workflow:
    nodes = [{"id": "start", "type": node_type, "runtime": {"command": command}}]
    nodes += [
        {"id": f"b{i}", "type": node_type, "runtime": {"command": command}} for i in range(width)
    ]
    nodes.append({"id": "join", "type": node_type, "runtime": {"command": command}})
    edges = [{"from": "start", "to": f"b{i}", "mode": "parallel"} for i in range(width)]
    edges += [{"from": f"b{i}", "to": "join"} for i in range(width)]
    return workflow_from_dict({"id": "fan", "name": "fan", "nodes": nodes, "edges": edges})


def run_engine(
    workflow: Workflow,
    *,
    mode: str = "simulated",
    durable: bool = False,
    factory: Callable[..., Any] | None = noop_factory,
) -> float:
    folder = Path(tempfile.mkdtemp(prefix="osop-bench-"))
    try:
        options = RunOptions(
            mode=mode,  # type: ignore[arg-type]
            executors=factory,
            durable=durable,
            seed=1,
            workdir=folder,
            env={"PATH": "/usr/bin:/bin"},
        )
        start = time.perf_counter()
        result = asyncio.run(start_run(workflow, store=RunStore(folder), options=options))
        elapsed = time.perf_counter() - start
        assert result.status == "COMPLETED", result.record.result_summary
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _noop() -> dict[str, int]:
    return {"n": 1}


def bare_chain(n: int) -> float:
    async def main() -> None:
        for _ in range(n):
            await asyncio.ensure_future(_noop())

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def bare_fan(width: int) -> float:
    async def main() -> None:
        await _noop()
        await asyncio.gather(*(asyncio.ensure_future(_noop()) for _ in range(width)))
        await _noop()

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def bare_processes(width: int) -> float:
    async def one() -> None:
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", "true", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        await proc.communicate()

    async def main() -> None:
        await one()
        await asyncio.gather(*(one() for _ in range(width)))
        await one()

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def report(name: str, seconds: float, per: int, baseline_name: str, baseline: float) -> None:
    print(
        f"{name:<44} {seconds * 1000:9.1f} ms  {seconds / per * 1e6:8.1f} µs/node   "
        f"{baseline_name}: {baseline * 1000:7.1f} ms  ratio {seconds / baseline:6.1f}x  "
        f"overhead {(seconds - baseline) / per * 1e6:7.1f} µs/node"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    n, width, repeat = (2_000, 200, 3) if args.quick else (10_000, 1_000, 5)
    procs = 50 if args.quick else 200

    print(f"medians of {repeat} runs; no-op executor, journal + record written\n")
    run_engine(chain(200))  # warm up: imports, caches
    bare_chain(200)
    wf = chain(n)
    bare = median(lambda: bare_chain(n), repeat)
    report(
        f"chain of {n}, group commit",
        median(lambda: run_engine(wf), repeat),
        n,
        "bare asyncio",
        bare,
    )
    durable_n = min(n, 2_000)
    wf_small = chain(durable_n)
    report(
        f"chain of {durable_n}, fsync per transition",
        median(lambda: run_engine(wf_small, durable=True), max(1, repeat // 2)),
        durable_n,
        "bare asyncio",
        bare_chain(durable_n),
    )
    wf = fan(width)
    report(
        f"fan-out/fan-in {width} wide, group commit",
        median(lambda: run_engine(wf), repeat),
        width + 2,
        "bare asyncio",
        median(lambda: bare_fan(width), repeat),
    )
    report(
        f"fan-out/fan-in {width} wide, fsync (group commit)",
        median(lambda: run_engine(wf, durable=True), max(1, repeat // 2)),
        width + 2,
        "bare asyncio",
        median(lambda: bare_fan(width), repeat),
    )
    sim = chain(n)
    report(
        f"chain of {n}, built-in simulator",
        median(lambda: run_engine(sim, factory=None), repeat),
        n,
        "bare asyncio",
        bare,
    )

    print()
    plain = chain(n)
    guarded = chain(n, when="n > 0 && status('n0') == 'COMPLETED'")
    t_plain = median(lambda: run_engine(plain), repeat)
    t_cel = median(lambda: run_engine(guarded), repeat)
    print(
        f"CEL per edge: {(t_cel - t_plain) / (n - 1) * 1e6:6.1f} µs "
        f"(chain with `when` on every edge {t_cel * 1000:.1f} ms vs without {t_plain * 1000:.1f} ms,"
        f" ratio {t_cel / t_plain:.2f}x)"
    )

    if shutil.which("sh"):
        print()
        wf = fan(procs)
        engine_live = median(lambda: run_engine(wf, mode="live", durable=True, factory=None), 3)
        report(
            f"{procs} parallel `true` (live, cli executor)",
            engine_live,
            procs + 2,
            "direct asyncio subprocesses",
            median(lambda: bare_processes(procs), 3),
        )


if __name__ == "__main__":
    main()
