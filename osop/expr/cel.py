"""CEL expressions: compiled once, evaluated in microseconds, failing with reasons.

:func:`compile_expression` lints, rewrites status spellings, compiles with the
``cel`` engine and caches the result by source text. :meth:`CompiledExpression.evaluate`
hands CEL only the part of the variables the expression can reach, maps every
foreign error to :class:`~osop.errors.ExpressionError` or
:class:`~osop.errors.MissingReferenceError`, and returns plain Python values.
"""

from __future__ import annotations

import base64
import difflib
import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from osop.errors import ExpressionError, MissingReferenceError, OsopError
from osop.expr._celengine import engine as cel
from osop.expr._celengine import stdlib_functions
from osop.expr.functions import OSOP_FUNCTION_NAMES
from osop.expr.legacy import modernise_operators
from osop.expr.lexer import CEL_ALIASES, Token, decode_string
from osop.expr.lint import lint_expression, lint_tokens
from osop.expr.references import Analysis, Reference, analyze
from osop.expr.status import apply_replacements, status_replacements

__all__ = [
    "MAX_EXPRESSION_LENGTH",
    "CompiledExpression",
    "compile_expression",
    "evaluate_expression",
    "to_plain",
]

# Longer than any sensible condition; bounds the work hostile input can cause.
MAX_EXPRESSION_LENGTH = 20_000

_STDLIB: dict[str, Callable[..., Any]] = dict(stdlib_functions)
_BUILTIN_FUNCTIONS = frozenset(
    {
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "timestamp",
        "duration",
        "type",
        "dyn",
        "has",
        "all",
        "exists",
        "exists_one",
        "map",
        "filter",
        "getFullYear",
        "getMonth",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
        "max",
        "min",
    }
)
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']*)'")
_FUNCTION_FAILED = re.compile(
    r"Function '([^']*)' error: (.*?)(?:\. Check function arguments.*)?$", re.S
)
_ALIAS_NAMES = {alias: name for name, alias in CEL_ALIASES.items()}
_SYNTAX_LOCATION = re.compile(r"<input>:(\d+):(\d+): (?:Syntax error: )?([^\n]*)")

Plan = dict[str, "Plan | None"]


