"""Engine overhead, measured against baselines run in the same process.

    python bench/bench_engine.py [--quick]
    python bench/bench_engine.py --scale 1000,10000,100000 [--durable] [--from-yaml]
    python bench/bench_engine.py --processes 200 [--repeat 5]

1. A 10,000-node chain and a 1,000-wide fan-out/fan-in of no-op nodes (simulated
   mode, journal and record written, group commit) vs. a bare asyncio loop doing
   the same awaits; also the chain with an fsync per transition (live durability).
   The live durable chain is also set against the fsync floor: the same journal
   bytes appended and fsync'd once per node, in the same file system, alternating
   with the engine's runs (wall and CPU time, medians, and their ratio).
2. 200 parallel `true` commands through the engine (live, durable, cli executor)
   vs. spawning the same 200 processes directly with asyncio
   (``create_subprocess_exec`` + ``communicate``), alternating, medians of 5:
   wall time, this process's CPU time, and the CPU time of the children
   themselves (reaped processes' ``RUSAGE_CHILDREN``), each with its ratio.  The
   engine's child is held at a gate (a ``sh`` that ``exec``s the command once
   its ``proc`` entry is on disk, docs/running.md), so it execs twice where the
   direct spawn execs once: its children's CPU is about twice the direct one's,
   and on two cores that shows in the wall time.  (Until 2026-12-03 this line
   was wall time alone: the 1.07x the issue quoted.)
3. CEL cost per edge: a chain with `when:` on every edge vs. the same chain without.

4. ``--scale``: the same no-op chain at each size, each in a fresh process, with
   its CPU time per node, the ratio of each size's CPU per node to the smallest
   size's (linear = 1.0), and its peak memory per node (max RSS over the
   interpreter's own): building the workflow model, the engine run, and both.
   ``--from-yaml`` also runs each chain from an ``.osop`` file as ``osop run``
   does (parse, validation, model), with the parse's transient peak.

Times are CPU time of this process (``time.process_time``): the machine is
shared, and a busy neighbour stretches wall time but not the work done.
Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _bare_asyncio import bare_chain, bare_fan

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
        start = time.process_time()
        result = asyncio.run(start_run(workflow, store=RunStore(folder), options=options))
        elapsed = time.process_time() - start
        assert result.status == "COMPLETED", result.record.result_summary
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def durable_chain(n: int) -> tuple[float, float, list[bytes]]:
    """A live chain of ``n`` no-op nodes, fsync'd as a live run is: (wall s, CPU s,
    the journal bytes of each node)."""
    folder = Path(tempfile.mkdtemp(prefix="osop-bench-"))
    try:
        options = RunOptions(
            mode="live", executors=noop_factory, seed=1, workdir=folder, env={"PATH": "/bin"}
        )
        workflow = chain(n)  # built before the clocks start, as run_engine's is
        wall, cpu = time.perf_counter(), time.process_time()
        result = asyncio.run(start_run(workflow, store=RunStore(folder), options=options))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert result.status == "COMPLETED", result.record.result_summary
        per_node: dict[str, list[bytes]] = {}
        journal = folder / "runs" / result.run_id / "journal.jsonl"
        for line in journal.read_bytes().splitlines(keepends=True):
            node = json.loads(line).get("node")
            if node is not None:
                per_node.setdefault(node, []).append(line)
        return wall, cpu, [b"".join(lines) for lines in per_node.values()]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fsync_floor(chunks: list[bytes]) -> tuple[float, float]:
    """Append and fsync each chunk in turn (one per node): (wall s, CPU s)."""
    folder = Path(tempfile.mkdtemp(prefix="osop-bench-"))
    try:
        fd = os.open(folder / "journal.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        wall, cpu = time.perf_counter(), time.process_time()
        for chunk in chunks:
            os.write(fd, chunk)
            os.fsync(fd)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        os.close(fd)
        return wall, cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def against_fsync_floor(n: int, repeat: int) -> None:
    """The live durable chain vs. the fsync floor, alternating, medians of each."""
    durable_chain(min(n, 100))  # warm up
    engine: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    for _ in range(repeat):
        wall, cpu, chunks = durable_chain(n)
        engine.append((wall, cpu))
        floor.append(fsync_floor(chunks))
    e_wall, e_cpu = (statistics.median(x[i] for x in engine) for i in (0, 1))
    f_wall, f_cpu = (statistics.median(x[i] for x in floor) for i in (0, 1))
    print(
        f"{'live chain of ' + str(n) + ', durable':<44} wall {e_wall / n * 1e6:7.1f} µs/node  "
        f"CPU {e_cpu / n * 1e6:7.1f} µs/node"
    )
    print(
        f"{'fsync floor (its bytes, 1 append+fsync/node)':<44} wall {f_wall / n * 1e6:7.1f} "
        f"µs/node  CPU {f_cpu / n * 1e6:7.1f} µs/node"
    )
    print(
        f"{'  ratio to the fsync floor':<44} wall {e_wall / f_wall:6.2f}x          "
        f"CPU {e_cpu / f_cpu:6.2f}x   (medians of {repeat}, alternating)"
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(wall s, this process's CPU s, its reaped children's CPU s) spent in ``fn()``."""
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    fn()
    return (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        _children_cpu() - children,
    )


