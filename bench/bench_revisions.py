"""The engine of this tree against the engine of another git revision, same machine, same run.

    python bench/bench_revisions.py --against 8ffc1fc      # e.g. the engine before the core split
    python bench/bench_revisions.py --against main --only fan

Each sample runs in a fresh process (imports, allocator and caches start cold the
same way for both trees), and the two trees alternate sample by sample, so a busy
neighbour on the shared machine weighs on both alike.  Scenarios (no-op executor,
simulated mode, run store on disk, group commit):

- ``chain``: a chain of nodes, CPU time per node;
- ``fan``: a fan-out/fan-in (one start, ``width`` parallel branches, one join),
  CPU time per node;
- ``runs``: many short chains started at once in one process (``asyncio.gather``
  of ``start_run``), CPU time and wall time per node — what the local host costs
  when it hosts many runs.

Prints the median of each tree and the ratio this tree / the other one (< 1: this
tree is cheaper).  ``--against .`` compares the tree with itself (the smoke run).
``--fsync-ms 20`` makes every fsync take 20 ms longer, as on a loaded disk: what
the process does meanwhile shows in the wall time of ``runs``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

#: Runs in the child process against the tree on its PYTHONPATH; only the engine's
#: public API, which both trees share.
SAMPLE = r"""
import asyncio, json, shutil, sys, tempfile, time
from pathlib import Path
from osop.engine import RunOptions, RunStore, start_run
from osop.executors.base import NodeResult
from osop.format.workflow import workflow_from_dict

class NoOp:
    node_type = "*"
    async def execute(self, ctx):
        return NodeResult(outputs={"n": 1})

def factory(node_type, mode):
    return NoOp()

def chain(n):
    return workflow_from_dict({"id": "chain", "name": "chain",
        "nodes": [{"id": f"n{i}", "type": "cli"} for i in range(n)],
        "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(n - 1)]})

def fan(width):
    nodes = [{"id": "start", "type": "cli"}] + [{"id": f"b{i}", "type": "cli"} for i in range(width)]
    nodes.append({"id": "join", "type": "cli"})
    edges = [{"from": "start", "to": f"b{i}", "mode": "parallel"} for i in range(width)]
    edges += [{"from": f"b{i}", "to": "join"} for i in range(width)]
    return workflow_from_dict({"id": "fan", "name": "fan", "nodes": nodes, "edges": edges})

scenario, size, runs, fsync_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
if fsync_ms > 0:  # a loaded disk: every fsync waits that long (the CPU time does not change)
    import os
    real_fsync = os.fsync
    def slow_fsync(fd):
        time.sleep(fsync_ms / 1000.0)
        real_fsync(fd)
    os.fsync = slow_fsync
folder = Path(tempfile.mkdtemp(prefix="osop-bench-"))
try:
    def options():
        return RunOptions(mode="simulated", executors=factory, seed=1, workdir=folder,
                          env={"PATH": "/usr/bin:/bin"})
    store = RunStore(folder)
    asyncio.run(start_run(chain(5), store=store, options=options()))  # warm: imports, caches
    wf = fan(size) if scenario == "fan" else chain(size)
    nodes = (size + 2 if scenario == "fan" else size) * runs

    async def go():
        results = await asyncio.gather(*(start_run(wf, store=store, options=options())
                                         for _ in range(runs)))
        assert all(r.status == "COMPLETED" for r in results)

    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(go())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"cpu_us": cpu / nodes * 1e6, "wall_us": wall / nodes * 1e6}))
finally:
    shutil.rmtree(folder, ignore_errors=True)
"""


def checkout(revision: str) -> tuple[Path, Path | None]:
    """The tree of ``revision`` (a temporary git worktree), or this tree for ``.``."""
    if revision == ".":
        return HERE, None
    folder = Path(tempfile.mkdtemp(prefix="osop-rev-"))
    subprocess.run(
        ["git", "-C", str(HERE), "worktree", "add", "--detach", str(folder), revision],
        check=True,
        capture_output=True,
    )
    return folder, folder


def sample(tree: Path, scenario: str, size: int, runs: int, fsync_ms: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", SAMPLE, scenario, str(size), str(runs), str(fsync_ms)],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        cwd=tempfile.gettempdir(),
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, help="a git revision, or . for this tree")
    parser.add_argument("--repeat", type=int, default=7, help="samples per tree and scenario")
    parser.add_argument("--only", choices=("chain", "fan", "runs"), action="append")
    parser.add_argument(
        "--fsync-ms",
        type=float,
        default=0.0,
        help="make every fsync wait this long too (a loaded disk; wall time only)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the bench runs")
    args = parser.parse_args()
    scenarios = [("chain", 10_000, 1), ("fan", 1_000, 1), ("runs", 10, 200)]
    if args.smoke:
        scenarios, args.repeat = [("chain", 20, 1), ("fan", 8, 1), ("runs", 3, 4)], 1
    if args.only:
        scenarios = [s for s in scenarios if s[0] in args.only]
    other, created = checkout(args.against)
    try:
        print(
            f"this tree vs {args.against}; CPU time (and wall for runs), µs per node; "
            f"{'fsync +' + format(args.fsync_ms, 'g') + ' ms; ' if args.fsync_ms else ''}"
            f"medians of {args.repeat} alternating samples, each in a fresh process\n"
        )
        for scenario, size, runs in scenarios:
            ours: list[dict[str, float]] = []
            theirs: list[dict[str, float]] = []
            for _ in range(args.repeat):
                ours.append(sample(HERE, scenario, size, runs, args.fsync_ms))
                theirs.append(sample(other, scenario, size, runs, args.fsync_ms))
            title = {
                "chain": f"chain of {size}",
                "fan": f"fan-out/fan-in {size} wide",
                "runs": f"{runs} concurrent runs x {size} nodes",
            }[scenario]
            keys = ("cpu_us", "wall_us") if scenario == "runs" else ("cpu_us",)
            for key in keys:
                mine = statistics.median(s[key] for s in ours)
                base = statistics.median(s[key] for s in theirs)
                print(
                    f"{title:<34} {key[:-3]:>4}: this tree {mine:9.1f}   "
                    f"{args.against}: {base:9.1f}   ratio {mine / base:5.2f}x   "
                    f"(this tree {min(s[key] for s in ours):.1f}–{max(s[key] for s in ours):.1f}, "
                    f"other {min(s[key] for s in theirs):.1f}–{max(s[key] for s in theirs):.1f})",
                    flush=True,
                )
    finally:
        if created is not None:
            subprocess.run(
                ["git", "-C", str(HERE), "worktree", "remove", "--force", str(created)],
                check=False,
                capture_output=True,
            )
            shutil.rmtree(created, ignore_errors=True)


if __name__ == "__main__":
    main()
