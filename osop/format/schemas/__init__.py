"""The JSON Schemas (draft 2020-12) shipped with the package, and validators for them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # imported when first needed: a valid document never needs them
    from jsonschema import Draft202012Validator
    from referencing import Registry

__all__ = [
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


def is_valid(name: SchemaName, data: Any) -> bool:
    """Quick yes/no (the Rust validator, ~100x faster); errors come from :func:`validator_for`.

    Valid documents — the common case — never pay for the Python validator's
    detailed error reporting.
    """
    try:
        return bool(_fast_validator(name).is_valid(data))
    except Exception:  # an engine limitation (e.g. a regex it cannot compile): be thorough
        return False
