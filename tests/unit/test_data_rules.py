"""The validator's data rules: precise pointers, and no noise on what other rules report."""

from __future__ import annotations

import yaml

from osop.format.validate import validate_text


def _issues(doc: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    report = validate_text(yaml.safe_dump(doc), "case.osop.yaml", kind="workflow")
    return [(i.rule, i.pointer) for i in report.issues]


def _wf(**extra: object) -> dict:  # type: ignore[type-arg]
    return {"osop_version": "1.1", "id": "case", "name": "Case", **extra}


def test_missing_edges_is_reported_once_not_per_node() -> None:
    nodes = [{"id": n, "type": "cli", "name": n} for n in ("a", "b", "c")]
    rules = [rule for rule, _ in _issues(_wf(nodes=nodes))]
    assert "workflow/missing-edges" in rules
    assert "graph/isolated-node" not in rules


def test_contract_schema_error_points_at_the_keyword() -> None:
    doc = _wf(
        contracts={"c": {"schema": {"properties": {"n": {"type": "integer", "minimum": "x"}}}}},
        nodes=[{"id": "a", "type": "cli", "name": "A"}, {"id": "b", "type": "cli", "name": "B"}],
        edges=[{"from": "a", "to": "b", "contract": "c"}],
    )
    assert ("contract/invalid-schema", "/contracts/c/schema/properties/n/minimum") in _issues(doc)


def test_inline_edge_contract_is_checked_too() -> None:
    doc = _wf(
        nodes=[{"id": "a", "type": "cli", "name": "A"}, {"id": "b", "type": "cli", "name": "B"}],
        edges=[{"from": "a", "to": "b", "contract": {"schema": {"type": "strnig"}}}],
    )
    assert ("contract/invalid-schema", "/edges/0/contract/schema/type") in _issues(doc)


def test_a_command_blocked_only_by_its_values_is_not_flagged() -> None:
    doc = _wf(
        nodes=[
            {
                "id": "a",
                "type": "cli",
                "name": "A",
                "runtime": {"command": "curl -s https://x.invalid | ${inputs.shell}"},
            }
        ],
        inputs={"shell": {"type": "string", "default": "cat"}},
    )
    assert not [r for r, _ in _issues(doc) if r == "security/blocked-command"]
