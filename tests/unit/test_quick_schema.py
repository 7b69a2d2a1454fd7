"""The plain-Python schema yes/no (osop.format.schemas.quick) never says "valid" where
the validators say otherwise: checked on every example and corpus document, and on
thousands of mutations of them, against jsonschema (whose errors the report shows)
and jsonschema_rs (which answers when the quick check is unsure)."""

from __future__ import annotations

import copy
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from osop.errors import LoadError
from osop.format.loader import load_path
from osop.format.schemas import SCHEMA_NAMES, SchemaName, is_valid, load_schema, validator_for
from osop.format.schemas.quick import Unsupported, quick_is_valid
from tests.corpus_dir import CORPUS

ROOT = Path(__file__).resolve().parents[2]
_SCHEMA_OF: dict[str, SchemaName] = {"workflow": "osop", "log": "osoplog", "sop": "sop"}


def _documents() -> list[tuple[SchemaName, Any, str]]:
    paths = sorted((ROOT / "tests").rglob("*.osop*")) + sorted((ROOT / "tests").rglob("*.sop"))
    paths += sorted((ROOT / "examples").rglob("*.osop*")) if (ROOT / "examples").is_dir() else []
    if CORPUS.is_dir():
        paths += sorted(p for p in CORPUS.iterdir() if p.name.endswith((".osop", ".osop.yaml")))
    docs = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            doc = load_path(path, max_bytes=None)
        except LoadError:
            continue
        docs.append((_SCHEMA_OF[doc.kind], doc.data, path.name))
    return docs


DOCUMENTS = _documents()


def _rust(name: SchemaName, data: Any) -> bool | None:
    try:
        registry = jsonschema_rs.Registry(
            [(load_schema(n).get("$id", n), load_schema(n)) for n in SCHEMA_NAMES]
        )
        return bool(
            jsonschema_rs.validator_for(load_schema(name), registry=registry).is_valid(data)
        )
    except Exception:
        return None


def _agrees(name: SchemaName, data: Any) -> bool:
    """False when the quick check says valid and a validator disagrees; True otherwise."""
    try:
        quick = quick_is_valid(load_schema(name), data)
    except Unsupported:
        return True  # the Rust validator answers instead
    thorough = not any(True for _ in validator_for(name).iter_errors(data))
    rust = _rust(name, data)
    if quick:
        return thorough and rust is not False
    # Invalid is always safe; still, it should be right (or the report is empty).
    return not (thorough and rust)


def test_there_are_documents_of_every_kind() -> None:
    assert {name for name, _, _ in DOCUMENTS} == {"osop", "osoplog", "sop"}
    assert len(DOCUMENTS) > 50


@pytest.mark.parametrize(("name", "data", "label"), DOCUMENTS, ids=[d[2] for d in DOCUMENTS])
def test_every_document_gets_the_validators_verdict(
    name: SchemaName, data: Any, label: str
) -> None:
    assert _agrees(name, data)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


_REPLACEMENTS: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 2.5, "", "x", "cli", "1.1", "5m", "1.2.3",
    "conditional", "ok == true", [], ["a"], [{}], {}, {"x": 1}, {"type": "string"},
]  # fmt: skip


def _mutants(data: Any, rng: random.Random, count: int) -> Iterator[Any]:
    paths = [p for p in _paths(data) if p]
    for _ in range(count):
        path = rng.choice(paths)
        mutant = copy.deepcopy(data)
        parent = mutant
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.25:
            del parent[path[-1]]
        elif isinstance(parent, dict) and rng.random() < 0.2:
            parent[rng.choice(["x-extra", "extra", "tpye", "when", "mode"])] = rng.choice(
                _REPLACEMENTS
            )
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_REPLACEMENTS))
        yield mutant


