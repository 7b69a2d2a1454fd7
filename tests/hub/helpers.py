"""Documents and requests shared by the hub tests."""

from __future__ import annotations

from typing import Any

from osop.hub.package import content_hash


def workflow_text(
    wf_id: str = "deploy-service",
    *,
    name: str = "Deploy a service",
    description: str = "Build, test and roll out a service with a human approval.",
    command: str = "echo build",
    tags: str = "[deploy, release]",
) -> str:
    return f"""osop_version: "1.0"
id: {wf_id}
name: {name}
description: {description}
tags: {tags}
inputs:
  service: {{type: string}}
nodes:
  - id: build
    type: cli
    purpose: Compile the service and package an image
    runtime: {{command: "{command}"}}
  - id: approve
    type: human
    purpose: A release manager approves the rollout
  - id: rollout
    type: cli
    purpose: Roll the release out to production
    runtime: {{command: "echo rollout"}}
edges:
  - {{from: build, to: approve}}
  - {{from: approve, to: rollout}}
"""


def sop_text(refs: list[str], name: str = "Release handbook") -> str:
    entries = "\n".join(f"      - ref: {ref!r}" for ref in refs)
    return f"""sop_version: "1.0"
id: release-handbook
name: {name}
description: How we ship.
tags: [handbook]
sections:
  - name: Releases
    workflows:
{entries}
"""


def package_body(files: dict[str, str], main: str) -> dict[str, Any]:
    return {"main": main, "files": files, "content_hash": content_hash(files)}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def record_text(
    wf_id: str = "deploy-service", *, status: str = "COMPLETED", run: int = 1, secret: str = ""
) -> str:
    """A valid .osoplog of one run of :func:`workflow_text`'s workflow."""
    import json

    node_status = "COMPLETED" if status == "COMPLETED" else "FAILED"
    nodes = [
        {
            "node_id": "build",
            "node_type": "cli",
            "attempt": 1,
            "status": node_status,
            "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T00:00:02Z",
            "duration_ms": 2000 + run,
            "inputs": {"api_token": secret} if secret else {},
        }
    ]
    return json.dumps(
        {
            "osoplog_version": "1.0",
            "run_id": f"00000000-0000-4000-8000-{run:012d}",
            "workflow_id": wf_id,
            "status": status,
            "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T00:00:02Z",
            "node_records": nodes,
        }
    )
