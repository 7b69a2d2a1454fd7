"""``${...}`` interpolation: types kept, text rendered as JSON, escapes, missing references."""

from __future__ import annotations

from typing import Any

import pytest

from osop.errors import ExpressionError, MissingReferenceError
from osop.expr import (
    find_references,
    find_template_errors,
    interpolate,
    make_scope,
    parse_reference,
    render_value,
)
from osop.expr.scope import NodeOutputs, Scope


def resolver(**overrides: Any) -> Any:
    namespaces: dict[str, Any] = {
        "inputs": {"version": "1.2.3", "count": 3, "ratio": 0.5, "flag": True, "nothing": None},
        "outputs": {
            "build": {"files": [{"url": "https://a/1"}, {"url": "https://a/2"}], "meta": {"k": 1}},
            "unit-tests": {"passed": False},
        },
        "secrets": {"API_TOKEN": "tok-123", "NESTED": {"user": "u", "pass": "p"}},
        "env": {"HOME": "/home/op", "DB_PASSWORD": "hunter2"},
        "metadata": {"run_id": "run-9"},
        "loop": {"user": {"name": "ada"}, "index": 0},
    }
    namespaces.update(overrides)
    return scope_of(namespaces).resolve


def scope_of(namespaces: dict[str, Any], handed_out: list[str] | None = None) -> Scope:
    return make_scope(
        inputs=namespaces.get("inputs"),
        outputs=NodeOutputs.of(namespaces["outputs"]) if "outputs" in namespaces else None,
        secrets=namespaces.get("secrets"),
        env=namespaces.get("env"),
        metadata=namespaces.get("metadata"),
        loop=namespaces.get("loop"),
        on_secret=handed_out.append if handed_out is not None else None,
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${inputs.count}", 3),
        ("${inputs.flag}", True),
        ("${inputs.nothing}", None),
        ("${outputs.build.meta}", {"k": 1}),
        ("${outputs.build.files}", [{"url": "https://a/1"}, {"url": "https://a/2"}]),
        ("${ inputs.count }", 3),
    ],
)
def test_whole_string_reference_keeps_the_type(template: str, expected: Any) -> None:
    assert interpolate(template, resolver()) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("v${inputs.version}", "v1.2.3"),
        ("n=${inputs.count}", "n=3"),
        ("r=${inputs.ratio}", "r=0.5"),
        ("flag=${inputs.flag}", "flag=true"),
        ("none=${inputs.nothing}", "none=null"),
        ("meta=${outputs.build.meta}", 'meta={"k":1}'),
        (" ${inputs.count}", " 3"),
        ("${inputs.version}-${inputs.count}", "1.2.3-3"),
        ("${outputs.build.files[1].url}/x", "https://a/2/x"),
        ("${outputs['unit-tests'].passed}!", "false!"),
        ('k=${outputs["build"]["meta"].k}', "k=1"),
        ("${loop.user.name}", "ada"),
        ("${metadata.run_id}", "run-9"),
        ("${env.HOME}/bin", "/home/op/bin"),
    ],
)
def test_embedded_references_are_rendered(template: str, expected: Any) -> None:
    assert interpolate(template, resolver()) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$${inputs.count}", "${inputs.count}"),
        ("cost: $5 and $$", "cost: $5 and $$"),
        ("echo $HOME", "echo $HOME"),
        ("a $${b} ${inputs.count}", "a ${b} 3"),
        ("no dollars at all", "no dollars at all"),
        ("", ""),
    ],
)
def test_escapes_and_plain_dollars(template: str, expected: Any) -> None:
    assert interpolate(template, resolver()) == expected


def test_nested_structures_are_walked_and_keys_left_alone() -> None:
    config = {
        "url": "https://svc/${inputs.version}",
        "${inputs.version}": "key untouched",
        "body": {"items": ["${inputs.count}", {"deep": "${outputs.build.files[0].url}"}]},
        "tuple": ("${inputs.flag}",),
        "number": 7,
        "none": None,
    }
    assert interpolate(config, resolver()) == {
        "url": "https://svc/1.2.3",
        "${inputs.version}": "key untouched",
        "body": {"items": [3, {"deep": "https://a/1"}]},
        "tuple": (True,),
        "number": 7,
        "none": None,
    }


