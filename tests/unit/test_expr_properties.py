"""Properties over generated input: only OSOP errors escape, and the fast path is exact."""

from __future__ import annotations

import contextlib
from typing import Any

import cel
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from osop.errors import OsopError
from osop.expr import (
    compile_expression,
    find_references,
    find_template_errors,
    interpolate,
    lint_expression,
    make_scope,
    referenced_names,
)
from osop.expr.scope import NodeOutputs

# Fragments that steer generated text towards the lexer's and parser's corners.
FRAGMENTS = [
    *"abxz_019 .,()[]{}'\"\\=!<>&|+-*/%?:$rRbBuUe\n\t",
    "in ",
    "true",
    "null",
    "status(",
    "has(",
    ".all(",
    ".exists(x, ",
    "outputs.",
    "loop.",
    "secrets.",
    "'''",
    '"""',
    "${",
    "$${",
    "AND",
    "0x",
    "1.5e3",
    "//",
    "'success'",
]
text = st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))

DATA: dict[str, Any] = {
    "outputs": {"a": {"b": 1, "l": [1, 2, 3], "m": {"k": "v"}}, "c": {"d": True}},
    "inputs": {"env": "prod", "n": 2},
    "loop": {"index": 1},
    "x": 5,
    "b": "s",
}

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(text)
def test_static_analysis_and_compilation_raise_only_osop_errors(source: str) -> None:
    referenced_names(source)
    lint_expression(source)
    try:
        expression = compile_expression(source)
    except OsopError:
        return
    with contextlib.suppress(OsopError):
        expression.evaluate(DATA)


@SETTINGS
@given(text)
def test_interpolation_raises_only_osop_errors(template: str) -> None:
    find_references({"k": [template]})
    find_template_errors(template)
    with contextlib.suppress(OsopError):
        interpolate(
            {"k": template},
            make_scope(inputs={"a": 1}, outputs=NodeOutputs.of({"n": {"x": [1]}})).resolve,
        )


PATHS = [
    "outputs",
    "outputs.a",
    "outputs.a.b",
    "outputs.a.l",
    "outputs.a.m",
    "outputs.a.m.k",
    "outputs.c.d",
    "outputs.zz",
    "outputs.a.zz",
    "outputs.a.zz.q",
    "inputs.env",
    "inputs.n",
    "inputs",
    "x",
    "loop.index",
    "outputs['a'].b",
    "outputs['a']['m'].k",
    "outputs.a.l[0]",
]
LEAVES = ["1", "'v'", "true", "null", "i", "[1, 2]", "2.0", "'prod'", "{'k': 1}"]


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    operators = st.sampled_from(["==", "!=", "<", "&&", "||", "in"])
    paths = st.sampled_from(PATHS)
    return st.one_of(
        st.tuples(children, operators, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"size({c})"),
        children.map(lambda c: f"!{c}"),
        paths.filter(lambda p: "[" not in p and "." in p).map(lambda p: f"has({p})"),
        st.tuples(paths, paths)
        .filter(lambda t: "." in t[0] + t[1] and "[" not in t[0] + t[1])
        .map(lambda t: f"(has({t[0]}.b) || has({t[1]}.d))"),
        st.tuples(paths, children).map(lambda t: f"{t[0]}.exists(i, {t[1]})"),
        st.tuples(paths, children).map(lambda t: f"{t[0]}.all(outputs, {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        children.map(lambda c: f"[{c}, 1]"),
        children.map(lambda c: f"{{'k': {c}}}.k"),
    )


expressions = st.recursive(
    st.one_of(st.sampled_from(PATHS), st.sampled_from(LEAVES)), _compound, max_leaves=6
)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions)
@example("has(outputs.a.b) && has(outputs.c.d)")
@example("has(outputs.a.m.k) && has(outputs.a.b) && size(outputs.a) == 3")
@example("has(outputs.a.zz) || has(outputs.c.d) && outputs.a.l.exists(i, i == 3)")
@example("has(outputs.a.b) ? outputs.a.m : outputs")
@example("false && outputs.zz.q || has(inputs.n) && loop.index == 1")
def test_evaluation_agrees_with_cel_on_the_whole_state(source: str) -> None:
    """Pruning and path flattening never change a result or turn an error into one."""
    try:
        expression = compile_expression(source)
    except OsopError:
        return
    try:
        expected: tuple[str, Any] = (
            "ok",
            cel.compile(expression.cel_source).execute(
                {("__loop__" if k == "loop" else k): v for k, v in DATA.items()}
            ),
        )
    except Exception:
        expected = ("error", None)
    try:
        got: tuple[str, Any] = ("ok", expression.evaluate(DATA))
    except OsopError:
        got = ("error", None)
    assert got == expected
