"""The bounds of osop.format.limits: clamped in the model, reported by the validator."""

from __future__ import annotations

from pathlib import Path

from osop.format.limits import (
    MAX_ATTEMPTS,
    MAX_ITERATIONS,
    MAX_RETRY_DELAY_SEC,
    MAX_TIMEOUT_SEC,
    MAX_WEIGHT,
)
from osop.format.validate import validate_path
from osop.format.workflow import workflow_from_dict


def _wf(**node: object) -> dict[str, object]:
    return {
        "osop_version": "1.1",
        "id": "w",
        "name": "W",
        "nodes": [{"id": "a", "type": "cli", **node}, {"id": "b", "type": "cli"}],
        "edges": [
            {"from": "a", "to": "b", "mode": "weighted", "weight": 1e308},
            {"from": "b", "to": "a", "mode": "loop", "when": "true", "max_iterations": 10**9},
        ],
    }


def test_the_model_clamps_what_the_document_asks() -> None:
    wf = workflow_from_dict(
        _wf(
            timeout_sec=1e300,
            retry={
                "max_attempts": 10**8,
                "backoff": {"type": "exponential", "initial_delay": 1e300, "multiplier": 1e9},
            },
        )
    )
    node = wf.nodes[0]
    assert node.timeout_sec == MAX_TIMEOUT_SEC
    assert node.retry is not None
    assert node.retry.max_attempts == MAX_ATTEMPTS
    assert node.retry.delay_before(10**6) == MAX_RETRY_DELAY_SEC  # no OverflowError
    assert wf.edges[0].weight == MAX_WEIGHT
    assert wf.edges[1].max_iterations == MAX_ITERATIONS


def test_imports_deeper_than_the_bound_are_reported(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"w{i}.osop.yaml").write_text(
            f"osop_version: '1.1'\nid: w{i}\nname: W{i}\n"
            f"imports: [{{path: w{i + 1}.osop.yaml, as: next}}]\n"
            "nodes: [{id: a, type: system, name: A, workflow_ref: next}]\nedges: []\n",
            encoding="utf-8",
        )
    (tmp_path / "w20.osop.yaml").write_text(
        "osop_version: '1.1'\nid: w20\nname: W20\nnodes: [{id: a, type: cli, name: A}]\n"
        "edges: []\n",
        encoding="utf-8",
    )
    report = validate_path(tmp_path / "w0.osop.yaml")
    assert "workflow/import-too-deep" in {i.rule for i in report.issues}
    near = validate_path(tmp_path / "w10.osop.yaml")
    assert "workflow/import-too-deep" not in {i.rule for i in near.issues}
