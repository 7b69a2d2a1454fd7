"""The JSON Schemas (draft 2020-12) shipped with the package, and validators for them."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # imported when first needed: a valid document never needs them
    from jsonschema import Draft202012Validator
    from referencing import Registry

__all__ = [
    "QUICK_BUDGET",
    "SCHEMA_NAMES",
    "SchemaName",
    "is_valid",
    "load_schema",
    "schema_text",
    "validator_for",
]

SchemaName = Literal["osop", "osoplog", "sop"]
SCHEMA_NAMES: tuple[SchemaName, ...] = ("osop", "osoplog", "sop")


def schema_text(name: SchemaName) -> str:
    """The schema file's text, exactly as shipped (what ``osop schema`` prints)."""
    filename = f"{name}.schema.json"
    try:
        # Read beside this module: importlib.resources costs ~8 ms of imports (tempfile,
        # zipfile, ...) that `osop validate` of a small file would otherwise pay.
        return Path(__file__).with_name(filename).read_text("utf-8")
    except OSError:  # not a plain directory (a zip import): ask the package's loader
        from importlib import resources

        return resources.files(__package__).joinpath(filename).read_text("utf-8")


@cache
def load_schema(name: SchemaName) -> dict[str, Any]:
    data = json.loads(schema_text(name))
    assert isinstance(data, dict)
    return data


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    # Every shipped schema is registered under its $id so cross-references (a .sop
    # holding an inline workflow) resolve offline.
    registry: Registry = Registry()
    for name in SCHEMA_NAMES:
        schema = load_schema(name)
        registry = registry.with_resource(schema.get("$id", name), Resource.from_contents(schema))
    return registry


@cache
def validator_for(name: SchemaName) -> Draft202012Validator:
    """A ready validator (compiled once per process)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), registry=_registry())


@cache
def _fast_validator(name: SchemaName) -> Any:
    import jsonschema_rs

    registry = jsonschema_rs.Registry(
        [(load_schema(n).get("$id", n), load_schema(n)) for n in SCHEMA_NAMES]
    )
    return jsonschema_rs.validator_for(load_schema(name), registry=registry)


#: Characters a process checks with the plain-Python yes/no (see :mod:`.quick`)
#: before it loads the Rust validator: ~0.1 ms per KB against ~15 ms to load it,
#: so a command that checks a few small files never loads it, and a process that
#: checks many (a folder, a server) soon has it and its microsecond answers.
QUICK_BUDGET = 64_000
_quick_left = QUICK_BUDGET


def is_valid(name: SchemaName, data: Any, *, size: int | None = None) -> bool:
    """Quick yes/no (the Rust validator, ~100x faster); errors come from :func:`validator_for`.

    Valid documents — the common case — never pay for the Python validator's
    detailed error reporting. ``size``: the document's length in characters;
    while the process's budget lasts, a document that fits is checked in plain
    Python when that is certain (the verdict is the same), sparing the Rust
    validator's load.
    """
    global _quick_left
    if size is not None and size <= _quick_left and "jsonschema_rs" not in sys.modules:
        _quick_left -= size
        from osop.format.schemas.quick import Unsupported, quick_is_valid

        try:
            return quick_is_valid(load_schema(name), data)
        except Unsupported:
            pass  # the Rust validator decides
    try:
        return bool(_fast_validator(name).is_valid(data))
    except Exception:  # an engine limitation (e.g. a regex it cannot compile): be thorough
        return False
