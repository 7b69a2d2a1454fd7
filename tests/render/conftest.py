from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import launch

HOSTILE = "<img src=x onerror=alert(1)>"

DEPLOY = {
    "osop_version": "1.1",
    "id": "deploy",
    "name": "Deploy the service",
    "description": "Build, test, ship.",
    "nodes": [
        {"id": "build", "type": "cicd", "name": "Build", "purpose": "Compile and package"},
        {"id": "test", "type": "cli", "name": "Run tests"},
        {
            "id": "approve",
            "type": "human",
            "name": "Approve release",
            "role": "release-manager",
            "approval_gate": {"required": True},
        },
        {"id": "ship", "type": "infra", "name": "Ship"},
        {"id": "rollback", "type": "infra", "name": "Roll back"},
    ],
    "edges": [
        {"from": "build", "to": "test"},
        {"from": "test", "to": "approve", "mode": "conditional", "when": "passed == true"},
        {"from": "test", "to": "build", "mode": "loop", "when": "flaky", "max_iterations": 2},
        {"from": "approve", "to": "ship"},
        {"from": "ship", "to": "rollback", "mode": "fallback"},
    ],
}

RECORD = {
    "osoplog_version": "1.0",
    "run_id": "3f1c2a9e-8b7d-4c6e-9a5f-1b2c3d4e5f60",
    "workflow_id": "deploy",
    "mode": "simulated",
    "status": "FAILED",
    "started_at": "2026-03-01T10:00:00Z",
    "ended_at": "2026-03-01T10:02:05Z",
    "node_records": [
        {
            "node_id": "build",
            "node_type": "cicd",
            "attempt": 1,
            "status": "COMPLETED",
            "started_at": "2026-03-01T10:00:00Z",
        },
        {
            "node_id": "test",
            "node_type": "cli",
            "attempt": 1,
            "status": "FAILED",
            "started_at": "2026-03-01T10:01:00Z",
        },
    ],
}


def hostile_workflow() -> dict[str, object]:
    return {
        "osop_version": "1.1",
        "id": "hostile",
        "name": HOSTILE,
        "description": HOSTILE,
        "nodes": [
            {"id": "a", "type": "agent", "name": HOSTILE, "role": HOSTILE},
            {"id": "b", "type": "human", "name": "</svg><script>alert(2)</script>"},
        ],
        "edges": [{"from": "a", "to": "b", "mode": "conditional", "when": HOSTILE}],
    }


@pytest.fixture
def sop_tree(tmp_path: Path) -> Path:
    """A .sop with a ref (with a run record beside it), an inline workflow, a missing ref,
    a remote ref and a broken workflow; returns the .sop path."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "deploy.osop.yaml").write_text(yaml.safe_dump(DEPLOY, sort_keys=False))
    (flows / "run-1.osoplog.yaml").write_text(yaml.safe_dump(RECORD, sort_keys=False))
    (flows / "broken.osop").write_text("nodes: [{id: a, type: cli}]\nedges: [{from: a, to: zz}]\n")
    sop = {
        "sop_version": "1.0",
        "id": "handbook",
        "name": f"Handbook {HOSTILE}",
        "description": "How we work.",
        "sections": [
            {
                "name": "Delivery",
                "description": "Shipping code.",
                "workflows": [
                    {"ref": "flows/deploy.osop.yaml", "title": "Deploy", "owner": "platform"},
                    {"ref": "flows/missing.osop.yaml", "title": "Missing one"},
                ],
            },
            {
                "name": f"Odd {HOSTILE}",
                "workflows": [
                    {"workflow": hostile_workflow(), "title": HOSTILE, "tags": [HOSTILE]},
                    {"ref": "https://example.com/remote.osop"},
                    "flows/broken.osop",
                ],
            },
        ],
    }
    path = tmp_path / "handbook.sop"
    path.write_text(yaml.safe_dump(sop, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (skipped where Playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        instance = launch(pw)
        yield instance
        instance.close()