class _HandledFunctionErrors(logging.Filter):
    """Drop the ``cel`` logger's note about a failing Python function: we raise it ourselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Python function '")


logging.getLogger("cel").addFilter(_HandledFunctionErrors())


class CompiledExpression:
    """One compiled CEL expression; immutable and safe to share and cache.

    Two programs are kept. The fast one has every plain dotted path
    (``outputs.test.passed``) replaced by a flat variable, so CEL converts one
    value instead of nested maps, and every OSOP function called with constant
    arguments (``status('build')``, ``attempt()``) replaced by a variable holding
    its result, computed before CEL runs: a call from CEL back into Python, and
    registering functions in a fresh context, cost more than the rest of the
    evaluation. The exact one is the expression as written
    (status spellings and the ``loop`` alias aside); it runs when a path does
    not resolve or the fast program fails, so errors and short-circuits follow
    CEL to the letter.
    """

    __slots__ = (
        "_engine_functions",
        "_exact_program",
        "_exact_roots",
        "_fast_calls",
        "_fast_functions",
        "_fast_paths",
        "_fast_program",
        "_fast_roots",
        "_reuse",
        "_stdlib",
        "calls",
        "cel_source",
        "references",
        "source",
    )

    def __init__(
        self,
        source: str,
        cel_source: str,
        exact_program: Any,
        fast: _Fast | None,
        analysis: Analysis,
    ) -> None:
        self.source = source
        # What CEL compiled: ``source`` with status spellings canonical and ``loop`` aliased.
        self.cel_source = cel_source
        self.references: tuple[Reference, ...] = analysis.references
        self.calls: frozenset[str] = analysis.calls
        self._exact_program = exact_program
        self._exact_roots = _roots(analysis.references)
        self._stdlib = {name: _STDLIB[name] for name in analysis.calls if name in _STDLIB}
        # Any other called name may be an engine-supplied function.
        self._engine_functions = tuple(
            sorted(name for name in analysis.calls if name not in _BUILTIN_FUNCTIONS)
        )
        # The last evaluation's activation, its values' types, and the context built
        # from them (None until they come round again); see :meth:`_execute_fast`.
        self._reuse: tuple[dict[str, Any], tuple[type, ...], Any] | None = None
        if fast is None:
            self._fast_program = exact_program
            self._fast_paths: tuple[tuple[str, tuple[str, ...]], ...] = ()
            self._fast_calls: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
            self._fast_roots = self._exact_roots
            self._fast_functions = self._engine_functions
        else:
            self._fast_program = fast.program
            self._fast_paths = fast.paths
            self._fast_calls = fast.calls
            self._fast_roots = _roots(fast.kept)
            self._fast_functions = tuple(
                name for name in self._engine_functions if name in fast.still_called
            )

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    @property
    def names(self) -> frozenset[str]:
        """The top-level variable names the expression reads."""
        return frozenset(root for root, _, _ in self._exact_roots)

    def evaluate(
        self,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> Any:
        """Evaluate against ``variables``; the result is plain Python data."""
        # Each call saved counts: inside the engine, between two evaluations, the caches
        # have gone cold and a Python call costs several times what it costs in a loop.
        activation = _activation(variables, self._fast_roots) if self._fast_roots else {}
        for flat_name, path in self._fast_paths:
            value = _lookup(variables, path)
            if value is _UNRESOLVED:
                return self._evaluate_exact(variables, functions)
            activation[flat_name] = value
        if self._fast_calls:
            if functions is None:
                return self._evaluate_exact(variables, functions)
            for flat_name, name, args in self._fast_calls:
                function = functions.get(name)
                if function is None:
                    return self._evaluate_exact(variables, functions)
                try:
                    activation[flat_name] = function(*args)
                except Exception:  # the exact program says why (or short-circuits past it)
                    return self._evaluate_exact(variables, functions)
        try:
            if self._fast_functions and functions:
                # Engine functions still called by the program: bound for this evaluation.
                failures: list[Exception] = []
                bound = self._bind_functions(functions, failures, self._fast_functions)
                result = self._fast_program.execute(cel.Context(activation, bound))
            else:
                result = self._execute_fast(activation)
        except Exception:
            return self._evaluate_exact(variables, functions)
        except BaseException as exc:  # pragma: no cover - a panic inside the Rust engine
            if type(exc).__name__ != "PanicException":
                raise
            raise ExpressionError(self.source, "the CEL engine failed on this expression") from exc
        return result if type(result) in _PLAIN_RESULTS else to_plain(result)

    def _execute_fast(self, activation: dict[str, Any]) -> Any:
        """Run the fast program, reusing the last context when nothing it holds changed.

        Handing CEL new variables costs ~2 µs (it rebuilds its context); running a
        program on a context it already has costs ~0.3 µs. An edge condition is
        mostly evaluated on the same few values (``status('build')``, a boolean
        output), so when the activation holds only immutable scalars and they are
        the values (and types: ``True`` is not ``1``) of the last evaluation, the
        context built then runs again. A context is never changed once built, so
        threads sharing this expression share it safely; it is built on the second
        evaluation with the same values, so values that change every time pay
        nothing for it.
        """
        types = tuple(map(type, activation.values()))
        if not _REUSABLE_TYPES.issuperset(types):
            return self._execute_plain(activation)
        last = self._reuse
        # Names are added in the same order every time (roots, paths, calls), so equal
        # dicts with equal type tuples hold the same value under each name.
        if last is None or last[1] != types or last[0] != activation:
            self._reuse = (activation, types, None)
            return self._execute_plain(activation)
        context = last[2]
        if context is None:
            context = cel.Context(activation, self._stdlib or None)
            self._reuse = (activation, types, context)
        return self._fast_program.execute(context)

    def _execute_plain(self, activation: dict[str, Any]) -> Any:
        if self._stdlib:
            return self._fast_program.execute(cel.Context(activation, self._stdlib))
        return self._fast_program.execute(activation)

    def _evaluate_exact(
        self,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None,
    ) -> Any:
        activation = _activation(variables, self._exact_roots)
        failures: list[Exception] = []
        bound_functions = self._bind_functions(functions, failures, self._engine_functions)
        try:
            result = self._exact_program.execute(cel.Context(activation, bound_functions))
        except Exception as exc:
            raise self._explain(exc, variables, functions, failures) from exc
        except BaseException as exc:  # pragma: no cover - a panic inside the Rust engine
            if type(exc).__name__ != "PanicException":
                raise
            raise ExpressionError(self.source, "the CEL engine failed on this expression") from exc
        return to_plain(result)

    def evaluate_condition(
        self,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> bool:
        """Evaluate a condition, which must be ``true`` or ``false`` (no truthiness)."""
        result = self.evaluate(variables, functions)
        if isinstance(result, bool):
            return result
        shown = _short(result)
        hint = "compare it explicitly, e.g. x == 'yes' or size(x) > 0"
        if result is None:
            hint = "null is neither true nor false; test x != null"
        raise ExpressionError(
            self.source,
            f"a condition must be true or false, got {type(result).__name__} {shown}",
            hint=hint,
        )

    def _bind_functions(
        self,
        functions: Mapping[str, Callable[..., Any]] | None,
        failures: list[Exception],
        names: tuple[str, ...],
    ) -> dict[str, Callable[..., Any]]:
        if not functions or not names:
            return self._stdlib  # handed to CEL as is, never changed
        bound: dict[str, Callable[..., Any]] = dict(self._stdlib)
        if functions:
            for name in names:
                function = functions.get(name)
                if function is not None:
                    bound[name] = _guard(function, failures)
        return bound

    # -- errors -------------------------------------------------------------------------

    def _explain(
        self,
        exc: Exception,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None,
        failures: list[Exception],
    ) -> OsopError:
        if failures:
            failure = failures[0]
            if isinstance(failure, OsopError):
                return failure
            return ExpressionError(self.source, f"a function failed: {failure}")
        text = str(exc)
        undefined = _UNDEFINED.search(text)
        if undefined:
            name = undefined.group(1).lstrip(".")
            return self._explain_undefined(_ALIAS_NAMES.get(name, name), variables, functions)
        if isinstance(exc, KeyError) or "no such key" in text.lower():
            missing = self._find_missing(variables)
            if missing is not None:
                return missing
            key = exc.args[0] if isinstance(exc, KeyError) and exc.args else text
            return ExpressionError(self.source, f"no such key: {key!r}")
        if "Conversion Error" in text:
            return self._explain_conversion(variables)
        failed = _FUNCTION_FAILED.search(text)
        if failed:
            name, detail = failed.group(1), failed.group(2).strip()
            return ExpressionError(self.source, f"{name}() failed: {detail}")
        if isinstance(exc, ZeroDivisionError):
            return ExpressionError(self.source, "division by zero")
        if isinstance(exc, IndexError):
            return ExpressionError(
                self.source, f"index out of range ({text})", hint="check size(list) first"
            )
        if isinstance(exc, OverflowError):
            return ExpressionError(self.source, "integer overflow", hint="CEL integers are 64-bit")
        if isinstance(exc, TypeError):
            return self._explain_type_error(text, variables)
        return ExpressionError(self.source, _first_sentence(text))

    def _explain_undefined(
        self,
        name: str,
        variables: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None,
    ) -> OsopError:
        if name in self.calls and name not in self.names:
            if name in _BUILTIN_FUNCTIONS or name in _STDLIB:
                # cel reports a built-in applied to the wrong types as "undefined".
                return ExpressionError(
                    self.source,
                    f"{name}() does not accept these arguments",
                    hint="check the argument types: CEL never converts them "
                    "(size() takes a string, list or map)",
                )
            if name in OSOP_FUNCTION_NAMES:
                return ExpressionError(
                    self.source,
                    f"{name}() is not available here",
                    hint="the OSOP functions exist while a run is in progress",
                )
            known = sorted(
                {*_BUILTIN_FUNCTIONS, *_STDLIB, *OSOP_FUNCTION_NAMES, *(functions or {})}
            )
            close = difflib.get_close_matches(name, known, n=1)
            return ExpressionError(
                self.source,
                f"unknown function {name}()",
                hint=f"did you mean {close[0]}()?" if close else None,
            )
        missing = self._find_missing(variables)
        if missing is not None:
            return missing
        return _missing_name(self.source, (name,), 0, variables)

    def _find_missing(self, variables: Mapping[str, Any]) -> MissingReferenceError | None:
        """The first reference, in source order, that does not resolve in ``variables``."""
        for reference in self.references:
            path = reference.path[:-1] if reference.guarded else reference.path
            depth = _unresolved_depth(variables, path)
            if depth is not None:
                return _missing_name(self.source, path, depth, variables)
        return None

    def _explain_conversion(self, variables: Mapping[str, Any]) -> ExpressionError:
        for root in sorted(self.names):
            if root in variables:
                try:
                    cel.Context().add_variable(root, variables[root])
                except Exception:
                    return ExpressionError(
                        self.source,
                        f"the value of {root!r} cannot be used in an expression",
                        hint="expressions work on strings, numbers, booleans, null, lists and maps",
                    )
        return ExpressionError(self.source, "a value cannot be used in an expression")

    def _explain_type_error(self, text: str, variables: Mapping[str, Any]) -> OsopError:
        message = _first_sentence(text)
        hint = (
            "CEL never converts types: compare like with like, "
            "or convert with int(), double(), string()"
        )
        for reference in self.references:
            parent = _resolve(variables, reference.path[:-1])
            if (
                reference.path[-1] in ("length", "len")
                and len(reference.path) > 1
                and (
                    isinstance(parent, list | tuple | str)
                    or (isinstance(parent, Mapping) and reference.path[-1] not in parent)
                )
            ):
                hint = f"use {'.'.join(reference.path[:-1])}.size() to count items"
                return ExpressionError(self.source, message, hint=hint)
        for reference in self.references:
            if _resolve(variables, reference.path) is None:
                hint = f"{reference.dotted} is null here; test {reference.dotted} != null first"
                break
        return ExpressionError(self.source, message, hint=hint)


def compile_expression(source: str, *, legacy: bool = False) -> CompiledExpression:
    """Compile ``source`` (cached: the same text gives the same object).

    Raises ExpressionError, with a hint, for anything that is not CEL. With
    ``legacy=True`` the word operators real files use (``AND``, ``or``, ``not``)
    are read as ``&&``, ``||``, ``!`` first (see :mod:`osop.expr.legacy`), and
    the result's ``source`` is that modern text.
    """
    if not isinstance(source, str):
        raise ExpressionError(
            repr(source), f"an expression must be a string, not {type(source).__name__}"
        )
    if legacy:
        return _compile_legacy(source)
    return _compile_cached(source)


@functools.lru_cache(maxsize=1024)
def _compile_legacy(source: str) -> CompiledExpression:
    modern, changes = modernise_operators(source)
    return _compile_cached(modern) if changes else _compile_cached(source)


def evaluate_expression(
    source: str,
    variables: Mapping[str, Any],
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Compile (cached) and evaluate in one call."""
    return compile_expression(source).evaluate(variables, functions)


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str) -> CompiledExpression:
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            source[:60] + "...",
            f"expression is {len(source)} characters long (limit {MAX_EXPRESSION_LENGTH})",
        )
    if not source.strip():
        problem = lint_expression(source)[0]
        raise ExpressionError(source, problem.message, hint=problem.hint)
    analysis = analyze(source)
    problems = [p for p in lint_tokens(analysis.tokens) if p.is_error]
    if problems:
        first = problems[0]
        where = _describe_offset(source, first.offset)
        raise ExpressionError(source, f"{first.message} ({where})", hint=first.hint)
    rewrites = status_replacements(analysis.tokens)
    aliases = _alias_replacements(analysis.tokens, ())
    exact_replacements = rewrites + aliases
    cel_source = apply_replacements(source, exact_replacements)
    exact_program = _cel_compile(cel_source, source, exact_replacements)
    return CompiledExpression(
        source, cel_source, exact_program, _fast_variant(source, analysis, rewrites), analysis
    )


