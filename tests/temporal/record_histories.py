"""Record Temporal histories of a few runs, for tests/temporal/test_replay.py.

    .venv/bin/python tests/temporal/record_histories.py

Run it when a new interpreter version is released (INTERPRETER_VERSION): it adds
``histories/v<N>-<case>.json`` next to the older ones, which stay, so that every
later interpreter must still replay the runs the earlier ones started.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from temporal_server import TemporalDevServer, in_process_worker  # noqa: E402

from osop.engine import RunOptions  # noqa: E402
from osop.format.api import load_workflow  # noqa: E402
from osop.security import SecretStore  # noqa: E402
from osop.temporal.connection import TemporalTarget  # noqa: E402
from osop.temporal.interpreter import INTERPRETER_VERSION  # noqa: E402
from osop.temporal.runs import answer_run, signal_run, start_temporal_run, wait_for_run  # noqa: E402

CASES = HERE.parent / "conformance" / "engine"
#: case → (mode, what to deliver after the first pause)
RECORDED = {
    "approval-gate": ("live", [("approve", "deploy", {"decision": "approved", "actor": "ops"})]),
    "retry-backoff": ("simulated", []),
    "loop-for-each": ("simulated", []),
    "parallel-join": ("simulated", []),
    "event-edge": ("simulated", [("signal", "canary-healthy", {"healthy": True})]),
    "compensation": ("simulated", []),
    # v2: child runs (the answer goes to the child run that waits for it), secrets.
    "subworkflow-wait": ("live", [("approve", "publish", {"decision": "approved"})]),
    "spawn": ("simulated", []),
    "secrets": ("live", []),
}


async def record(address: str) -> None:
    import yaml

    for case, (mode, deliveries) in RECORDED.items():
        target = TemporalTarget(address=address, task_queue=f"rec-{uuid.uuid4().hex[:8]}")
        spec = yaml.safe_load((CASES / case / "case.yaml").read_text()) or {}
        path = CASES / case / "workflow.osop.yaml"
        options = RunOptions(
            mode=mode,  # type: ignore[arg-type]
            inputs=dict(spec.get("inputs") or {}),
            seed=7,
            simulation=dict(spec.get("simulation") or {}) if mode == "simulated" else {},
        )
        secrets = SecretStore(spec.get("secrets") or {}, environ={})
        with tempfile.TemporaryDirectory() as folder:
            async with in_process_worker(target, Path(folder), secrets=secrets) as client:
                run_id = await start_temporal_run(
                    target, load_workflow(path), source=path.read_bytes(), options=options,
                    workflow_path=path, client=client,
                )  # fmt: skip
                result = await wait_for_run(target, run_id, client=client)
                for kind, name, data in deliveries:
                    if kind == "approve":
                        await answer_run(target, run_id, name, data, client=client)
                    else:
                        await signal_run(target, run_id, name, data, client=client)
                    result = await wait_for_run(target, run_id, client=client)
                runs = {"": run_id}
                for node, child in (result.record.extra.get("x-child-runs") or {}).items():
                    runs[f"-child-{node}"] = child
                for suffix, rid in runs.items():
                    history = await client.get_workflow_handle(rid).fetch_history()
                    name = f"v{INTERPRETER_VERSION}-{case}-{mode}{suffix}.json"
                    out = HERE / "histories" / name
                    out.write_text(history.to_json())
                    print(f"{out.name}: {result.status}, {len(history.events)} events")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, TemporalDevServer(Path(folder)) as server:
        asyncio.run(record(server.address))


if __name__ == "__main__":
    main()