def against_direct_spawn(procs: int, repeat: int) -> None:
    """The engine's live fan-out of ``procs`` ``true`` commands vs. spawning them
    directly with asyncio, alternating, medians of each: wall, CPU, children's CPU."""
    wf = fan(procs)

    def engine() -> None:
        run_engine(wf, mode="live", durable=True, factory=None)

    def direct() -> None:
        bare_processes(procs)

    engine()  # warm up
    direct()
    runs: dict[str, list[tuple[float, float, float]]] = {"engine": [], "direct": []}
    for _ in range(repeat):
        runs["engine"].append(timed(engine))
        runs["direct"].append(timed(direct))
    e, d = ([statistics.median(x[i] for x in runs[k]) for i in range(3)] for k in runs)
    names = (
        f"{procs} parallel `true` (live, cli executor)",
        "direct asyncio subprocesses",
    )
    for name, (wall, cpu, children) in zip(names, (e, d), strict=True):
        print(
            f"{name:<44} wall {wall * 1000:7.1f} ms  CPU {cpu * 1000:7.1f} ms  "
            f"children's CPU {children * 1000:7.1f} ms"
        )
    print(
        f"{'  ratio to the direct spawn':<44} wall {e[0] / d[0]:6.2f}x     "
        f"CPU {e[1] / d[1]:6.2f}x     children's CPU {e[2] / d[2]:6.2f}x   "
        f"(medians of {repeat}, alternating; CPU = this process's)"
    )


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

    start = time.process_time()
    asyncio.run(main())
    return time.process_time() - start


EDGE_WHEN = "n > 0 && status('n0') == 'COMPLETED'"


def timer_overhead(calls: int = 20_000) -> float:
    """CPU seconds the timing in :func:`cel_per_evaluation` adds to each call it times.

    Reading the process CPU clock is a system call (0.6–2 µs on a shared virtual
    machine), about one of which lands inside every timed interval: timing a call
    that does nothing, the same way, measures it in the same run.
    """

    def nothing() -> None:
        return None

    spent = 0.0
    for _ in range(calls):
        start = time.process_time()
        try:
            nothing()
        finally:
            spent += time.process_time() - start
    return spent / calls


