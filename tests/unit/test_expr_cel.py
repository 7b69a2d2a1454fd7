"""Compiling and evaluating CEL: caching, results as plain data, errors that explain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from osop.errors import ExpressionError, MissingReferenceError
from osop.expr import (
    MAX_EXPRESSION_LENGTH,
    CompiledExpression,
    NodeFacts,
    compile_expression,
    evaluate_expression,
    osop_functions,
)

STATE: dict[str, Any] = {
    "outputs": {
        "test": {"passed": True, "failures": 0, "items": [1, 2, 3], "none": None},
        "unit-tests": {"ok": True},
        "fetch": {"rows": [{"id": 1}, {"id": 2}]},
    },
    "inputs": {"environment": "staging", "count": 3},
    "decision": "approved",
}


def test_same_source_gives_the_same_compiled_object() -> None:
    first = compile_expression("decision == 'approved' && 1 < 2")
    assert compile_expression("decision == 'approved' && 1 < 2") is first
    assert isinstance(first, CompiledExpression)
    assert compile_expression("decision == 'rejected'") is not first


def test_failed_compilations_are_not_cached_as_values() -> None:
    for _ in range(2):
        with pytest.raises(ExpressionError):
            compile_expression("a AND b")


def test_non_string_source_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        compile_expression(["not", "a", "string"])  # type: ignore[arg-type]
    with pytest.raises(ExpressionError):
        compile_expression(None)  # type: ignore[arg-type]


def test_huge_expression_is_refused() -> None:
    with pytest.raises(ExpressionError, match="limit"):
        compile_expression("1 + " * MAX_EXPRESSION_LENGTH + "1")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("outputs.test.passed == true && inputs.environment != 'production'", True),
        ("decision == 'approved'", True),
        ("outputs['unit-tests'].ok", True),
        ("outputs.test.items.size()", 3),
        ("outputs.test.items.exists(x, x > 2)", True),
        ("outputs.fetch.rows.map(r, r.id)", [1, 2]),
        ("has(outputs.test.passed)", True),
        ("has(outputs.test.nothing)", False),
        ("outputs.test.none == null", True),
        ("inputs.count * 2", 6),
        ("double(inputs.count) / 2.0 == 1.5", True),
        ("'staging' in [inputs.environment]", True),
        ("{'a': inputs.count}", {"a": 3}),
        ("inputs.environment.startsWith('stag') ? 'pre' : 'prod'", "pre"),
        ("false && outputs.test.missing", False),
        ("true || outputs.missing.x", True),
        ("outputs.missing.x || true", True),
    ],
)
def test_evaluate(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate(STATE) == expected


def test_evaluate_expression_shortcut() -> None:
    assert evaluate_expression("1 + 2", {}) == 3


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("timestamp('2024-05-01T10:00:00Z')", "2024-05-01T10:00:00Z"),
        ("duration('90s')", 90.0),
        ("b'abc'", "abc"),
        ("b'\\xff'", "/w=="),
        ("1u", 1),
        (
            "[duration('1s'), {'t': timestamp('2024-01-01T00:00:00Z')}]",
            [1.0, {"t": "2024-01-01T00:00:00Z"}],
        ),
        ("type(1)", "int"),
        ("optional.of(5)", 5),
        ("optional.none()", None),
    ],
)
def test_results_are_plain_python(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate({}) == expected


def test_the_callers_data_is_never_mutated() -> None:
    state = {"outputs": {"a": {"b": 1, "c": [1]}}}
    compile_expression("outputs.a.b == 1 && size(outputs.a.c) == 1").evaluate(state)
    assert state == {"outputs": {"a": {"b": 1, "c": [1]}}}


# -- missing references name what is missing ----------------------------------------------


def test_unknown_bare_name_is_named_with_a_suggestion() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("decison == 'approved'").evaluate(STATE)
    assert caught.value.reference == "decison"
    assert "did you mean 'decision'" in str(caught.value)


def test_missing_output_field_is_named() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("outputs.test.pased == true").evaluate(STATE)
    assert caught.value.reference == "outputs.test.pased"
    assert "did you mean 'passed'" in str(caught.value)


def test_missing_node_is_named() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("outputs.deploy.url != ''").evaluate(STATE)
    assert caught.value.reference == "outputs.deploy"
    assert "no outputs recorded for node 'deploy'" in str(caught.value)


def test_missing_reference_inside_has_is_about_the_parent() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("has(outputs.deploy.url)").evaluate(STATE)
    assert caught.value.reference == "outputs.deploy"


def test_secrets_are_never_visible_to_expressions() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("secrets.TOKEN == 'x'").evaluate({"secrets": {"TOKEN": "x"}, **STATE})
    assert "secrets cannot be read by expressions" in str(caught.value)


def test_missing_name_mentions_status_function_when_status_is_bare() -> None:
    with pytest.raises(MissingReferenceError, match=r"status\('<node id>'\)"):
        compile_expression("status == 'success'").evaluate({})


def test_error_in_a_dynamic_index_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="no such key"):
        compile_expression("{'a': 1}['b']").evaluate({})


# -- other evaluation errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message", "hint"),
    [
        ("1 / 0", "division by zero", None),
        ("outputs.test.items[7]", "index out of range", "size(list)"),
        ("9223372036854775807 + 1", "integer overflow", "64-bit"),
        ("inputs.count + 'a'", "", "convert with"),
        ("inputs.count.size()", "size() does not accept these arguments", "argument types"),
        ("outputs.test.items.length == 3", "", "outputs.test.items.size()"),
        ("outputs.test.none > 1", "", "outputs.test.none is null here"),
        ("int('abc')", "int() failed", None),
        ("undefined_fn(1)", "unknown function undefined_fn()", None),
        ("sise(inputs)", "unknown function sise()", "did you mean size()?"),
    ],
)
def test_evaluation_errors_are_expression_errors(
    source: str, message: str, hint: str | None
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source).evaluate(STATE)
    assert message in caught.value.message
    if hint is not None:
        assert hint in (caught.value.hint or "")


def test_values_cel_cannot_hold_are_named() -> None:
    with pytest.raises(ExpressionError, match="'bad' cannot be used"):
        compile_expression("size(bad) > 0").evaluate({"bad": {1, 2}})


def test_condition_must_be_boolean() -> None:
    assert compile_expression("inputs.count > 1").evaluate_condition(STATE) is True
    with pytest.raises(ExpressionError, match="must be true or false"):
        compile_expression("inputs.environment").evaluate_condition(STATE)
    with pytest.raises(ExpressionError) as caught:
        compile_expression("outputs.test.none").evaluate_condition(STATE)
    assert "null" in (caught.value.hint or "")


# -- functions ----------------------------------------------------------------------------


def engine_functions(**kwargs: Any) -> Mapping[str, Any]:
    facts = {
        "build": NodeFacts("FAILED", 12.5, {"code": "E42", "message": "boom"}, 2),
        "test": NodeFacts("COMPLETED", 3.0),
    }
    return osop_functions(
        facts.get, current="build", known_ids={"build", "test", "deploy"}, **kwargs
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("status('build') == 'FAILED'", True),
        ("status('build') == 'failure'", True),
        ("status() == 'failed'", True),
        ("status('deploy')", "PENDING"),
        ("duration_of('build') > 10", True),
        ("duration_of('build') > 10.0", True),
        ("duration_of('deploy') == null", True),
        ("error_of('build').code == 'E42'", True),
        ("error_of('test').message == ''", True),
        ("error_of().message.contains('boo')", True),
        ("attempt() < 3", True),
    ],
)
def test_osop_functions(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate({}, engine_functions()) == expected


def test_now_uses_the_engine_clock() -> None:
    frozen = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    functions = engine_functions(clock=lambda: frozen)
    assert compile_expression("now()").evaluate({}, functions) == "2030-01-02T03:04:05Z"
    assert compile_expression("now() > timestamp('2029-12-31T00:00:00Z')").evaluate({}, functions)


def test_unknown_node_in_status_is_a_missing_reference_with_suggestion() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("status('biuld') == 'success'").evaluate({}, engine_functions())
    assert caught.value.reference == "status('biuld')"
    assert "did you mean 'build'" in str(caught.value)


def test_unquoted_node_id_says_how_to_write_it() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("status(build) == 'success'").evaluate(
            {"build": {"x": 1}}, engine_functions()
        )
    assert "status('build')" in str(caught.value)


def test_osop_function_without_engine_is_not_available() -> None:
    with pytest.raises(ExpressionError, match=r"status\(\) is not available here"):
        compile_expression("status('build') == 'success'").evaluate({})


def test_function_failure_absorbed_by_short_circuit_like_cel() -> None:
    assert compile_expression("true || status('nope') == 'x'").evaluate({}, engine_functions())


def test_a_foreign_exception_in_a_function_becomes_an_expression_error() -> None:
    def broken(_: object) -> object:
        raise RuntimeError("database down")

    with pytest.raises(ExpressionError, match="database down"):
        compile_expression("lookup('x') == 1").evaluate({}, {"lookup": broken})


def test_stdlib_extensions_are_available() -> None:
    assert compile_expression("'Hello'.lowerAscii()").evaluate({}) == "hello"
    assert compile_expression("math.greatest([1, 5, 2])").evaluate({}) == 5
    assert compile_expression("['a', 'b'].join('-')").evaluate({}) == "a-b"


def test_engine_functions_not_called_are_not_required() -> None:
    assert compile_expression("1 == 1").evaluate({}, {"status": lambda _: "x"}) is True


# -- the loop namespace (``loop`` is reserved in CEL) -------------------------------------


def test_loop_namespace_works_in_cel() -> None:
    expression = compile_expression("loop.index < 3 && loop.item.startsWith('a')")
    assert expression.evaluate({"loop": {"index": 1, "item": "abc"}}) is True
    assert "__loop__" in expression.cel_source


def test_missing_loop_field_is_named_as_loop() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        compile_expression("has(loop.x) || loop.index > 1").evaluate({"loop": {"item": 1}})
    assert caught.value.reference == "loop.index"


def test_missing_loop_namespace_is_named_as_loop() -> None:
    with pytest.raises(MissingReferenceError, match="'loop' namespace is not available"):
        compile_expression("size(loop) > 0").evaluate({})


# -- static facts -------------------------------------------------------------------------


def test_compiled_expression_exposes_names_and_calls() -> None:
    expression = compile_expression("outputs.a.b == 1 && status('x') == 'ok' && flag")
    assert expression.names == {"outputs", "flag"}
    assert "status" in expression.calls
    assert [r.dotted for r in expression.references] == ["outputs.a.b", "flag"]
    assert (
        repr(expression)
        == "CompiledExpression(\"outputs.a.b == 1 && status('x') == 'ok' && flag\")"
    )


# -- constant OSOP calls are computed before CEL runs; the results must not change ---------


def test_constant_calls_short_circuit_as_cel_does() -> None:
    # status('nope') would fail; CEL never gets to it, so neither may the engine.
    assert not compile_expression("false && status('nope') == 'X'").evaluate({}, engine_functions())
    assert compile_expression("true || status('nope') == 'X'").evaluate({}, engine_functions())


def test_a_failing_constant_call_still_names_the_node() -> None:
    with pytest.raises(MissingReferenceError, match="did you mean 'build'"):
        compile_expression("true && status('biuld') == 'X'").evaluate({}, engine_functions())


def test_calls_with_variable_arguments_still_call_into_the_engine() -> None:
    expression = compile_expression("status(which) == 'COMPLETED' && status('build') == 'FAILED'")
    assert expression.evaluate({"which": "test"}, engine_functions())


def test_a_repeated_call_is_made_once() -> None:
    calls: list[str] = []
    facts = {"test": NodeFacts("COMPLETED", 3.0)}

    def lookup(node_id: str) -> NodeFacts | None:
        calls.append(node_id)
        return facts.get(node_id)

    functions = osop_functions(lookup, current="test", known_ids={"test"})
    source = "status('test') == 'COMPLETED' && status('test') != 'FAILED'"
    assert compile_expression(source).evaluate({}, functions) is True
    assert calls == ["test"]


def test_constant_calls_without_engine_functions_are_not_available() -> None:
    with pytest.raises(ExpressionError, match="not available here"):
        compile_expression("status('build') == 'FAILED'").evaluate({})


# -- the context reused across evaluations -------------------------------------------------


def test_a_reused_context_follows_the_values() -> None:
    condition = compile_expression("outputs.test.failures > 1")
    answers = [
        condition.evaluate({"outputs": {"test": {"failures": n}}}) for n in (2, 2, 2, 0, 0, 5, 0)
    ]
    assert answers == [True, True, True, False, False, True, False]


def test_a_reused_context_tells_types_apart() -> None:
    # True == 1 and 1 == 1.0 in Python; CEL sees a bool, an int and a double.
    same = compile_expression("x == 1")
    assert same.evaluate({"x": 1}) is True
    assert same.evaluate({"x": 1}) is True  # the context is built and kept now
    assert same.evaluate({"x": True}) is False
    assert same.evaluate({"x": 1}) is True
    text = compile_expression("string(x)")
    assert [text.evaluate({"x": v}) for v in (0.0, 0.0, -0.0, 0, 0, "0")] == [
        "0",
        "0",
        "-0",
        "0",
        "0",
        "0",
    ]


def test_a_reused_context_sees_a_name_disappear() -> None:
    guarded = compile_expression("has(inputs.flag) && inputs.flag")
    assert guarded.evaluate({"inputs": {"flag": True}}) is True
    assert guarded.evaluate({"inputs": {"flag": True}}) is True
    assert guarded.evaluate({"inputs": {}}) is False
    bare = compile_expression("decision == 'approved'")
    assert bare.evaluate({"decision": "approved"}) is True
    assert bare.evaluate({"decision": "approved"}) is True
    with pytest.raises(MissingReferenceError, match="decision"):
        bare.evaluate({"other": "approved"})


def test_a_reused_context_with_constant_osop_calls_and_library_functions() -> None:
    def facts(status: str) -> Mapping[str, Any]:
        return osop_functions({"build": NodeFacts(status)}.get, current="build")

    condition = compile_expression("status('build') == 'COMPLETED' && lowerAscii(x) == 'a'")
    results = [
        condition.evaluate({"x": x}, facts(status))
        for x, status in [
            ("A", "COMPLETED"),
            ("A", "COMPLETED"),
            ("A", "COMPLETED"),
            ("A", "FAILED"),
            ("B", "COMPLETED"),
        ]
    ]
    assert results == [True, True, True, False, False]


def test_mutable_values_are_never_taken_from_an_earlier_evaluation() -> None:
    rows: list[int] = [1, 2]
    counted = compile_expression("size(rows) == 2")
    assert counted.evaluate({"rows": rows}) is True
    assert counted.evaluate({"rows": rows}) is True
    rows.append(3)  # the same list object, changed in place
    assert counted.evaluate({"rows": rows}) is False


def test_threads_sharing_an_expression_each_get_their_own_answer() -> None:
    from concurrent.futures import ThreadPoolExecutor

    condition = compile_expression("n % 2 == 0")

    def check(n: int) -> bool:
        return condition.evaluate({"n": n}) is (n % 2 == 0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(check, [i // 3 for i in range(3_000)]))
