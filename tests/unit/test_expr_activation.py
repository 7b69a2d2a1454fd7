"""The bare-name rule of edge conditions, and namespaces that cannot be shadowed."""

from __future__ import annotations

from typing import Any

import pytest

from osop.errors import MissingReferenceError
from osop.expr import build_edge_activation, compile_expression

OUTPUTS: dict[str, Any] = {
    "approve": {"decision": "approved", "inputs": "an output named inputs"},
    "check_ci": {"all_passed": True},
    "test": {"passed": True},
}
INPUTS = {"environment": "staging", "decision": "from inputs", "region": "eu"}
VARIABLES = {"region": "us", "limit": 5}


def edge(source: str, **extra: Any) -> Any:
    return build_edge_activation(
        OUTPUTS[source], inputs=INPUTS, outputs_by_node=OUTPUTS, variables=VARIABLES, **extra
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("decision == 'approved'", True),  # the source's output wins over the input
        ("outputs.approve.decision == 'approved'", True),
        ("inputs.environment != 'production'", True),
        ("environment == 'staging'", True),  # then inputs
        ("region == 'eu'", True),  # inputs before variables
        ("limit == 5", True),  # then variables
        ("variables.region == 'us'", True),
        ("check_ci.all_passed", True),  # finally node ids
        ("inputs.environment == 'staging'", True),  # namespace wins over an output named inputs
        ("outputs.approve.inputs == 'an output named inputs'", True),
    ],
)
def test_bare_names_resolve_in_documented_order(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate(edge("approve")) == expected


def test_mapping_view() -> None:
    activation = edge("approve")
    assert activation["decision"] == "approved"
    assert "environment" in activation
    assert "secrets" not in activation
    assert "nothing" not in activation
    with pytest.raises(KeyError):
        activation["nothing"]
    names = list(activation)
    assert names[:3] == ["inputs", "outputs", "variables"]
    assert len(names) == len(set(names)) == len(activation)
    assert "inputs" in names and names.count("inputs") == 1
    assert activation.where("decision") == "source output"
    assert activation.where("environment") == "input"
    assert activation.where("limit") == "variable"
    assert activation.where("test") == "node"
    assert activation.where("inputs") == "namespace"
    assert activation.where("nothing") is None


def test_absent_namespace_is_reserved_not_a_fallthrough() -> None:
    activation = build_edge_activation({"loop": "an output named loop"}, inputs={})
    assert "loop" not in activation
    with pytest.raises(MissingReferenceError, match="'loop' namespace is not available"):
        compile_expression("size(loop) > 0").evaluate(activation)


def test_secrets_never_enter_the_activation() -> None:
    activation = build_edge_activation(
        {"secrets": {"X": "leak"}}, inputs={"secrets": "leak"}, extra={"secrets": {"X": "leak"}}
    )
    assert "secrets" not in activation
    with pytest.raises(MissingReferenceError, match="secrets cannot be read"):
        compile_expression("secrets.X == 'leak'").evaluate(activation)


def test_optional_namespaces_and_extra() -> None:
    activation = edge(
        "test",
        loop={"index": 2, "item": "b"},
        event={"type": "deploy.done", "data": {"ok": True}},
        metadata={"run_id": "r-1"},
        env={"STAGE": "qa"},
        extra={"custom": {"v": 1}},
    )
    source = (
        "loop.index == 2 && event.type == 'deploy.done' && event.data.ok "
        "&& metadata.run_id == 'r-1' && env.STAGE == 'qa' && custom.v == 1 && passed"
    )
    assert compile_expression(source).evaluate(activation) is True


def test_no_source_outputs() -> None:
    activation = build_edge_activation(None, inputs={"x": 1})
    assert compile_expression("x == 1").evaluate(activation) is True


def test_missing_bare_name_lists_what_exists() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("desicion == 'approved'").evaluate(edge("approve"))
    assert caught.value.reference == "desicion"
    assert "did you mean 'decision'" in str(caught.value)