def test_interpolation_does_not_mutate_its_input() -> None:
    config = {"a": ["${inputs.count}"]}
    interpolate(config, resolver())
    assert config == {"a": ["${inputs.count}"]}


# -- missing references -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "reference", "message_part"),
    [
        ("${inputs.verison}", "inputs.verison", "did you mean 'version'"),
        ("x ${outputs.biuld.files}", "outputs.biuld.files", "no outputs recorded for node 'biuld'"),
        ("${outputs.build.files[5].url}", "outputs.build.files[5].url", "has 2 items"),
        ("${outputs.build.meta[0]}", "outputs.build.meta[0]", "not a list"),
        ("${inputs.version.major}", "inputs.version.major", "is a string"),
        ("${inputs.nothing.x}", "inputs.nothing.x", "is null"),
        ("${secrets.API_TOKNE}", "secrets.API_TOKNE", "did you mean 'API_TOKEN'"),
        ("${env.NOPE}", "env.NOPE", "environment variable 'NOPE' is not set"),
        ("${input.version}", "input.version", "did you mean 'inputs'"),
        ("${secrets}", "secrets", "name one secret"),
        ("${outputs.build.meta.z}", "outputs.build.meta.z", "available: k"),
    ],
)
def test_missing_reference_names_it(template: str, reference: str, message_part: str) -> None:
    with pytest.raises(MissingReferenceError) as caught:
        interpolate(template, resolver())
    assert caught.value.reference == reference
    assert message_part in str(caught.value)


def test_namespace_not_provided_is_named() -> None:
    with pytest.raises(MissingReferenceError, match="'loop' namespace is not available"):
        interpolate("${loop.item}", make_scope(inputs={}).resolve)


def test_missing_reference_message_says_where_when_given_a_pointer() -> None:
    with pytest.raises(MissingReferenceError, match=r"at /nodes/2/runtime/headers/X"):
        interpolate({"headers": {"X": "${inputs.zz}"}}, resolver(), pointer="/nodes/2/runtime")


def test_secret_values_never_appear_in_missing_reference_messages() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        interpolate("${secrets.NOPE}", resolver())
    assert "tok-123" not in str(caught.value)


# -- malformed templates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message_part"),
    [
        ("${inputs.version", "unterminated ${"),
        ("${}", "empty reference"),
        ("${inputs..x}", "malformed reference"),
        ("${inputs.x[}", "malformed reference"),
        ("${inputs.x[a]}", "malformed reference"),
        ("${inputs.count + 1}", "only a reference"),
        ("${inputs[0}", "malformed reference"),
        ("${inputs.}", "malformed reference"),
    ],
)
def test_malformed_templates_are_expression_errors(template: str, message_part: str) -> None:
    with pytest.raises(ExpressionError, match=message_part.replace("$", r"\$").replace("{", r"\{")):
        interpolate(template, resolver())


@pytest.mark.parametrize(
    "template",
    [
        "echo ${HOME}",
        "echo ${VAR:-default} ${#items[@]} ${x/a/b}",
        "awk '{print $1}' | sed 's/${/x/'",
        "${.x}",
        "${PATH}",
    ],
)
def test_placeholders_outside_osop_namespaces_are_left_as_written(template: str) -> None:
    assert interpolate(template, resolver()) == template


def test_shell_variables_and_references_mix() -> None:
    assert interpolate("cp ${SRC}/a ${outputs.build.files[0].url}", resolver()) == (
        "cp ${SRC}/a https://a/1"
    )


def test_near_miss_of_a_namespace_is_not_left_as_written() -> None:
    with pytest.raises(MissingReferenceError, match="did you mean 'outputs'"):
        interpolate("${output.build.files}", resolver())


