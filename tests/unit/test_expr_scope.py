"""The one expression scope: the bare-name rule, namespaces that cannot be shadowed,
``${...}`` paths, secrets, lazy namespaces and the classification guard."""

from __future__ import annotations

from typing import Any

import pytest

from osop.errors import ClassificationError, MissingReferenceError
from osop.expr import compile_expression
from osop.expr.scope import Lazy, NodeOutputs, Scope, for_each_expression, make_scope

OUTPUTS: dict[str, Any] = {
    "approve": {"decision": "approved", "inputs": "an output named inputs"},
    "check_ci": {"all_passed": True},
    "test": {"passed": True},
}
INPUTS = {"environment": "staging", "decision": "from inputs", "region": "eu"}
VARIABLES = {"region": "us", "limit": 5}


def edge(source: str, **extra: Any) -> Scope:
    return make_scope(
        own=OUTPUTS[source],
        inputs=INPUTS,
        outputs=NodeOutputs.of(OUTPUTS),
        variables=VARIABLES,
        **extra,
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
    activation = make_scope(own={"loop": "an output named loop"}, inputs={})
    assert "loop" not in activation
    with pytest.raises(MissingReferenceError, match="'loop' namespace is not available"):
        compile_expression("size(loop) > 0").evaluate(activation)


def test_secrets_never_enter_the_activation() -> None:
    activation = make_scope(
        own={"secrets": {"X": "leak"}}, inputs={"secrets": "leak"}, secrets={"X": "leak"}
    )
    assert "secrets" not in activation
    with pytest.raises(MissingReferenceError, match="secrets cannot be read"):
        activation.evaluate("secrets.X == 'leak'")
    assert activation.resolve("secrets.X") == "leak"  # ${secrets.X} in a configuration


def test_optional_namespaces() -> None:
    activation = edge(
        "test",
        loop={"index": 2, "item": "b"},
        event={"type": "deploy.done", "data": {"ok": True}},
        metadata={"run_id": "r-1"},
        env={"STAGE": "qa"},
        error={"code": "EXIT_1", "message": "boom"},
    )
    source = (
        "loop.index == 2 && event.type == 'deploy.done' && event.data.ok "
        "&& metadata.run_id == 'r-1' && env.STAGE == 'qa' && error.code == 'EXIT_1' && passed"
    )
    assert activation.evaluate(source) is True


def test_no_source_outputs() -> None:
    activation = make_scope(inputs={"x": 1})
    assert compile_expression("x == 1").evaluate(activation) is True


def test_missing_bare_name_lists_what_exists() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("desicion == 'approved'").evaluate(edge("approve"))
    assert caught.value.reference == "desicion"
    assert "did you mean 'decision'" in str(caught.value)


# -- ${...} and CEL read the same scope ----------------------------------------------------


ITEMS = {"a": {"items": [{"id": 7}, {"id": 8}], "count": 2}}


def test_indexing_works_in_both_syntaxes() -> None:
    scope = make_scope(inputs={}, outputs=NodeOutputs.of(ITEMS))
    assert scope.resolve("outputs.a.items[0].id") == 7
    assert scope.interpolate("id=${outputs.a.items[1].id}") == "id=8"
    assert scope.evaluate("outputs.a.items[0].id") == 7
    assert scope.evaluate("a.items[1].id == 8") is True  # a node id as a bare name


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("outputs.a.items[2]", "has 2 items"),
        ("outputs.a.itemz", "did you mean 'items'"),
        ("outputs.b.x", "no outputs recorded for node 'b'"),
        ("metadata.run_id", "'metadata' namespace is not available"),
    ],
)
def test_a_missing_reference_is_an_error_naming_it(reference: str, message: str) -> None:
    scope = make_scope(inputs={}, outputs=NodeOutputs.of(ITEMS))
    with pytest.raises(MissingReferenceError) as caught:
        scope.resolve(reference)
    assert caught.value.reference == reference
    assert message in str(caught.value)
    with pytest.raises(MissingReferenceError):
        scope.interpolate("x ${" + reference + "} y")


def test_rehearsal_leaves_what_cannot_resolve_as_written() -> None:
    scope = make_scope(inputs={}, secrets={}, rehearsal=True)
    assert scope.interpolate("a ${inputs.nope} b") == "a ${inputs.nope} b"
    assert scope.resolve("secrets.NOPE") == "***"


def test_metadata_is_computed_only_when_read() -> None:
    calls: list[int] = []

    def metadata() -> dict[str, Any]:
        calls.append(1)
        return {"run_id": "r-1"}

    scope = make_scope(inputs={"x": 1}, metadata=Lazy(metadata))
    assert scope.evaluate("x == 1") is True
    assert calls == []
    assert scope.evaluate("metadata.run_id") == "r-1"
    assert scope.resolve("metadata.run_id") == "r-1"
    assert len(calls) == 1  # once per scope, however often it is read


def test_bound_names_come_first() -> None:
    scope = make_scope(own={"item": "own"}, inputs={"n": 2})
    assert scope.bind(item=3).evaluate("item * n") == 6
    assert scope.evaluate("item") == "own"


def test_guarded_outputs_refuse_a_classified_node_and_hide_it() -> None:
    def guard(node_id: str) -> None:
        if node_id == "vault":
            raise ClassificationError("outputs of 'vault' are secret")

    outputs = {"vault": {"key": "k"}, "open": {"v": 1}}
    view = NodeOutputs(outputs.get, outputs.keys, guard=guard)
    scope = make_scope(inputs={}, outputs=view)
    with pytest.raises(ClassificationError):
        scope.resolve("outputs.vault.key")
    with pytest.raises(ClassificationError):
        scope.evaluate("outputs.vault.key == 'k'")
    assert list(view) == ["open"]
    assert scope.evaluate("size(outputs)") == 1  # the whole namespace: readable nodes only


def test_overlay_shows_outputs_before_they_are_recorded() -> None:
    view = NodeOutputs.of({"a": {"x": 1}}).with_overlay("b", {"y": 2})
    scope = make_scope(own={"y": 2}, inputs={}, outputs=view)
    assert scope.evaluate("outputs.b.y == 2 && outputs.a.x == 1 && y == 2") is True
    assert sorted(view) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${outputs.a.items}", "outputs.a.items"),
        ("outputs.a.items", "outputs.a.items"),
        (" ${inputs.list} ", "inputs.list"),
    ],
)
def test_for_each_expression(text: str, expected: str) -> None:
    assert for_each_expression(text) == expected
