"""A yes/no check of a small document against a shipped schema, in plain Python.

Why: the Rust validator (``jsonschema_rs``) answers in microseconds, but loading
it costs ~15 ms of CPU (its extension imports ``email.utils``, ``socket``,
``decimal`` and compiles three schemas) — more than the rest of checking a small
file's schema, and a tenth of ``osop validate`` of one small file. For a small
document, walking the schema in Python costs well under a millisecond.

It knows the keywords the shipped schemas use, with JSON Schema 2020-12 meaning.
Anything it does not know for certain — another keyword, a ``$ref`` to another
file, a value that is not plain JSON data, a string a ``pattern`` might read
differently in Python's regex dialect than in ECMA-262 — raises
:class:`Unsupported`, and the caller asks the Rust validator instead. Saying
"invalid" is always safe (the detailed validator then lists the errors, or
finds none); saying "valid" must be exact, which
``tests/unit/test_quick_schema.py`` checks against both validators.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["Unsupported", "quick_is_valid"]


class Unsupported(Exception):
    """The schema or the data needs the full validator."""


#: Keywords that never make a document invalid (annotations; ``then``/``else`` are
#: read by ``if``; ``$defs`` only by ``$ref``).
_IGNORED = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",  # an annotation in 2020-12 unless a format checker is asked for
        "then",
        "else",
    }
)

_PATTERNS: dict[str, re.Pattern[str]] = {}


#: ``^`` and literal characters: a prefix test, the same in every regex dialect.
_PREFIX = re.compile(r"\^[A-Za-z0-9_:-]*")


def _search(pattern: str, text: str) -> bool:
    if _PREFIX.fullmatch(pattern):
        return text.startswith(pattern[1:])
    # Python's and ECMA-262's regexes agree on printable ASCII for the patterns we
    # ship (no `$` before a newline, `\s` is only the space); elsewhere ask Rust.
    if not (text.isascii() and text.isprintable()):
        raise Unsupported("pattern on non-ASCII text")
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern)
    return compiled.search(text) is not None


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _type_is(name: str, x: Any) -> bool:
    if name == "object":
        return isinstance(x, dict)
    if name == "array":
        return isinstance(x, list)
    if name == "string":
        return isinstance(x, str)
    if name == "boolean":
        return isinstance(x, bool)
    if name == "null":
        return x is None
    if name == "number":
        return _is_number(x)
    if name == "integer":
        return _is_number(x) and (isinstance(x, int) or float(x).is_integer())
    raise Unsupported(f"type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(p, q) for p, q in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is None and b is None


class _Checker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def valid(self, schema: Any, x: Any) -> bool:
        if schema is True:
            return True
        if schema is False:
            return False
        if not isinstance(schema, dict):
            raise Unsupported("schema is not an object")
        for key, arg in schema.items():
            if key in _IGNORED:
                continue
            check = _KEYWORDS.get(key)
            if check is None:
                raise Unsupported(f"keyword {key!r}")
            if not check(self, arg, x, schema):
                return False
        return True

    def ref(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise Unsupported(f"$ref {ref!r}")
        target: Any = self.root
        for token in ref[1:].split("/")[1:] if ref != "#" else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or token not in target:
                raise Unsupported(f"$ref {ref!r}")
            target = target[token]
        return target


_Keyword = Callable[[_Checker, Any, Any, dict[str, Any]], bool]


def _k_type(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    if isinstance(arg, str):
        return _type_is(arg, x)
    return any(_type_is(t, x) for t in arg)


def _k_properties(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    if not isinstance(x, dict):
        return True
    return all(c.valid(sub, x[key]) for key, sub in arg.items() if key in x)


def _k_pattern_properties(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    if not isinstance(x, dict):
        return True
    return all(
        c.valid(sub, value)
        for pattern, sub in arg.items()
        for key, value in x.items()
        if _search(pattern, key)
    )


def _k_additional_properties(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    if not isinstance(x, dict):
        return True
    named = s.get("properties", {})
    patterns = s.get("patternProperties", {})
    return all(
        c.valid(arg, value)
        for key, value in x.items()
        if key not in named and not any(_search(p, key) for p in patterns)
    )


def _k_required(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return not isinstance(x, dict) or all(key in x for key in arg)


def _k_items(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return not isinstance(x, list) or all(c.valid(arg, item) for item in x)


def _size_keyword(
    kind: type[str | list[Any] | dict[str, Any]], limit: Callable[[int, int], bool]
) -> _Keyword:
    def check(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
        return not isinstance(x, kind) or limit(len(x), arg)

    return check


def _number_keyword(limit: Callable[[Any, Any], bool]) -> _Keyword:
    def check(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
        return not _is_number(x) or bool(limit(x, arg))

    return check


def _k_pattern(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return not isinstance(x, str) or _search(arg, x)


def _k_enum(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return any(_equal(x, choice) for choice in arg)


def _k_const(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return _equal(x, arg)


def _k_if(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    branch = s.get("then", True) if c.valid(arg, x) else s.get("else", True)
    return c.valid(branch, x)


def _k_all_of(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return all(c.valid(sub, x) for sub in arg)


def _k_any_of(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return any(c.valid(sub, x) for sub in arg)


def _k_one_of(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return sum(1 for sub in arg if c.valid(sub, x)) == 1


def _k_not(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return not c.valid(arg, x)


def _k_ref(c: _Checker, arg: Any, x: Any, s: dict[str, Any]) -> bool:
    return c.valid(c.ref(arg), x)


_KEYWORDS: dict[str, _Keyword] = {
    "type": _k_type,
    "properties": _k_properties,
    "patternProperties": _k_pattern_properties,
    "additionalProperties": _k_additional_properties,
    "required": _k_required,
    "items": _k_items,
    "minItems": _size_keyword(list, lambda n, m: n >= m),
    "maxItems": _size_keyword(list, lambda n, m: n <= m),
    "minLength": _size_keyword(str, lambda n, m: n >= m),
    "maxLength": _size_keyword(str, lambda n, m: n <= m),
    "minProperties": _size_keyword(dict, lambda n, m: n >= m),
    "maxProperties": _size_keyword(dict, lambda n, m: n <= m),
    "minimum": _number_keyword(lambda v, m: v >= m),
    "maximum": _number_keyword(lambda v, m: v <= m),
    "exclusiveMinimum": _number_keyword(lambda v, m: v > m),
    "exclusiveMaximum": _number_keyword(lambda v, m: v < m),
    "pattern": _k_pattern,
    "enum": _k_enum,
    "const": _k_const,
    "if": _k_if,
    "allOf": _k_all_of,
    "anyOf": _k_any_of,
    "oneOf": _k_one_of,
    "not": _k_not,
    "$ref": _k_ref,
}


def _plain(x: Any, depth: int = 0) -> None:
    """Raise :class:`Unsupported` unless ``x`` is plain JSON data (finite numbers)."""
    if depth > 200:
        raise Unsupported("deeply nested")
    if isinstance(x, dict):
        for key, value in x.items():
            if not isinstance(key, str):
                raise Unsupported("a key that is not a string")
            _plain(value, depth + 1)
    elif isinstance(x, list):
        for item in x:
            _plain(item, depth + 1)
    elif isinstance(x, float):
        if not math.isfinite(x):
            raise Unsupported("a non-finite number")
    elif not (x is None or isinstance(x, (str, int, bool))):
        raise Unsupported(f"a {type(x).__name__} value")


def quick_is_valid(schema: dict[str, Any], data: Any) -> bool:
    """Whether ``data`` is valid under ``schema``; :class:`Unsupported` when unsure."""
    _plain(data)
    return _Checker(schema).valid(schema, data)