@dataclass(frozen=True)
class _Fast:
    """The fast program and what to bind for it (see :class:`CompiledExpression`)."""

    program: Any
    #: flat variable → the dotted path it stands for
    paths: tuple[tuple[str, tuple[str, ...]], ...]
    #: flat variable → (OSOP function, constant arguments) whose result it holds
    calls: tuple[tuple[str, str, tuple[str, ...]], ...]
    #: references the fast program still reads as written
    kept: tuple[Reference, ...]
    #: functions the fast program still calls
    still_called: frozenset[str]


def _fast_variant(
    source: str, analysis: Analysis, rewrites: list[tuple[int, int, str]]
) -> _Fast | None:
    """Compile ``source`` with plain dotted paths and constant OSOP calls as flat variables."""
    tokens = analysis.tokens
    starts = {token.start: index for index, token in enumerate(tokens)}
    flat_names: dict[tuple[str, ...], str] = {}
    spans: list[tuple[int, int, str]] = []
    kept: list[Reference] = []
    for reference in analysis.references:
        index = starts.get(reference.offset, 0)
        after_dot = index > 0 and tokens[index - 1].is_op(".")
        if reference.guarded or len(reference.path) < 2 or after_dot or reference.root == "secrets":
            kept.append(reference)
            continue
        name = flat_names.setdefault(reference.path, f"__osop_path{len(flat_names)}__")
        spans.append((reference.offset, reference.end, name))
    call_names: dict[tuple[str, tuple[str, ...]], str] = {}
    still_called: set[str] = set()
    for index, token in enumerate(tokens):
        if token.kind != "ident" or index + 1 >= len(tokens) or not tokens[index + 1].is_op("("):
            continue
        if index > 0 and tokens[index - 1].is_op("."):
            continue  # a member call (``x.size()``): not an OSOP function
        call = _constant_call(tokens, index) if token.text in OSOP_FUNCTION_NAMES else None
        overlaps = call is not None and any(
            start < call[1] and call[0] < end for start, end, _ in rewrites
        )
        if call is None or overlaps:
            still_called.add(token.text)
            continue
        end, args = call[1], call[2]
        name = call_names.setdefault((token.text, args), f"__osop_call{len(call_names)}__")
        spans.append((token.start, end, name))
    if not spans:
        return None
    replacements = rewrites + spans + _alias_replacements(tokens, spans)
    try:
        program = cel.compile(apply_replacements(source, replacements))
    except Exception:  # pragma: no cover - the exact program compiled, so this should too
        return None
    return _Fast(
        program=program,
        paths=tuple((name, path) for path, name in flat_names.items()),
        calls=tuple((name, function, args) for (function, args), name in call_names.items()),
        kept=tuple(kept),
        still_called=frozenset(still_called),
    )


