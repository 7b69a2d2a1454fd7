"""Prefect on one workload: ``python peer_prefect.py chain|fan SIZE FOLDER``.

A flow of no-op tasks in the same shape as OSOP's (a chain of task calls; or a
start task, SIZE submitted tasks on the default thread-pool task runner, a join
task), against Prefect's own temporary local server (ephemeral mode: a server
subprocess on 127.0.0.1 with its SQLite database in PREFECT_HOME under FOLDER).
Settings keep everything on the machine: no API URL or key (so no cloud, and the
temporary server), analytics and the UI off, warnings only on the console. The server's CPU is read from /proc and reported apart; the store is
the database's growth once the server has recorded everything. Runs in
`.venv-peers`. Prints one JSON measurement.
"""

from __future__ import annotations

import os
import sys

from harness import Store, descendants, emit, measure, worker_args

OFFLINE = {
    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",  # a busy 2-core machine
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",  # no console line per task (logs to the API too)
}


def main() -> None:
    workload, size, folder = worker_args(sys.argv[1:])
    home = folder / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    # Prefect reads its settings when imported: set them first.
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE"):
        os.environ.pop(name, None)  # no server of the caller's, no cloud
    os.environ.update(OFFLINE, PREFECT_HOME=str(home))
    from importlib.metadata import version

    from prefect import flow, task

    @task
    def noop(index: int) -> int:
        return index

    @flow
    def chain(size: int) -> int:
        done = 0
        for i in range(size):
            noop(i)
            done += 1
        return done

    @flow
    def fan(width: int) -> int:
        noop(-1)
        futures = [noop.submit(i) for i in range(width)]
        results = [f.result() for f in futures]
        noop(-2)
        return len(results) + 2

    run_flow = chain if workload == "chain" else fan
    nodes = size if workload == "chain" else size + 2
    run_flow(3)  # warm up: starts the temporary server, creates its database

    def run() -> None:
        done = run_flow(size)
        assert done == nodes, done

    database = home / "prefect.db"
    emit(
        measure(
            run,
            nodes=nodes,
            version=f"prefect {version('prefect')}",
            store=Store(database, sqlite=True),
            server_pids=lambda: descendants(os.getpid()),
            settle_store=True,
        )
    )


if __name__ == "__main__":
    main()
