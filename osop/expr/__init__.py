"""Expressions: CEL conditions and ``${...}`` interpolation.

- :func:`compile_expression` / :class:`CompiledExpression`: CEL, compiled once, cached.
- :func:`build_edge_activation`: the names an edge's ``when`` sees (bare-name rule).
- :func:`osop_functions`: ``status()``, ``duration_of()``, ``error_of()``, ``attempt()``, ``now()``.
- :func:`referenced_names` / :func:`lint_expression`: static checks for the validator.
- :func:`interpolate` / :func:`make_resolver`: ``${inputs.x}`` in configuration values.
"""

from __future__ import annotations

from osop.expr.activation import NAMESPACES, EdgeActivation, build_edge_activation
from osop.expr.cel import (
    MAX_EXPRESSION_LENGTH,
    CompiledExpression,
    compile_expression,
    evaluate_expression,
    to_plain,
)
from osop.expr.functions import OSOP_FUNCTION_NAMES, NodeFacts, osop_functions
from osop.expr.interpolate import (
    INTERPOLATION_NAMESPACES,
    Resolver,
    find_references,
    find_template_errors,
    interpolate,
    make_resolver,
    parse_reference,
    render_value,
)
from osop.expr.lint import ExpressionProblem, lint_expression
from osop.expr.references import Reference, referenced_names
from osop.expr.status import NODE_STATUSES, STATUS_SPELLINGS, canonical_status

__all__ = [
    "INTERPOLATION_NAMESPACES",
    "MAX_EXPRESSION_LENGTH",
    "NAMESPACES",
    "NODE_STATUSES",
    "OSOP_FUNCTION_NAMES",
    "STATUS_SPELLINGS",
    "CompiledExpression",
    "EdgeActivation",
    "ExpressionProblem",
    "NodeFacts",
    "Reference",
    "Resolver",
    "build_edge_activation",
    "canonical_status",
    "compile_expression",
    "evaluate_expression",
    "find_references",
    "find_template_errors",
    "interpolate",
    "lint_expression",
    "make_resolver",
    "osop_functions",
    "parse_reference",
    "referenced_names",
    "render_value",
    "to_plain",
]
