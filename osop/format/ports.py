"""Declared inputs and outputs ("ports") as JSON Schemas that can be enforced.

Real files declare ports in several shapes (``{name: {type, enum, default}}``,
``{name: "string"}``, a JSON Schema object with ``properties``/``required``, a
list of names or of ``{name, type, required, schema}``).  :func:`ports_of`
reads them all into :class:`Port` objects, each with the JSON Schema (draft
2020-12) its values must follow — or ``None`` when the declaration is prose or
shorthand (``"critical | high | low"``) that promises no type.

Type names are JSON Schema's; a few spellings real files use are read as
their JSON type (``int`` → ``integer``, ``bool`` → ``boolean``, ``list`` →
``array``, ``dict``/``map`` → ``object``, ``float`` → ``number``, ``date`` →
``string``), and ``any`` means no constraint.  Any other type name makes the
port's schema invalid: :attr:`Port.problem` says why, the validator reports it
(``port/invalid-schema``) and the engine does not enforce that port.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Final

from osop.diagnostics import escape_pointer_token, join_pointer

if TYPE_CHECKING:  # imported for a schema that breaks the meta-schema: valid ones never need it
    from jsonschema import Draft202012Validator

__all__ = ["JSON_TYPES", "Port", "ports_of", "schema_problem", "string_typed"]

JSON_TYPES: Final = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_TYPE_ALIASES: Final[dict[str, str]] = {
    "str": "string",
    "text": "string",
    "date": "string",
    "datetime": "string",
    "date-time": "string",
    "int": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
    "map": "object",
}
#: Keys of a port declaration that are about the port, not its value
#: (``required`` only as a boolean: a list is JSON Schema's own keyword).
_PORT_KEYS: Final = frozenset({"name", "required", "schema"})


@dataclass(frozen=True, slots=True)
class Port:
    """One declared input or output."""

    name: str
    #: JSON Schema of the value; ``None`` = not enforced (prose, shorthand, invalid).
    schema: Mapping[str, Any] | bool | None
    required: bool
    has_default: bool
    default: Any
    #: JSON pointer of the declaration (for messages and the validator).
    pointer: str
    #: Why ``schema`` is invalid (then ``schema`` is ``None``), with the pointer of the fault.
    problem: tuple[str, str] | None = None


def _type_name(value: Any) -> Any:
    if isinstance(value, str):
        key = value.strip()
        return _TYPE_ALIASES.get(key.lower(), key)
    if isinstance(value, list):
        return [_type_name(v) for v in value]
    return value


def _normalised(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A port declaration as a JSON Schema: port keys removed, type aliases read."""
    schema = {
        str(k): v
        for k, v in spec.items()
        if k not in _PORT_KEYS or (k == "required" and not isinstance(v, bool))
    }
    if "type" in schema:
        declared = _type_name(schema["type"])
        if declared == "any" or (isinstance(declared, list) and "any" in declared):
            del schema["type"]
        else:
            schema["type"] = declared
    return schema


@cache
def _meta_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(Draft202012Validator.META_SCHEMA)


