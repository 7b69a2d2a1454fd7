"""``${...}`` interpolation in configuration values.

Rules:

- ``"${ref}"`` (the whole string) becomes the referenced value itself, type kept.
- ``${ref}`` inside other text is written as text: strings as they are, every other
  value as JSON (``true``, ``false``, ``null``, ``3``, ``1.5``, ``{"a":1}``).
- ``$${`` writes a literal ``${``. A lone ``$`` is just a dollar sign.
- ``${NAME}`` whose first word is not an OSOP namespace (``${HOME}``,
  ``${VAR:-x}``) is left as written, so shell commands keep their own variables.
  A near miss of a namespace (``${input.x}``) is not: it fails as a missing
  reference with a did-you-mean.
- Strings inside lists and mapping values are interpolated; mapping keys are not.
- What a reference means (namespaces, missing references, secrets) is
  :mod:`osop.expr.scope`'s business: ``interpolate`` only asks ``resolve``.

A reference is a path: ``inputs.version``, ``outputs.build.artifacts[0].url``,
``outputs["unit-tests"].passed``, ``secrets.API_TOKEN``, ``env.HOME``,
``metadata.run_id``, ``loop.item``, ``variables.x``.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from osop.diagnostics import join_pointer
from osop.errors import ExpressionError, MissingReferenceError

__all__ = [
    "INTERPOLATION_NAMESPACES",
    "find_references",
    "find_template_errors",
    "interpolate",
    "parse_reference",
    "render_value",
]

INTERPOLATION_NAMESPACES = ("inputs", "outputs", "secrets", "env", "metadata", "loop", "variables")

PathKey = str | int


@dataclass(frozen=True, slots=True)
class _Ref:
    text: str
    offset: int


_Segment = str | _Ref


def interpolate(
    value: Any,
    resolve: Callable[[str], Any],
    *,
    pointer: str = "",
    namespaces: Collection[str] = INTERPOLATION_NAMESPACES,
) -> Any:
    """``value`` with every ``${ref}`` replaced through ``resolve(ref)``.

    Only references rooted in ``namespaces`` are resolved; other ``${...}`` stay
    as written. ``pointer`` (a JSON pointer to ``value``) only makes error
    messages say where.
    """
    return _interpolate(value, resolve, pointer, _namespace_key(namespaces))


def _interpolate(
    value: Any, resolve: Callable[[str], Any], pointer: str, namespaces: tuple[str, ...]
) -> Any:
    if isinstance(value, str):
        return _interpolate_text(value, resolve, pointer, namespaces)
    if isinstance(value, Mapping):
        return {
            key: _interpolate(item, resolve, join_pointer(pointer, str(key)), namespaces)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _interpolate(item, resolve, join_pointer(pointer, i), namespaces)
            for i, item in enumerate(value)
        ]
    if isinstance(value, tuple):
        return tuple(
            _interpolate(item, resolve, join_pointer(pointer, i), namespaces)
            for i, item in enumerate(value)
        )
    return value


def _namespace_key(namespaces: Collection[str]) -> tuple[str, ...]:
    if namespaces is INTERPOLATION_NAMESPACES:
        return INTERPOLATION_NAMESPACES
    return tuple(sorted(namespaces))


def render_value(value: Any) -> str:
    """How a value is written when embedded in text: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError):
        return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _interpolate_text(
    text: str, resolve: Callable[[str], Any], pointer: str, namespaces: tuple[str, ...]
) -> Any:
    if "$" not in text:
        return text
    segments = _parse_template(text, namespaces)
    if len(segments) == 1 and isinstance(segments[0], _Ref):
        return _resolve(segments[0], resolve, pointer)
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, _Ref):
            parts.append(render_value(_resolve(segment, resolve, pointer)))
        else:
            parts.append(segment)
    return "".join(parts)


def _resolve(ref: _Ref, resolve: Callable[[str], Any], pointer: str) -> Any:
    try:
        return resolve(ref.text)
    except MissingReferenceError as exc:
        if not pointer:
            raise
        raise MissingReferenceError(exc.reference, f"{exc} (at {pointer})") from exc


@functools.lru_cache(maxsize=8192)
def _parse_template(text: str, namespaces: tuple[str, ...]) -> tuple[_Segment, ...]:
    """Split a template into literal text and references (cached: configs repeat)."""
    segments: list[_Segment] = []
    literal: list[str] = []
    for kind, piece, offset in _scan(text):
        if kind == "text":
            literal.append(piece)
            continue
        if kind == "unterminated":
            if _root_of(piece) in namespaces:
                raise ExpressionError(
                    text,
                    f"unterminated ${{ at offset {offset}",
                    hint="close the reference with }, or write $${ for a literal ${",
                )
            literal.append(text[offset:])
            continue
        reference = piece.strip()
        if not reference:
            raise ExpressionError(text, "empty reference ${}", hint=_REFERENCE_HINT)
        if not _is_osop_reference(reference, namespaces):
            literal.append(text[offset : offset + len(piece) + 3])
            continue
        parse_reference(reference)
        if "".join(literal):
            segments.append("".join(literal))
        literal = []
        segments.append(_Ref(reference, offset))
    if "".join(literal):
        segments.append("".join(literal))
    return tuple(segments)


