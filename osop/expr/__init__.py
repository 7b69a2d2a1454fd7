"""Expressions: CEL conditions and ``${...}`` interpolation.

- :func:`compile_expression` / :class:`CompiledExpression`: CEL, compiled once, cached.
- :class:`Scope` / :func:`make_scope`: what an expression or a ``${...}`` sees
  (namespaces, the bare-name rule, secrets) — the one scope the engine, the
  executors and the validator share.
- :func:`osop_functions`: ``status()``, ``duration_of()``, ``error_of()``, ``attempt()``, ``now()``.
- :func:`referenced_names` / :func:`lint_expression`: static checks for the validator.
- :func:`interpolate`, :func:`parse_reference`, :func:`find_references`: ``${...}`` syntax.
"""

from __future__ import annotations

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
    find_references,
    find_template_errors,
    interpolate,
    parse_reference,
    render_value,
)
from osop.expr.lint import ExpressionProblem, lint_expression
from osop.expr.references import Reference, referenced_names
from osop.expr.scope import (
    BARE_NAME_ORDER,
    EXPRESSION_NAMESPACES,
    RESERVED_NAMES,
    Lazy,
    NodeOutputs,
    Scope,
    make_scope,
)
from osop.expr.status import NODE_STATUSES, STATUS_SPELLINGS, canonical_status

__all__ = [
    "BARE_NAME_ORDER",
    "EXPRESSION_NAMESPACES",
    "INTERPOLATION_NAMESPACES",
    "MAX_EXPRESSION_LENGTH",
    "NODE_STATUSES",
    "OSOP_FUNCTION_NAMES",
    "RESERVED_NAMES",
    "STATUS_SPELLINGS",
    "CompiledExpression",
    "ExpressionProblem",
    "Lazy",
    "NodeFacts",
    "NodeOutputs",
    "Reference",
    "Scope",
    "canonical_status",
    "compile_expression",
    "evaluate_expression",
    "find_references",
    "find_template_errors",
    "interpolate",
    "lint_expression",
    "make_scope",
    "osop_functions",
    "parse_reference",
    "referenced_names",
    "render_value",
    "to_plain",
]