def cel_per_evaluation(workflow: Workflow) -> float:
    """Mean CPU seconds inside ``Scope.evaluate`` per call while the engine runs ``workflow``.

    The timer's own cost (:func:`timer_overhead`) is not subtracted here.
    """
    from osop.expr.scope import Scope

    original = Scope.evaluate
    spent = [0.0, 0]

    def timed(self: Scope, *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.process_time() - start
            spent[1] += 1

    Scope.evaluate = timed  # type: ignore[method-assign]
    try:
        run_engine(workflow)
    finally:
        Scope.evaluate = original  # type: ignore[method-assign]
    return spent[0] / max(1, int(spent[1]))


def median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def report(name: str, seconds: float, per: int, baseline_name: str, baseline: float) -> None:
    print(
        f"{name:<44} {seconds * 1000:9.1f} ms  {seconds / per * 1e6:8.1f} µs/node   "
        f"{baseline_name}: {baseline * 1000:7.1f} ms  ratio {seconds / baseline:6.1f}x  "
        f"overhead {(seconds - baseline) / per * 1e6:7.1f} µs/node"
    )


def chain_yaml(n: int) -> str:
    """:func:`chain` as an ``.osop`` file, block style as authors write it, each node
    named (a node without a name is a validator warning: 300k of them would be
    measured too)."""
    nodes = "".join(f"- id: n{i}\n  name: Step {i}\n  type: cli\n" for i in range(n))
    edges = "".join(f"- from: n{i}\n  to: n{i + 1}\n" for i in range(n - 1))
    return f'osop_version: "1.1"\nid: chain\nname: chain\nnodes:\n{nodes}edges:\n{edges}'


def _rss_kb() -> int:
    """The resident set now (KB), as opposed to ``ru_maxrss``, its high-water mark."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def one_chain(n: int, durable: bool, yaml_file: str | None) -> None:
    """Child process of ``--scale``: one chain of ``n``, its figures as JSON.

    Memory is the high-water mark of the resident set (``ru_maxrss``) over the
    interpreter's own after a tiny warm-up run (imports, caches), in three parts:
    building the workflow model (from a dict, or loading and validating
    ``yaml_file``), the engine run on top of it, and the whole (what ``osop run``
    pays). A YAML parse is transient; ``kept_kb`` is what is still resident after it.
    """
    from osop.format.api import load_workflow

    folder = Path(tempfile.mkdtemp(prefix="osop-bench-"))
    try:
        tiny = folder / "tiny.osop"
        tiny.write_text(chain_yaml(10))
        run_engine(load_workflow(tiny) if yaml_file else chain(10), durable=durable)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base_rss = _max_rss_kb()
    load = time.process_time()
    wf = load_workflow(yaml_file, max_bytes=None) if yaml_file else chain(n)
    load = time.process_time() - load
    built_rss, kept_rss = _max_rss_kb(), _rss_kb()
    seconds = run_engine(wf, durable=durable)
    peak = _max_rss_kb()
    print(
        json.dumps(
            {
                "n": n,
                "cpu": seconds,
                "load_cpu": load,
                "model_kb": built_rss - base_rss,
                "kept_kb": kept_rss - base_rss,
                "engine_kb": peak - built_rss,
                "peak_kb": peak - base_rss,
            }
        )
    )


def _children(n: int, durable: bool, repeat: int, yaml_file: Path | None) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        command = [sys.executable, __file__, "--one-chain", str(n)]
        if durable:
            command.append("--durable")
        if yaml_file is not None:
            command += ["--yaml-file", str(yaml_file)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def scale(sizes: list[int], durable: bool, repeat: int, from_yaml: bool) -> None:
    print(
        f"chain, no-op executor, {'fsync per transition' if durable else 'group commit'}; "
        f"each size in a fresh process; medians of {repeat}\n"
        "memory: KB per node of peak RSS over the interpreter's own (after a warm-up run);\n"
        "  model = building the workflow, engine = the run on top of it, whole = both\n"
    )
    print(
        f"{'nodes':>8} {'CPU s':>9} {'µs/node':>9} {'× smallest':>11} "
        f"{'model KB/n':>11} {'engine KB/n':>12} {'whole KB/n':>11}"
    )
    first: float | None = None
    for n in sizes:
        r = _children(n, durable, repeat, None)
        per = r["cpu"] / n * 1e6
        first = first if first is not None else per
        print(
            f"{n:>8} {r['cpu']:>9.2f} {per:>9.1f} {per / first:>10.2f}x "
            f"{r['model_kb'] / n:>11.2f} {r['engine_kb'] / n:>12.2f} {r['peak_kb'] / n:>11.2f}",
            flush=True,
        )
    if not from_yaml:
        return
    print(
        "\nthe same chains run from an .osop file (load_workflow: YAML parse, validation, "
        "model),\n  as `osop run` does; load = its peak, kept = resident after it\n"
    )
    print(
        f"{'nodes':>8} {'load µs/n':>10} {'run µs/n':>9} {'load KB/n':>10} {'kept KB/n':>10} "
        f"{'engine KB/n':>12} {'whole KB/n':>11}"
    )
    with tempfile.TemporaryDirectory(prefix="osop-bench-") as folder:
        for n in sizes:
            path = Path(folder) / f"chain-{n}.osop"
            path.write_text(chain_yaml(n))
            r = _children(n, durable, repeat, path)
            print(
                f"{n:>8} {r['load_cpu'] / n * 1e6:>10.1f} {r['cpu'] / n * 1e6:>9.1f} "
                f"{r['model_kb'] / n:>10.2f} {r['kept_kb'] / n:>10.2f} "
                f"{r['engine_kb'] / n:>12.2f} {r['peak_kb'] / n:>11.2f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the bench runs")
    parser.add_argument("--scale", help="comma-separated chain sizes, e.g. 1000,10000,100000")
    parser.add_argument("--durable", action="store_true", help="with --scale: fsync per node")
    parser.add_argument(
        "--repeat", type=int, help="with --scale: runs per size (3); with --processes: rounds (5)"
    )
    parser.add_argument(
        "--from-yaml", action="store_true", help="with --scale: also run each chain from a file"
    )
    parser.add_argument(
        "--processes",
        type=int,
        help="only the live fan-out of this many `true` commands vs. the direct spawn",
    )
    parser.add_argument("--one-chain", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--yaml-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_chain:
        one_chain(args.one_chain, args.durable, args.yaml_file)
        return
    if args.processes:
        against_direct_spawn(args.processes, args.repeat or 5)
        return
    if args.scale:
        sizes = [int(x) for x in args.scale.split(",")]
        scale(sizes, args.durable, args.repeat or 3, args.from_yaml)
        return
    n, width, repeat = (2_000, 200, 3) if args.quick else (10_000, 1_000, 5)
    procs = 50 if args.quick else 200
    if args.smoke:
        n, width, repeat, procs = 40, 8, 1, 3

    print(f"medians of {repeat} runs (CPU time); no-op executor, journal + record written\n")
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
    against_fsync_floor(durable_n, max(3, repeat))
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
    guarded = chain(n, when=EDGE_WHEN)
    t_plain = median(lambda: run_engine(plain), repeat)
    t_cel = median(lambda: run_engine(guarded), repeat)
    per_eval = median(lambda: cel_per_evaluation(guarded), repeat)
    overhead = median(timer_overhead, repeat)
    print(
        f"CEL at engine level: {(per_eval - overhead) * 1e6:6.1f} µs per evaluation of "
        f"`{EDGE_WHEN}` (Scope.evaluate as the engine calls it: activation, OSOP functions, "
        f"CEL; {per_eval * 1e6:.1f} µs timed, less the timer's own {overhead * 1e6:.1f} µs)"
    )
    print(
        f"conditional edge, whole cost: {(t_cel - t_plain) / (n - 1) * 1e6:6.1f} µs "
        f"(chain with `when` on every edge {t_cel * 1000:.1f} ms vs without "
        f"{t_plain * 1000:.1f} ms, ratio {t_cel / t_plain:.2f}x)"
    )

    if shutil.which("sh"):
        print()
        against_direct_spawn(procs, 1 if args.smoke else 5)


if __name__ == "__main__":
    main()