def _constant_call(
    tokens: tuple[Token, ...], index: int
) -> tuple[int, int, tuple[str, ...]] | None:
    """``f()`` or ``f('literal')`` at ``tokens[index]``: (start, end, arguments), else None."""
    following = tokens[index + 2 : index + 4]
    if following and following[0].is_op(")"):
        return tokens[index].start, following[0].end, ()
    if len(following) == 2 and following[0].kind == "string" and following[1].is_op(")"):
        value = decode_string(following[0])
        if value is not None:
            return tokens[index].start, following[1].end, (value,)
    return None


def _alias_replacements(
    tokens: tuple[Token, ...], covered: list[tuple[int, int, str]] | tuple[()]
) -> list[tuple[int, int, str]]:
    """``loop.index`` → ``__loop__.index``: ``loop`` is reserved in CEL but an OSOP namespace."""
    return [
        (token.start, token.end, CEL_ALIASES[token.text])
        for index, token in enumerate(tokens)
        if token.kind == "ident"
        and token.text in CEL_ALIASES
        and not (index > 0 and tokens[index - 1].is_op("."))
        and not any(start <= token.start < end for start, end, _ in covered)
    ]


def _cel_compile(text: str, original: str, replacements: list[tuple[int, int, str]]) -> Any:
    try:
        return cel.compile(text)
    except Exception as exc:
        raise _syntax_error(original, text, str(exc), replacements) from exc
    except BaseException as exc:  # pragma: no cover - a panic inside the Rust engine
        if type(exc).__name__ != "PanicException":
            raise
        raise ExpressionError(original, "the CEL parser failed on this expression") from exc