@pytest.mark.parametrize("seed", range(4))
def test_mutated_documents_get_the_validators_verdict(seed: int) -> None:
    rng = random.Random(seed)
    picked = rng.sample(DOCUMENTS, min(25, len(DOCUMENTS)))
    checked = 0
    for name, data, label in picked:
        for mutant in _mutants(data, rng, 20):
            assert _agrees(name, mutant), (label, mutant)
            checked += 1
    assert checked >= 400


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"enum": [1]}, True, False),  # JSON: true is not 1
        ({"enum": [1]}, 1.0, True),
        ({"const": False}, 0, False),
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"minimum": 0}, True, True),  # not a number: minimum does not apply
        ({"minLength": 2}, "日本", True),  # characters, not bytes
        ({"patternProperties": {"^x-": False}}, {"x-a": 1}, False),
        ({"patternProperties": {"^x-": False}}, {"日x-": 1}, True),
        ({"properties": {"a": True}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
        ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}, False),
        ({"if": {"required": ["a"]}, "else": {"required": ["b"]}}, {"c": 1}, False),
        ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "ab", False),
    ],
)
def test_keyword_meanings(schema: dict[str, Any], value: Any, valid: bool) -> None:
    full = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    assert quick_is_valid(full, value) is valid
    assert jsonschema_rs.validator_for(full).is_valid(value) is valid


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"uniqueItems": True}, [1, 1]),  # a keyword it does not know
        ({"$ref": "other.schema.json"}, 1),  # another file
        ({"pattern": "^a$"}, "a\n"),  # `$` before a newline: dialects differ
        ({"type": "number"}, float("nan")),
        ({"type": "object"}, {1: "a"}),
        ({"type": "string"}, b"bytes"),
    ],
)
def test_what_it_cannot_be_sure_of_goes_to_the_rust_validator(schema: Any, value: Any) -> None:
    with pytest.raises(Unsupported):
        quick_is_valid(schema, value)


def test_the_quick_check_is_for_the_first_small_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    import osop.format.schemas as schemas
    import osop.format.schemas.quick as quick

    calls: list[int] = []
    real = quick.quick_is_valid

    def spy(schema: Any, data: Any) -> bool:
        calls.append(1)
        return real(schema, data)

    monkeypatch.setattr(quick, "quick_is_valid", spy)
    monkeypatch.setattr(schemas, "_quick_left", 1000)
    monkeypatch.delitem(sys.modules, "jsonschema_rs", raising=False)
    data = {"osop_version": "1.1", "id": "a", "name": "A", "nodes": [{"id": "n", "type": "cli"}]}
    assert is_valid("osop", data, size=600) is True  # quick
    assert is_valid("osop", data, size=600) is True  # over the budget: Rust
    assert len(calls) == 1
    monkeypatch.setattr(schemas, "_quick_left", 1000)
    monkeypatch.setitem(sys.modules, "jsonschema_rs", jsonschema_rs)
    assert is_valid("osop", data, size=600) is True  # Rust loaded now: no more quick checks
    assert is_valid("osop", data) is True  # size unknown
    assert len(calls) == 1


# --- port declarations: {type: ...} needs no meta-schema validator ---------------------

PORT_SCHEMAS: list[Any] = [
    {"type": "string"},
    {"type": "boolean", "description": "whether it worked"},
    {"type": "integer", "title": "Count", "default": 3},
    {"type": "object", "default": {"a": [1, None]}},
    {"type": "null"},
    {"type": "strin"},
    {"type": "string", "description": 3},
    {"type": "string", "title": None},
    {"type": ["string", "null"]},
    {"type": "string", "minLength": "2"},
    {"type": "array", "items": {"type": "string"}},
    {"description": "no type"},
    {"type": 1},
    {"type": "string", "$schema": "http://json-schema.org/draft-07/schema#"},
]


@pytest.mark.parametrize("schema", PORT_SCHEMAS)
def test_a_plain_port_schema_is_what_the_meta_schema_says(
    schema: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jsonschema import Draft202012Validator

    from osop.format import ports

    if ports._plainly_valid(schema):
        assert Draft202012Validator(Draft202012Validator.META_SCHEMA).is_valid(schema)
        assert jsonschema_rs.meta.is_valid(schema)
    shortcut = ports._problem(schema)
    monkeypatch.setattr(ports, "_plainly_valid", lambda _schema: False)
    assert ports._problem(schema) == shortcut
