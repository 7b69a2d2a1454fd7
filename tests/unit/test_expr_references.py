"""Static references: what the validator checks and what the evaluator hands to CEL."""

from __future__ import annotations

import pytest

from osop.errors import ExpressionError
from osop.expr import referenced_names


def paths(source: str) -> list[tuple[str, ...]]:
    return [r.path for r in referenced_names(source)]


def test_dotted_and_bare_names() -> None:
    assert paths("outputs.test.passed == true && decision == 'approved'") == [
        ("outputs", "test", "passed"),
        ("decision",),
    ]


def test_offsets_and_ends_cover_the_reference() -> None:
    source = "x == 1 || outputs.build.ok"
    (first, second) = referenced_names(source)
    assert (first.offset, first.end) == (0, 1)
    assert source[second.offset : second.end] == "outputs.build.ok"
    assert second.dotted == "outputs.build.ok"
    assert second.root == "outputs"


def test_identifiers_inside_strings_are_not_references() -> None:
    assert paths("name == 'outputs.secret && x' || other == \"y.z\"") == [
        ("name",),
        ("other",),
    ]
    assert paths("a == '''b\nc''' && r'd' == e") == [("a",), ("e",)]


def test_function_names_and_member_calls_are_excluded() -> None:
    assert paths("size(items) > 0 && name.startsWith('x') && status('build') == 'ok'") == [
        ("items",),
        ("name",),
    ]


def test_member_call_ends_the_path() -> None:
    assert paths("outputs.fetch.rows.size() > 0") == [("outputs", "fetch", "rows")]


def test_macro_bound_variables_are_excluded() -> None:
    source = (
        "outputs.l.all(x, x > limit) && items.exists(i, i.ok) "
        "&& rows.exists_one(r, r.id == wanted) && xs.map(v, v * 2) == ys "
        "&& xs.filter(f, f != skip).size() > 0"
    )
    assert paths(source) == [
        ("outputs", "l"),
        ("limit",),
        ("items",),
        ("rows",),
        ("wanted",),
        ("xs",),
        ("ys",),
        ("xs",),
        ("skip",),
    ]


def test_bound_variable_is_only_bound_inside_its_macro() -> None:
    assert paths("xs.all(x, x > 0) && x == 1") == [("xs",), ("x",)]


def test_bound_variable_may_shadow_a_namespace_inside_the_macro_only() -> None:
    assert paths("xs.exists(outputs, outputs > 1) && outputs.a.b") == [
        ("xs",),
        ("outputs", "a", "b"),
    ]


def test_map_with_three_arguments_binds_its_first() -> None:
    assert paths("xs.map(x, x > 0, x * k)") == [("xs",), ("k",)]


def test_keywords_are_not_references() -> None:
    assert paths("a in [true, false, null]") == [("a",)]


def test_string_index_extends_the_path() -> None:
    assert paths("outputs['unit-tests'].passed && outputs[\"build\"]['x'].y") == [
        ("outputs", "unit-tests", "passed"),
        ("outputs", "build", "x", "y"),
    ]


def test_dynamic_or_numeric_index_stops_the_path() -> None:
    assert paths("outputs[node].x && items[0].name") == [
        ("outputs",),
        ("node",),
        ("items",),
    ]


def test_has_marks_references_as_guarded() -> None:
    (guarded, plain) = referenced_names("has(outputs.a.b) && outputs.c.d")
    assert guarded.guarded and guarded.path == ("outputs", "a", "b")
    assert not plain.guarded


def test_parenthesised_receiver() -> None:
    assert paths("(outputs.a).b == x") == [("outputs", "a"), ("x",)]


def test_fields_of_literals_are_not_references() -> None:
    assert paths("{'a': 1}.a == 1 && [1][0] == n") == [("n",)]


def test_map_literal_keys_that_are_names_are_references() -> None:
    assert paths("{key: value}") == [("key",), ("value",)]


def test_qualified_stdlib_function_is_not_a_variable() -> None:
    assert paths("math.greatest([a, 2]) > base64.encode(b).size()") == [("a",), ("b",)]


def test_loop_is_a_reference_although_cel_reserves_it() -> None:
    assert paths("loop.index < 3") == [("loop", "index")]


def test_other_reserved_words_are_not_references() -> None:
    assert paths("if == 1") == []


def test_bad_text_is_skipped_not_raised() -> None:
    assert paths("a == 'unterminated") == [("a",)]
    assert paths("a AND b") == [("a",), ("AND",), ("b",)]
    assert paths("") == []


def test_non_string_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        referenced_names(42)  # type: ignore[arg-type]