def _syntax_error(
    source: str, compiled: str, text: str, replacements: list[tuple[int, int, str]]
) -> ExpressionError:
    located = _SYNTAX_LOCATION.search(text)
    if located is None:
        return ExpressionError(source, f"not a valid CEL expression: {_first_sentence(text)}")
    line, column, detail = int(located.group(1)), int(located.group(2)), located.group(3).strip()
    # CEL reports a position in the text it compiled; say where that is in what the user wrote.
    offset = _original_offset(_offset_of(compiled, line, column), replacements)
    where = _describe_offset(source, offset)
    hint = None
    if "Recursion limit" in detail:
        return ExpressionError(
            source,
            f"expression nested too deeply at {where}",
            hint="split it into simpler conditions",
        )
    if " expecting " in detail:
        detail, _, _expected = detail.partition(" expecting ")
        if "'<EOF>'" in detail:
            hint = "the expression ends too early: finish the comparison or close the bracket"
    for alias, name in _ALIAS_NAMES.items():
        detail = detail.replace(alias, name)
    return ExpressionError(source, f"syntax error at {where}: {detail}", hint=hint)


def _describe_offset(source: str, offset: int) -> str:
    """``column 8``, or ``line 2, column 5`` in a multi-line expression."""
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return f"column {column}" if line == 1 else f"line {line}, column {column}"