def test_custom_namespaces() -> None:
    assert interpolate("${run.id}-${inputs.count}", lambda ref: ref, namespaces=["run"]) == (
        "run.id-${inputs.count}"
    )


@pytest.mark.parametrize(
    ("reference", "path"),
    [
        ("inputs.version", ("inputs", "version")),
        ("outputs.build.files[0].url", ("outputs", "build", "files", 0, "url")),
        ("outputs['unit-tests'].passed", ("outputs", "unit-tests", "passed")),
        ('outputs["a.b"]', ("outputs", "a.b")),
        ("outputs.unit-tests.ok", ("outputs", "unit-tests", "ok")),
        ("m[0][1]", ("m", 0, 1)),
    ],
)
def test_parse_reference(reference: str, path: tuple[Any, ...]) -> None:
    assert parse_reference(reference) == path


def test_closing_brace_inside_quoted_key() -> None:
    r = make_scope(inputs={"a}b": "odd"}).resolve
    assert interpolate("${inputs['a}b']}", r) == "odd"


# -- secrets and redaction ----------------------------------------------------------------


def _secret_scope(handed_out: list[str]) -> Scope:
    return scope_of(
        {
            "inputs": {"version": "1.2.3"},
            "secrets": {"API_TOKEN": "tok-123", "NESTED": {"user": "u", "pass": "p"}},
            "env": {"HOME": "/home/op", "DB_PASSWORD": "hunter2"},
        },
        handed_out,
    )


def test_scope_hands_every_secret_it_resolves_to_on_secret() -> None:
    handed_out: list[str] = []
    result = _secret_scope(handed_out).interpolate(
        {"auth": "Bearer ${secrets.API_TOKEN}", "home": "${env.HOME}"}
    )
    assert result["auth"] == "Bearer tok-123"
    assert handed_out == ["tok-123"]


def test_whole_secret_mappings_hand_out_every_leaf() -> None:
    handed_out: list[str] = []
    assert _secret_scope(handed_out).resolve("secrets.NESTED") == {"user": "u", "pass": "p"}
    assert sorted(handed_out) == ["p", "u"]


def test_no_secret_handed_out_when_none_used() -> None:
    handed_out: list[str] = []
    _secret_scope(handed_out).interpolate("${inputs.version} ${env.HOME}")
    assert handed_out == []


# -- static analysis ----------------------------------------------------------------------


def test_find_references_reports_json_pointers() -> None:
    config = {
        "url": "https://${inputs.host}/${inputs.path}",
        "list": ["plain", "${outputs.a.b}"],
        "esc": "$${not.a.ref}",
        "a/b": "${env.X}",
        "bad": "${unterminated",
        "shell": "echo ${HOME} ${ inputs.x }",
    }
    assert find_references(config, "/nodes/0/runtime") == [
        ("/nodes/0/runtime/url", "inputs.host"),
        ("/nodes/0/runtime/url", "inputs.path"),
        ("/nodes/0/runtime/list/1", "outputs.a.b"),
        ("/nodes/0/runtime/a~1b", "env.X"),
        ("/nodes/0/runtime/shell", "HOME"),
        ("/nodes/0/runtime/shell", "inputs.x"),
    ]


def test_find_template_errors() -> None:
    errors = find_template_errors(
        {"ok": "${inputs.x}", "list": ["${inputs.x"], "n": "${inputs.a b}", "sh": "${A:-b} ${"}
    )
    assert [pointer for pointer, _ in errors] == ["/list/0", "/n"]
    assert all(isinstance(error, ExpressionError) for _, error in errors)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (True, "true"),
        (None, "null"),
        (3, "3"),
        (1.5, "1.5"),
        ([1, "a"], '[1,"a"]'),
        ({"é": 1}, '{"é":1}'),
    ],
)
def test_render_value(value: Any, text: str) -> None:
    assert render_value(value) == text