def schema_problem(schema: Any) -> tuple[str, str] | None:
    """``(message, pointer inside the schema)`` when ``schema`` is not a valid
    draft 2020-12 schema, else ``None``."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):  # not plain JSON data: check it as it is
        return _problem(schema)
    # Big workflows repeat the same few declarations ({type: string}) thousands of times.
    return _cached_problem(key)


def _meta_says_valid(schema: Any) -> bool:
    """The Rust validator's yes against the draft 2020-12 meta-schema (a no, or a
    schema naming another draft, goes to the Python validator, which says why)."""
    if isinstance(schema, Mapping) and "$schema" in schema:
        return False
    try:
        import jsonschema_rs

        return bool(jsonschema_rs.meta.is_valid(schema))
    except Exception:  # a value the Rust engine cannot take: let the precise check decide
        return False


@lru_cache(maxsize=4096)
def _cached_problem(key: str) -> tuple[str, str] | None:
    return _problem(json.loads(key))


def _problem(schema: Any) -> tuple[str, str] | None:
    if _meta_says_valid(schema):
        return None
    from jsonschema.exceptions import best_match

    error = best_match(_meta_validator().iter_errors(schema))
    if error is None:
        return None
    path = list(error.absolute_path)
    inner = "".join("/" + escape_pointer_token(str(p)) for p in path)
    is_type = path[-1:] == ["type"] or (path[-2:-1] == ["type"] and isinstance(path[-1], int))
    if is_type and error.validator in ("anyOf", "enum"):
        return _type_message(error.instance), inner
    where = f" at {inner}" if inner else ""
    return f"{error.message}{where}", inner


def _type_message(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    shown = next((v for v in names if v not in JSON_TYPES), value)
    close = difflib.get_close_matches(str(shown), sorted(JSON_TYPES), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"type {shown!r} is not a JSON Schema type ({', '.join(sorted(JSON_TYPES))}){hint}"


def _port(name: str, spec: Any, pointer: str, required_by_default: bool) -> Port:
    schema: Mapping[str, Any] | bool | None = None
    required = required_by_default
    has_default = False
    default: Any = None
    schema_pointer = pointer
    if isinstance(spec, Mapping):
        has_default = "default" in spec
        default = spec.get("default")
        if isinstance(spec.get("required"), bool):
            required = spec["required"]
        inner = spec.get("schema")
        if isinstance(inner, Mapping | bool) and not isinstance(inner, str):
            schema = _normalised(inner) if isinstance(inner, Mapping) else inner
            schema_pointer = join_pointer(pointer, "schema")
            if isinstance(inner, Mapping) and "default" in inner and not has_default:
                has_default, default = True, inner["default"]
        elif isinstance(inner, str):
            schema = _from_text(inner)
        else:
            schema = _normalised(spec)
    elif isinstance(spec, str):
        schema = _from_text(spec)
    else:
        schema = {}
    if has_default:
        required = False
    problem = None
    if schema is not None:
        found = schema_problem(schema)
        if found is not None:
            problem = (found[0], schema_pointer + found[1])
            schema = None
    return Port(name, schema, required, has_default, default, pointer, problem)


def _from_text(text: str) -> Mapping[str, Any] | None:
    """``"string"`` is a type; anything else (prose, ``a | b``, ``#/schemas/X``) is not enforced."""
    key = text.strip()
    declared = _type_name(key)
    if declared == "any":
        return {}
    if isinstance(declared, str) and declared in JSON_TYPES:
        return {"type": declared}
    return None


def ports_of(spec: Any, pointer: str, *, required_by_default: bool) -> list[Port]:
    """Every port an ``inputs``/``outputs`` block declares, in any of its shapes.

    ``required_by_default``: whether a port without ``default`` and without
    ``required: false`` must be given (workflow inputs: yes; outputs: no).  In
    the JSON Schema object shape its own ``required`` list decides instead.
    """
    ports: list[Port] = []
    if isinstance(spec, Mapping):
        props = spec.get("properties")
        if spec.get("type") == "object" and isinstance(props, Mapping):
            listed = spec.get("required")
            names = {str(n) for n in listed} if isinstance(listed, list) else set()
            for key, value in props.items():
                where = join_pointer(pointer, "properties", str(key))
                port = _port(str(key), value, where, False)
                if str(key) in names and not port.has_default:
                    port = _with_required(port)
                ports.append(port)
            return ports
        for key, value in spec.items():
            if str(key).startswith("x-"):
                continue
            ports.append(
                _port(str(key), value, join_pointer(pointer, str(key)), required_by_default)
            )
        return ports
    if isinstance(spec, list):
        for index, item in enumerate(spec):
            where = join_pointer(pointer, index)
            if isinstance(item, str):
                ports.append(Port(item, {}, required_by_default, False, None, where))
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                ports.append(_port(item["name"], item, where, required_by_default))
            elif isinstance(item, Mapping) and len(item) == 1:
                # `{name: "${outputs.x.y}"}`: a mapping, not a declaration of the value's type
                (key,) = item
                ports.append(Port(str(key), {}, False, False, None, where))
    return ports


def _with_required(port: Port) -> Port:
    return Port(
        port.name,
        port.schema,
        True,
        port.has_default,
        port.default,
        port.pointer,
        port.problem,
    )


def string_typed(spec: Any) -> frozenset[str]:
    """Names of the ports whose value must be a string (``--input v=2`` stays ``"2"``)."""
    names: set[str] = set()
    for port in ports_of(spec, "", required_by_default=False):
        if isinstance(port.schema, Mapping) and port.schema.get("type") == "string":
            names.add(port.name)
    return frozenset(names)