def _scan(text: str) -> Iterator[tuple[str, str, int]]:
    """``("text", s, at)``, ``("ref", inner, at)`` or ``("unterminated", rest, at)`` pieces."""
    i = 0
    n = len(text)
    while i < n:
        dollar = text.find("$", i)
        if dollar < 0:
            yield "text", text[i:], i
            return
        if dollar > i:
            yield "text", text[i:dollar], i
        if text.startswith("$${", dollar):
            yield "text", "${", dollar
            i = dollar + 3
            continue
        if not text.startswith("${", dollar):
            yield "text", "$", dollar
            i = dollar + 1
            continue
        close = _find_close(text, dollar + 2)
        if close < 0:
            yield "unterminated", text[dollar + 2 :], dollar
            return
        yield "ref", text[dollar + 2 : close], dollar
        i = close + 1


def _root_of(reference: str) -> str:
    """The first path segment: ``inputs`` in ``inputs.x[0]``."""
    reference = reference.strip()
    end = len(reference)
    for stop in ".[":
        found = reference.find(stop)
        if found >= 0:
            end = min(end, found)
    return reference[:end].strip()


def _is_osop_reference(reference: str, namespaces: tuple[str, ...]) -> bool:
    """Rooted in a namespace, or so close to one that leaving it verbatim would hide a typo."""
    root = _root_of(reference)
    if root in namespaces:
        return True
    if not reference or not _near_namespace(root, namespaces):
        return False
    try:
        parse_reference(reference)
    except ExpressionError:
        return False
    return True


def _near_namespace(root: str, namespaces: tuple[str, ...]) -> bool:
    return bool(difflib.get_close_matches(root, namespaces, n=1, cutoff=0.8))


def _find_close(text: str, start: int) -> int:
    """Index of the ``}`` closing a reference, skipping quoted keys like ``["a}b"]``."""
    quote = ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "}":
            return i
        i += 1
    return -1


_REFERENCE_HINT = "a reference is a path such as inputs.version or outputs.build.files[0]"
_SEGMENT_STOP = frozenset(".[]{}'\" \t\r\n$")


@functools.lru_cache(maxsize=8192)
def parse_reference(reference: str) -> tuple[PathKey, ...]:
    """``'outputs.build.files[0]'`` → ``('outputs', 'build', 'files', 0)``."""
    if not reference:
        raise ExpressionError("${}", "empty reference", hint=_REFERENCE_HINT)
    path: list[PathKey] = []
    i = 0
    n = len(reference)
    expect_name = True
    while i < n:
        ch = reference[i]
        if expect_name:
            j = i
            while j < n and reference[j] not in _SEGMENT_STOP:
                j += 1
            if j == i:
                raise _bad_reference(reference, i)
            path.append(reference[i:j])
            i = j
            expect_name = False
        elif ch == ".":
            expect_name = True
            i += 1
        elif ch == "[":
            key, i = _parse_index(reference, i)
            path.append(key)
        else:
            raise _bad_reference(reference, i)
    if expect_name:
        raise _bad_reference(reference, n)
    return tuple(path)


def _parse_index(reference: str, start: int) -> tuple[PathKey, int]:
    """Parse ``[0]`` or ``["key"]`` at ``start``; return the key and the index after ``]``."""
    i = start + 1
    n = len(reference)
    if i < n and reference[i] in "'\"":
        quote = reference[i]
        i += 1
        chars: list[str] = []
        while i < n and reference[i] != quote:
            if reference[i] == "\\" and i + 1 < n:
                i += 1
            chars.append(reference[i])
            i += 1
        if i + 1 < n and reference[i] == quote and reference[i + 1] == "]":
            return "".join(chars), i + 2
        raise _bad_reference(reference, start)
    close = reference.find("]", i)
    digits = reference[i:close] if close >= 0 else ""
    if digits.isdigit() and digits.isascii():
        return int(digits), close + 1
    raise _bad_reference(reference, start)


def _bad_reference(reference: str, offset: int) -> ExpressionError:
    if any(op in reference for op in ("+", "==", "&&", "||", "(", " ")):
        return ExpressionError(
            f"${{{reference}}}",
            "only a reference can appear inside ${...}, not an expression",
            hint=_REFERENCE_HINT + "; put computations in a CEL expression",
        )
    return ExpressionError(
        f"${{{reference}}}", f"malformed reference at offset {offset}", hint=_REFERENCE_HINT
    )


# -- static analysis for the validator ---------------------------------------------------


def find_references(value: Any, pointer: str = "") -> list[tuple[str, str]]:
    """Every ``${...}`` in ``value`` as ``(json_pointer, text inside the braces)``.

    All placeholders are listed, also those interpolation leaves as written
    (``${HOME}``) and malformed ones, so a validator can judge each; ``$${``
    escapes are not placeholders.
    """
    found: list[tuple[str, str]] = []
    for location, text in _strings(value, pointer):
        for kind, piece, _ in _scan(text):
            if kind == "ref":
                found.append((location, piece.strip()))
    return found


def find_template_errors(
    value: Any,
    pointer: str = "",
    namespaces: Collection[str] = INTERPOLATION_NAMESPACES,
) -> list[tuple[str, ExpressionError]]:
    """Every string in ``value`` that :func:`interpolate` would reject, as ``(pointer, error)``."""
    key = _namespace_key(namespaces)
    errors: list[tuple[str, ExpressionError]] = []
    for location, text in _strings(value, pointer):
        try:
            _parse_template(text, key)
        except ExpressionError as exc:
            errors.append((location, exc))
    return errors


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if "$" in value:
            yield pointer, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, join_pointer(pointer, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, join_pointer(pointer, index))