def _offset_of(text: str, line: int, column: int) -> int:
    offset = 0
    for _ in range(line - 1):
        newline = text.find("\n", offset)
        if newline < 0:
            break
        offset = newline + 1
    return min(len(text), offset + max(column - 1, 0))


def _original_offset(offset: int, replacements: list[tuple[int, int, str]]) -> int:
    shift = 0
    for start, end, new in sorted(replacements):
        if start + shift >= offset:
            break
        shift += len(new) - (end - start)
    return max(offset - shift, 0)


# -- pruning: hand CEL only what the expression can reach ----------------------------------


def _build_plan(references: Iterable[Reference]) -> Plan:
    """A trie of referenced paths; a None leaf means "the whole value"."""
    plan: Plan = {}
    for reference in references:
        node: Plan = plan
        path = reference.path
        for index, key in enumerate(path):
            if index == len(path) - 1:
                node[key] = None
                break
            child = node.get(key, {})
            if child is None:
                break
            node[key] = child
            node = child
    return plan


def _roots(references: Iterable[Reference]) -> tuple[tuple[str, str, Plan | None], ...]:
    """(name in the caller's variables, name CEL knows it by, what to keep of it).

    ``secrets`` is left out whatever the caller passes: expressions never see secrets.
    """
    return tuple(
        (root, CEL_ALIASES.get(root, root), plan)
        for root, plan in _build_plan(references).items()
        if root != "secrets"
    )


def _activation(
    variables: Mapping[str, Any], roots: tuple[tuple[str, str, Plan | None], ...]
) -> dict[str, Any]:
    activation: dict[str, Any] = {}
    for root, cel_name, plan in roots:
        try:
            value = variables[root]
        except KeyError:
            continue
        if plan is not None:
            value = _prune(value, plan)
        elif type(value) not in _PLAIN_TYPES:  # checked inline: one call less per name
            value = _materialize(value)
        activation[cel_name] = value
    return activation


#: Values whose equality says CEL would see the same thing (floats are left out:
#: ``-0.0 == 0.0`` yet ``string()`` tells them apart).
_REUSABLE_TYPES = frozenset({str, int, bool, type(None)})

#: Results that are plain data already (a condition's ``true``/``false`` above all).
_PLAIN_RESULTS = frozenset({bool, int, float, str, type(None)})

#: Types handed to CEL as they are (checked first: an ABC isinstance costs more).
_PLAIN_TYPES = frozenset({dict, list, tuple, str, int, float, bool, bytes, type(None)})


