"""OSOP's engine on one workload: ``python peer_osop.py chain|fan SIZE FOLDER``.

The same shapes and no-op executor as bench/bench_engine.py, durable: the run's
journal and record in a run store under FOLDER, an fsync per transition (the fan's
branches share theirs by group commit). Prints one JSON measurement.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from bench_engine import chain, fan, noop_factory  # noqa: E402
from harness import Store, emit, measure, worker_args  # noqa: E402

import osop  # noqa: E402
from osop.engine import RunOptions, RunStore, start_run  # noqa: E402
from osop.format.workflow import Workflow  # noqa: E402


def run(workflow: Workflow, store: RunStore, folder: Path) -> None:
    options = RunOptions(
        mode="simulated",
        executors=noop_factory,
        durable=True,
        seed=1,
        workdir=folder,
        env={"PATH": "/usr/bin:/bin"},
    )
    result = asyncio.run(start_run(workflow, store=store, options=options))
    assert result.status == "COMPLETED", result.record.result_summary


def main() -> None:
    workload, size, folder = worker_args(sys.argv[1:])
    build = chain if workload == "chain" else fan
    store_dir = folder / "runs"
    store = RunStore(store_dir)
    run(build(3), store, folder)  # warm up: imports, caches, the store's folders
    workflow = build(size)
    nodes = size if workload == "chain" else size + 2
    emit(
        measure(
            lambda: run(workflow, store, folder),
            nodes=nodes,
            version=f"osop {osop.__version__}",
            store=Store(store_dir),
        )
    )


if __name__ == "__main__":
    main()