def _materialize(value: Any) -> Any:
    """A lazy mapping (a scope's ``outputs`` view) as the plain dict CEL converts."""
    if type(value) in _PLAIN_TYPES or not isinstance(value, Mapping):
        return value
    return {key: value[key] for key in value}


def _lookup(variables: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path``, or ``_UNRESOLVED`` (absent, or a non-map on the way)."""
    value: Any = variables
    for key in path:
        if not isinstance(value, Mapping):
            return _UNRESOLVED
        try:
            value = value[key]
        except KeyError:
            return _UNRESOLVED
    return value


def _prune(value: Any, plan: Plan | None) -> Any:
    if plan is None:
        return _materialize(value)
    if not isinstance(value, Mapping):
        return value
    pruned: dict[str, Any] = {}
    for key, sub in plan.items():
        if key in value:
            pruned[key] = _prune(value[key], sub)
    return pruned


# -- missing references ------------------------------------------------------------------


def _unresolved_depth(variables: Mapping[str, Any], path: tuple[str, ...]) -> int | None:
    """Index of the first path segment that is absent, or None if it resolves (or cannot be judged)."""
    current: Any = variables
    for depth, key in enumerate(path):
        if not isinstance(current, Mapping):
            return None
        if key not in current:
            return depth
        current = current[key]
    return None


def _resolve(variables: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = variables
    for key in path:
        if not isinstance(current, Mapping) or key not in current:
            return _UNRESOLVED
        current = current[key]
    return current


_UNRESOLVED = object()


def _missing_name(
    source: str, path: tuple[str, ...], depth: int, variables: Mapping[str, Any]
) -> MissingReferenceError:
    reference = ".".join(path[: depth + 1])
    missing = path[depth]
    if depth == 0:
        available = sorted(k for k in variables if isinstance(k, str))
        if missing == "secrets":
            detail = "secrets cannot be read by expressions; use ${secrets.NAME} in a node's config"
        elif missing in _namespaces():
            detail = f"the {missing!r} namespace is not available here"
        else:
            detail = f"unknown name {missing!r}" + _suggest(missing, available)
            if missing == "status":
                detail += "; for a node's run status call status('<node id>') or status()"
    else:
        parent = ".".join(path[:depth])
        container = _resolve(variables, path[:depth])
        available = (
            sorted(k for k in container if isinstance(k, str))
            if isinstance(container, Mapping)
            else []
        )
        if path[0] == "outputs" and depth == 1:
            detail = f"no outputs recorded for node {missing!r}" + _suggest(missing, available)
        else:
            detail = f"{parent} has no field {missing!r}" + _suggest(missing, available)
    return MissingReferenceError(
        reference, f"{detail} (reference {reference!r} in expression {source!r})"
    )


def _namespaces() -> tuple[str, ...]:
    from osop.expr.scope import EXPRESSION_NAMESPACES  # the scope module builds on this one

    return EXPRESSION_NAMESPACES


def _suggest(name: str, available: list[str]) -> str:
    close = difflib.get_close_matches(name, available, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    if available:
        shown = ", ".join(available[:10]) + (", ..." if len(available) > 10 else "")
        return f"; available: {shown}"
    return ""


# -- results -----------------------------------------------------------------------------


def to_plain(value: Any) -> Any:
    """CEL results as plain data: timestamps → RFC 3339 strings, durations → seconds,
    bytes → UTF-8 text (base64 when not text), optionals → their value or None."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {_plain_key(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, cel.OptionalValue):
        return to_plain(value.value()) if value.has_value() else None
    return str(value)


def _plain_key(key: Any) -> Any:
    return key if isinstance(key, str | int | bool) else str(to_plain(key))


def _guard(function: Callable[..., Any], failures: list[Exception]) -> Callable[..., Any]:
    """Remember what an engine function raised, so the real error reaches the caller."""

    def guarded(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:
            failures.append(exc)
            raise

    return guarded


def _first_sentence(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "evaluation failed"
    for marker in (". CEL does not", ". Check that", ". Convert explicitly", ". Check function"):
        first = first.split(marker)[0]
    return first.rstrip(".")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
