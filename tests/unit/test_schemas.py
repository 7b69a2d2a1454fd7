"""The JSON Schemas shipped in ``osop/format/schemas``: well-formed, true to the corpus, strict
where the structure is wrong and lenient where the guide says to read leniently."""

from __future__ import annotations

import copy
import csv
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from corpus_dir import CORPUS as CORPUS_DIR
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

KINDS = ("osop", "osoplog", "sop")
SCHEMA_IDS = {
    "osop": "https://osop.dev/schema/osop.schema.json",
    "osoplog": "https://osop.dev/schema/osoplog.schema.json",
    "sop": "https://osop.dev/schema/sop.schema.json",
}
NODE_TYPES = [
    "human", "agent", "api", "cli", "db", "git", "docker", "cicd",
    "mcp", "system", "infra", "data", "company", "department", "event", "gateway",
]  # fmt: skip
EDGE_MODES = [
    "sequential", "conditional", "parallel", "loop", "event", "fallback", "error", "timeout",
    "spawn", "switch", "compensation", "message", "dataflow", "signal", "weighted",
]  # fmt: skip
TRIGGER_TYPES = [
    "webhook", "schedule", "cron", "event", "manual", "api", "file_watch", "git_push",
]  # fmt: skip


# --- loading -------------------------------------------------------------------------------


@cache
def schema(kind: str) -> dict[str, Any]:
    text = resources.files("osop.format").joinpath("schemas", f"{kind}.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def registry() -> Registry[Any]:
    return Registry().with_resources(
        (schema(kind)["$id"], Resource.from_contents(schema(kind))) for kind in KINDS
    )


def errors(kind: str, document: Any) -> list[tuple[str, str]]:
    """(JSON path, failing keyword) of every error, so tests can say *why* a document fails."""
    validator = Draft202012Validator(schema(kind), registry=registry())
    return [(e.json_path, str(e.validator)) for e in validator.iter_errors(document)]


def assert_valid(kind: str, document: Any) -> None:
    validator = Draft202012Validator(schema(kind), registry=registry())
    found = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert found == []


class _CoreSchemaLoader(yaml.SafeLoader):
    """YAML 1.2 core schema, near enough for these tests: yes/no/on/off and timestamps stay
    strings, as they do in the project's loader."""


_CoreSchemaLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_document(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_CoreSchemaLoader)  # a SafeLoader subclass: no arbitrary objects


# --- the schemas themselves ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    Draft202012Validator.check_schema(schema(kind))
    assert schema(kind)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema(kind)["$id"] == SCHEMA_IDS[kind]
    assert schema(kind)["title"] and schema(kind)["description"]


def _resolve_local(kind: str, subschema: dict[str, Any]) -> dict[str, Any]:
    ref = subschema.get("$ref", "")
    if not ref.startswith("#/$defs/"):
        return subschema
    return schema(kind)["$defs"][ref.removeprefix("#/$defs/")]  # type: ignore[no-any-return]


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict):
                yield f"{where}/properties/{name}", sub
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _properties(item, f"{where}/{index}")


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description(kind: str) -> None:
    # Editors show descriptions on hover; a property without one is a silent field.
    missing = []
    for where, sub in _properties(schema(kind)):
        if "legacyDialect" in where or "/if/" in where:  # conditions, not documented properties
            continue
        target = sub if "description" in sub else _resolve_local(kind, sub)
        if "description" not in target and not sub.get("$ref", "").endswith("osop.schema.json"):
            missing.append(where)
    assert missing == []


def test_log_node_types_match_workflow_node_types() -> None:
    assert schema("osop")["$defs"]["nodeType"]["enum"] == NODE_TYPES
    assert schema("osoplog")["$defs"]["nodeType"]["enum"] == NODE_TYPES
    assert schema("osop")["$defs"]["edgeMode"]["enum"] == EDGE_MODES


def test_schemas_agree_with_the_vocabulary_module() -> None:
    from osop.format import vocabulary

    osop_defs, log_defs = schema("osop")["$defs"], schema("osoplog")["$defs"]
    assert tuple(osop_defs["nodeType"]["enum"]) == vocabulary.NODE_TYPES
    assert tuple(osop_defs["edgeMode"]["enum"]) == vocabulary.EDGE_MODES
    assert tuple(osop_defs["trigger"]["properties"]["type"]["enum"]) == vocabulary.TRIGGER_TYPES
    edge_properties = osop_defs["edge"]["properties"]
    assert tuple(edge_properties["join_mode"]["enum"]) == vocabulary.JOIN_MODES
    assert tuple(schema("osoplog")["properties"]["mode"]["enum"]) == vocabulary.LOG_MODES
    # The canonical statuses come first; the rest are spellings read leniently.
    run_statuses = log_defs["runStatus"]["enum"]
    assert tuple(run_statuses[: len(vocabulary.RUN_STATUSES)]) == vocabulary.RUN_STATUSES
    assert set(vocabulary.NODE_STATUSES) <= set(log_defs["nodeStatus"]["enum"])


# --- the corpus ----------------------------------------------------------------------------


def _corpus_dir() -> Path | None:
    return CORPUS_DIR if (CORPUS_DIR / "MANIFEST.tsv").is_file() else None


CORPUS = _corpus_dir()
KIND_OF = {"workflow": "osop", "log": "osoplog", "sop": "sop"}

# Fixtures that are broken in a way the schema must catch, with the (path, keyword) it reports.
STRUCTURAL_FAILURES: dict[tuple[str, str], set[tuple[str, str]]] = {
    ("workflow", "invalid:graph/empty-nodes"): {("$.nodes", "minItems")},
    ("workflow", "invalid:required/missing-nodes-edges"): {("$", "required")},
    ("workflow", "invalid:enum/unknown-node-type"): {("$.nodes[0].type", "enum")},
    ("workflow", "invalid:required/missing-id"): {("$", "required"), ("$.nodes", "minItems")},
    ("workflow", "invalid:required/missing-name-nodes-edges"): {("$", "required")},
    ("workflow", "stub"): {("$.nodes", "minItems")},
    ("log", "stub"): {("$", "required")},
}
# Broken, but not in a way a schema can see: the validator and the loader report these.
NOT_THE_SCHEMAS_BUSINESS = {"invalid:graph/dangling-edge-ref", "invalid:document/yaml-syntax"}


def _manifest() -> list[dict[str, str]]:
    if CORPUS is None:
        return []
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


MANIFEST = _manifest()


def test_corpus_is_available() -> None:
    # The corpus tests below are only meaningful if they ran; fail loudly rather than pass empty.
    assert CORPUS is not None, "set OSOP_CORPUS_DIR to the directory holding MANIFEST.tsv"
    assert {row["kind"] for row in MANIFEST} == {"workflow", "log", "sop"}


@pytest.mark.parametrize(
    "row",
    [r for r in MANIFEST if r["fixture"] != "invalid:document/yaml-syntax"],
    ids=lambda row: row["file"],
)
def test_corpus_file(row: dict[str, str]) -> None:
    assert CORPUS is not None
    document = load_document(CORPUS / row["file"])
    found = errors(KIND_OF[row["kind"]], document)
    expected = STRUCTURAL_FAILURES.get((row["kind"], row["fixture"]))
    if expected is not None:
        assert expected <= set(found)
    else:
        assert row["fixture"] in {"-", "valid"} | NOT_THE_SCHEMAS_BUSINESS
        assert found == []


def test_missing_id_fixture_fails_for_its_id() -> None:
    assert CORPUS is not None
    document = load_document(CORPUS / "osop-mcp__tests__test_validate.py__L82.osop.yaml")
    document["nodes"] = [{"id": "a", "type": "cli"}]
    assert errors("osop", document) == [("$", "required")]


# --- .osop: targeted cases -----------------------------------------------------------------


def workflow(**top: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "osop_version": "1.1",
        "id": "deploy-service",
        "name": "Deploy service",
        "nodes": [
            {"id": "build", "type": "cli", "name": "Build"},
            {"id": "ship", "type": "api", "name": "Ship"},
        ],
        "edges": [{"from": "build", "to": "ship"}],
    }
    document.update(top)
    return document


def with_node(**fields: Any) -> dict[str, Any]:
    document = workflow()
    document["nodes"][0].update(fields)
    return document


def with_edge(**fields: Any) -> dict[str, Any]:
    document = workflow()
    document["edges"][0].update(fields)
    return document


def without(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for key in keys:
        document.pop(key, None)
    return document


VALID_WORKFLOWS: dict[str, Callable[[], Any]] = {
    "minimal": workflow,
    "unquoted version number": lambda: workflow(osop_version=1.0),
    "other version string (validator warns)": lambda: workflow(osop_version="2.0"),
    "single node without edges": lambda: without(
        workflow(nodes=[{"id": "a", "type": "cli"}]), "edges"
    ),
    "legacy osop key without id or osop_version": lambda: without(
        workflow(osop="1.0.0"), "id", "osop_version"
    ),
    "three-part osop_version without id": lambda: without(workflow(osop_version="1.0.0"), "id"),
    "snake_case id (validator warns)": lambda: workflow(id="deploy_service"),
    "id not kebab-case at all (validator errors)": lambda: workflow(id="Deploy Service"),
    "id of 128 characters": lambda: workflow(id="a" * 128),
    "unknown top-level key (validator warns)": lambda: workflow(views=["graph"]),
    "$schema key for editors": lambda: workflow(**{"$schema": "./osop.schema.json"}),
    "x- key at top level": lambda: workflow(**{"x-team": {"cost-center": 42}}),
    "x- key on a node": lambda: with_node(**{"x-internal": True}),
    "x- key on an edge": lambda: with_edge(**{"x-weight-hint": 3}),
    "node without name (validator warns)": lambda: workflow(
        nodes=[{"id": "a", "type": "cli", "purpose": "Do it"}], edges=[]
    ),
    "node with every documented field": lambda: with_node(
        subtype="script",
        purpose="Build the image",
        description="Longer text",
        explain={"why": "because", "what": "this", "result": "that", "x-note": 1},
        role="engineer",
        runtime={"command": "make"},
        inputs={"version": {"type": "string"}},
        outputs=["image", {"name": "digest", "schema": "string"}, {"url": "data.url"}],
        retry={"max_attempts": 3},
        retry_policy={"max_retries": 2},
        timeout="10m",
        timeout_sec=600,
        metadata={"a": 1},
        security={"permissions": ["write:repo"], "risk_level": "high", "secrets": ["TOKEN"]},
        approval_gate={"required": True, "approvers": ["lead"], "timeout": "24h"},
        classification="confidential",
        success_criteria=["exit code 0"],
        handoff={"summary_for_next_node": "done", "expected_output": "a PR"},
        preconditions=["inputs.version != ''"],
        valid_window={"start": "09:00", "end": "17:00"},
        workflow_ref="etl-pipeline",
        workflow_inputs={"dataset": "${inputs.dataset}"},
        cost={"estimated": 0.02, "currency": "USD"},
        tags=["build"],
        config={"anything": "goes"},
    ),
    "explain as a sentence": lambda: with_node(explain="Why this step exists"),
    "approval_gate as a boolean": lambda: with_node(approval_gate=True),
    "success_criteria as one string": lambda: with_node(success_criteria="tests pass"),
    "cost as a number": lambda: with_node(cost=0.5),
    "workflow inputs as a map": lambda: workflow(
        inputs={
            "service": {"type": "string", "description": "Service"},
            "env": "string",
            "x-ui": 1,
        },
        outputs={"url": None},
    ),
    "workflow inputs as a list": lambda: workflow(
        inputs=[{"name": "service", "type": "string", "required": True}, "env"]
    ),
    "contracts map with any JSON Schema": lambda: workflow(
        contracts={"build-output": {"description": "d", "schema": {"type": "object"}}}
    ),
    "message_contracts as a list with ids": lambda: workflow(
        message_contracts=[
            {"id": "c1", "producer": "build", "consumer": "ship", "schema_ref": "#/schemas/T"}
        ],
        schemas={"T": {"type": "object"}},
    ),
    "message_contracts as a map": lambda: workflow(message_contracts={"c1": {"schema": True}}),
    "imports as paths and objects": lambda: workflow(
        imports=[
            "./etl.osop",
            {"path": "./b.osop", "as": "b"},
            {"ref": "https://x/c.osop", "id": "c"},
        ]
    ),
    "every trigger type": lambda: workflow(
        triggers=[{"type": t, "config": {}, "x-note": 1} for t in TRIGGER_TYPES]
    ),
    "trigger with extra fields": lambda: workflow(
        triggers=[{"type": "cron", "schedule": "0 2 * * *"}]
    ),
    "top-level retry and timeout": lambda: workflow(
        retry={"max_attempts": 2, "backoff": "fixed"}, timeout="1h", timeout_sec=3600
    ),
    "top-level retry_policy": lambda: workflow(retry_policy={"max_retries": 1}),
    "every documented top-level block": lambda: workflow(
        description="d",
        version="2.1.0",
        owner="team",
        author="me",
        tags=["a"],
        metadata={"k": "v"},
        variables={"count": 1},
        security={
            "authentication": {"type": "oidc"},
            "authorization": {"model": "rbac"},
            "secrets": {"provider": "vault"},
        },
        ledger={
            "enabled": True,
            "storage": {"type": "append-only-log"},
            "retention": "90d",
            "fields": ["run_id"],
        },
        observability={"tracing": {"enabled": True}, "metrics": True, "logging": {"level": "info"}},
        evolution={"deprecated_nodes": [{"id": "old"}], "changelog": [{"version": "1"}]},
        extensions={"x-anything": 1},
    ),
    "when as a boolean constant": lambda: with_edge(mode="conditional", when=True),
    "deprecated condition alias": lambda: with_edge(mode="conditional", condition="ok == true"),
    "edge with label, description, contract, transform, metadata": lambda: with_edge(
        label="l",
        description="d",
        contract="build-output",
        transform={"a": "b"},
        metadata={"k": 1},
        explain="why",
    ),
    "transform as an expression": lambda: with_edge(transform="outputs.build"),
    "unknown edge key (validator warns)": lambda: with_edge(priority=1),
}

INVALID_WORKFLOWS: dict[str, tuple[Callable[[], Any], tuple[str, str]]] = {
    "not a mapping": (lambda: ["nodes"], ("$", "type")),
    "missing nodes": (lambda: without(workflow(), "nodes"), ("$", "required")),
    "empty nodes": (lambda: workflow(nodes=[]), ("$.nodes", "minItems")),
    "nodes not a list": (lambda: workflow(nodes={"a": {"type": "cli"}}), ("$.nodes", "type")),
    "missing name": (lambda: without(workflow(), "name"), ("$", "required")),
    "missing id": (lambda: without(workflow(), "id"), ("$", "required")),
    "missing osop_version": (lambda: without(workflow(), "osop_version"), ("$", "required")),
    "id longer than 128": (lambda: workflow(id="a" * 129), ("$.id", "maxLength")),
    "name longer than 256": (lambda: workflow(name="n" * 257), ("$.name", "maxLength")),
    "id not a string": (lambda: workflow(id=42), ("$.id", "type")),
    "tags not strings": (lambda: workflow(tags="a, b"), ("$.tags", "type")),
    "node without id": (lambda: workflow(nodes=[{"type": "cli"}]), ("$.nodes[0]", "required")),
    "node without type": (lambda: workflow(nodes=[{"id": "a"}]), ("$.nodes[0]", "required")),
    "unknown node type": (lambda: with_node(type="shell"), ("$.nodes[0].type", "enum")),
    "node type in capitals": (lambda: with_node(type="CLI"), ("$.nodes[0].type", "enum")),
    "runtime not a mapping": (lambda: with_node(runtime="make"), ("$.nodes[0].runtime", "type")),
    "risk_level out of range": (
        lambda: with_node(security={"risk_level": "extreme"}),
        ("$.nodes[0].security.risk_level", "enum"),
    ),
    "approval_gate as a string": (
        lambda: with_node(approval_gate="yes"),
        ("$.nodes[0].approval_gate", "type"),
    ),
    "port object without name": (
        lambda: with_node(outputs=[{"type": "string"}]),
        ("$.nodes[0].outputs[0]", "required"),
    ),
    "port shorthand with two keys": (
        lambda: with_node(outputs=[{"a": "x", "b": "y"}]),
        ("$.nodes[0].outputs[0]", "maxProperties"),
    ),
    "empty port name": (lambda: with_node(inputs=[""]), ("$.nodes[0].inputs[0]", "minLength")),
    "message contract list item without id": (
        lambda: workflow(message_contracts=[{"schema": {}}]),
        ("$.message_contracts[0]", "required"),
    ),
    "contract schema not an object": (
        lambda: workflow(contracts={"c": {"schema": "object"}}),
        ("$.contracts.c.schema", "type"),
    ),
    "unknown trigger type": (
        lambda: workflow(triggers=[{"type": "email"}]),
        ("$.triggers[0].type", "enum"),
    ),
    "trigger without type": (
        lambda: workflow(triggers=[{"config": {}}]),
        ("$.triggers[0]", "required"),
    ),
    "import object without path or ref": (
        lambda: workflow(imports=[{"as": "b"}]),
        ("$.imports[0]", "anyOf"),
    ),
    "edge without to": (lambda: workflow(edges=[{"from": "build"}]), ("$.edges[0]", "required")),
    "edge without from": (lambda: workflow(edges=[{"to": "ship"}]), ("$.edges[0]", "required")),
    "edge endpoint not a string": (lambda: with_edge(to=["ship"]), ("$.edges[0].to", "type")),
    "unknown edge mode": (lambda: with_edge(mode="branch"), ("$.edges[0].mode", "enum")),
    "when as a number": (
        lambda: with_edge(mode="conditional", when=1),
        ("$.edges[0].when", "type"),
    ),
    "timeout_sec negative": (lambda: workflow(timeout_sec=-1), ("$.timeout_sec", "minimum")),
    "node timeout_sec as a string": (
        lambda: with_node(timeout_sec="600"),
        ("$.nodes[0].timeout_sec", "type"),
    ),
}


@pytest.mark.parametrize("case", VALID_WORKFLOWS)
def test_valid_workflow(case: str) -> None:
    assert_valid("osop", VALID_WORKFLOWS[case]())


@pytest.mark.parametrize("case", INVALID_WORKFLOWS)
def test_invalid_workflow(case: str) -> None:
    build, expected = INVALID_WORKFLOWS[case]
    assert expected in errors("osop", build())


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_every_node_type_is_accepted(node_type: str) -> None:
    assert_valid("osop", with_node(type=node_type))


@pytest.mark.parametrize("mode", EDGE_MODES)
def test_every_edge_mode_is_accepted(mode: str) -> None:
    assert_valid("osop", with_edge(mode=mode))


# Durations: a number of seconds, or <number><unit> parts with units ms, s, m, h, d, w.
@pytest.mark.parametrize(
    "value", ["500ms", "30s", "10m", "24h", "7d", "2w", "1h30m", "1.5h", " 1h 30m ", 600, 0, 0.25]
)
def test_duration_accepted(value: object) -> None:
    assert_valid("osop", with_node(timeout=value))
    assert_valid("osop", workflow(timeout=value))


@pytest.mark.parametrize(
    "value", ["", "10", "m", "ten minutes", "10 minutes", "1y", "10m!", "-5s", "PT10M", -1, True]
)
def test_duration_rejected(value: object) -> None:
    assert errors("osop", with_node(timeout=value)) != []


def test_duration_in_retry_backoff_and_approval() -> None:
    good = {
        "max_attempts": 3,
        "backoff": {"type": "exponential", "initial_delay": "1s", "max_delay": "30s"},
    }
    assert_valid("osop", with_node(retry=good))
    bad = {"max_attempts": 3, "backoff": {"type": "exponential", "initial_delay": "soon"}}
    assert ("$.nodes[0].retry.backoff.initial_delay", "pattern") in errors(
        "osop", with_node(retry=bad)
    )
    gate = {"required": True, "timeout": "a day"}
    assert ("$.nodes[0].approval_gate.timeout", "pattern") in errors(
        "osop", with_node(approval_gate=gate)
    )


# --- retry: both shapes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry",
    [
        {"max_attempts": 3},
        {"max_attempts": 1, "retryable_errors": []},
        {
            "max_attempts": 5,
            "backoff": {
                "type": "exponential",
                "initial_delay": "5s",
                "max_delay": "1m",
                "multiplier": 2.0,
            },
            "retryable_errors": ["TIMEOUT", "CONNECTION_REFUSED", "5xx"],
            "x-jitter": True,
        },
        {"max_attempts": 2, "backoff": {"type": "fixed", "initial_delay": 1}},
        {"max_attempts": 2, "backoff": {"type": "linear", "x-step": "2s"}},
        {"max_attempts": 2, "backoff": "exponential"},
        {},
    ],
)
def test_retry_shape_accepted(retry: dict[str, Any]) -> None:
    assert_valid("osop", with_node(retry=retry))


@pytest.mark.parametrize(
    ("retry", "keyword"),
    [
        ({"max_attempts": 0}, "minimum"),
        ({"max_attempts": 2.5}, "type"),
        ({"max_attempt": 3}, "additionalProperties"),
        ({"max_attempts": 3, "backoff": {"type": "random"}}, "enum"),
        ({"max_attempts": 3, "backoff": "random"}, "enum"),
        ({"max_attempts": 3, "backoff": {"type": "fixed", "delay": "1s"}}, "additionalProperties"),
        ({"max_attempts": 3, "backoff": {"multiplier": -1}}, "minimum"),
        ({"max_attempts": 3, "retryable_errors": "TIMEOUT"}, "type"),
        ("3 times", "type"),
    ],
)
def test_retry_shape_rejected(retry: object, keyword: str) -> None:
    assert keyword in {rule for _, rule in errors("osop", with_node(retry=retry))}


@pytest.mark.parametrize(
    "policy",
    [
        {"max_retries": 3, "strategy": "exponential_backoff", "backoff_sec": 2},
        {"max_retries": 0},
        {"max_retries": 1, "strategy": "fixed", "backoff_sec": 0.5},
        {"max_retries": 2, "retryable_errors": ["RATE_LIMIT"], "x-note": "n"},
        *(
            {"max_retries": 1, "strategy": s}
            for s in ["linear", "exponential", "fixed_backoff", "linear_backoff"]
        ),
    ],
)
def test_retry_policy_shape_accepted(policy: dict[str, Any]) -> None:
    assert_valid("osop", with_node(retry_policy=policy))


@pytest.mark.parametrize(
    ("policy", "keyword"),
    [
        ({"max_retries": -1}, "minimum"),
        ({"max_retries": 1, "strategy": "random"}, "enum"),
        ({"max_retries": 1, "backoff_sec": -2}, "minimum"),
        ({"max_retries": 1, "backoff_seconds": 2}, "additionalProperties"),
        ({"max_retries": "3"}, "type"),
    ],
)
def test_retry_policy_shape_rejected(policy: dict[str, Any], keyword: str) -> None:
    assert keyword in {rule for _, rule in errors("osop", with_node(retry_policy=policy))}


# --- edges: switch, joins, loops, weights --------------------------------------------------


def test_switch_edge_with_cases_and_default() -> None:
    edge = {
        "mode": "switch",
        "when": "outputs.build.category",
        "cases": [
            {"value": "billing", "to": "ship"},
            {"value": 3, "to": "build", "label": "three"},
        ],
        "default_to": "ship",
    }
    assert_valid("osop", with_edge(**edge))


@pytest.mark.parametrize(
    ("cases", "expected"),
    [
        ([], ("$.edges[0].cases", "minItems")),
        ([{"value": "a"}], ("$.edges[0].cases[0]", "required")),
        ([{"to": "ship"}], ("$.edges[0].cases[0]", "required")),
        (
            [{"value": "a", "to": "ship", "goto": "b"}],
            ("$.edges[0].cases[0]", "additionalProperties"),
        ),
        ({"a": "ship"}, ("$.edges[0].cases", "type")),
    ],
)
def test_switch_cases_rejected(cases: object, expected: tuple[str, str]) -> None:
    assert expected in errors("osop", with_edge(mode="switch", when="x", cases=cases))


def test_switch_case_accepts_extension_keys() -> None:
    assert_valid("osop", with_edge(mode="switch", cases=[{"value": 1, "to": "ship", "x-ui": 1}]))


@pytest.mark.parametrize(
    "join",
    [
        {"join_mode": "wait_all"},
        {"join_mode": "wait_any"},
        {"join_mode": "wait_n", "join_count": 2},
    ],
)
def test_join_modes_accepted(join: dict[str, Any]) -> None:
    assert_valid("osop", with_edge(mode="parallel", **join))


@pytest.mark.parametrize(
    ("join", "expected"),
    [
        ({"join_mode": "wait_n"}, ("$.edges[0]", "required")),
        ({"join_mode": "wait_n", "join_count": 0}, ("$.edges[0].join_count", "minimum")),
        ({"join_mode": "wait_some"}, ("$.edges[0].join_mode", "enum")),
        ({"join_count": 1.5}, ("$.edges[0].join_count", "type")),
    ],
)
def test_join_modes_rejected(join: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in errors("osop", with_edge(mode="parallel", **join))


def test_loop_edge_fields() -> None:
    edge = {
        "mode": "loop",
        "for_each": "outputs.build.rows",
        "iterator_var": "row",
        "max_iterations": 50,
    }
    assert_valid("osop", with_edge(**edge))
    assert_valid("osop", with_edge(mode="loop", for_each=["a", "b"], iterator_var="_item"))
    assert_valid("osop", with_edge(mode="loop", when="attempt() < 3"))
    assert ("$.edges[0].iterator_var", "pattern") in errors(
        "osop", with_edge(iterator_var="my item")
    )
    assert ("$.edges[0].max_iterations", "minimum") in errors("osop", with_edge(max_iterations=0))


def test_weighted_edge_weight() -> None:
    assert_valid("osop", with_edge(mode="weighted", weight=0.3))
    assert_valid("osop", with_edge(mode="weighted", weight=0))
    assert ("$.edges[0].weight", "minimum") in errors("osop", with_edge(weight=-1))
    assert ("$.edges[0].weight", "type") in errors("osop", with_edge(weight="30%"))


# --- .osoplog ------------------------------------------------------------------------------


def record(**top: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "osoplog_version": "1.0",
        "run_id": "a1b2c3d4-e5f6-4890-abcd-ef1234567890",
        "workflow_id": "deploy-service",
        "status": "COMPLETED",
        "started_at": "2026-03-31T10:00:00Z",
        "node_records": [
            {
                "node_id": "build",
                "node_type": "cli",
                "attempt": 1,
                "status": "COMPLETED",
                "started_at": "2026-03-31T10:00:00Z",
            }
        ],
    }
    document.update(top)
    return document


def with_record(**fields: Any) -> dict[str, Any]:
    document = record()
    document["node_records"][0].update(fields)
    return document


def test_full_record_accepted() -> None:
    document = record(
        workflow_version="1.2.0",
        workflow_hash="sha256:" + "0" * 64,
        mode="simulated",
        trigger={"type": "automatic", "actor": "me", "timestamp": "2026-03-31T10:00:00Z"},
        ended_at="2026-03-31T10:05:23Z",
        duration_ms=323000,
        runtime={"agent": "osop", "agent_version": "0.1.0", "platform": "linux"},
        variables={"a": 1},
        result_summary="ok",
        cost={"total_usd": 0.03, "breakdown": [{"node_id": "build", "cost_usd": 0.03}]},
        metadata={"k": "v"},
        **{"x-host": "ci-7"},
    )
    document["node_records"][0].update(
        ended_at="2026-03-31T10:00:01Z",
        duration_ms=1000,
        inputs={"a": 1},
        outputs={"b": 2},
        ai_metadata={
            "model": "m",
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "cost_usd": 0.01,
            "confidence": 0.9,
        },
        human_metadata={"actor": "alice", "decision": "approved", "response_time_ms": 45000},
        tools_used=[{"tool": "bash", "calls": 1, "avg_duration_ms": 2300, "details": []}],
        iteration=2,
        parent_id="coordinator",
        spawn_index=0,
        reasoning={"anything": True},
        **{"x-pid": 4242},
    )
    assert_valid("osoplog", document)


@pytest.mark.parametrize(
    "status", ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]
)
def test_run_status_canonical(status: str) -> None:
    assert_valid("osoplog", record(status=status))


@pytest.mark.parametrize("status", ["TIMEOUT", "completed", "timed_out", "timeout", "cancelled"])
def test_run_status_read_leniently(status: str) -> None:
    assert_valid("osoplog", record(status=status))


@pytest.mark.parametrize("status", ["DONE", "Completed", "SKIPPED", "success", ""])
def test_run_status_rejected(status: str) -> None:
    assert ("$.status", "enum") in errors("osoplog", record(status=status))


@pytest.mark.parametrize(
    "status",
    [
        "COMPLETED",
        "FAILED",
        "SKIPPED",
        "TIMED_OUT",
        "TIMEOUT",
        "CANCELLED",
        "RUNNING",
        "PENDING",
        "WAITING",
        "skipped",
    ],
)
def test_node_status_accepted(status: str) -> None:
    assert_valid("osoplog", with_record(status=status))


def test_node_status_rejected() -> None:
    assert ("$.node_records[0].status", "enum") in errors("osoplog", with_record(status="OK"))


def test_error_as_string_or_object() -> None:
    assert_valid("osoplog", with_record(status="FAILED", error="exit code 2"))
    assert_valid(
        "osoplog",
        with_record(status="FAILED", error={"code": "E", "message": "m", "details": {"line": 3}}),
    )
    assert ("$.node_records[0].error", "type") in errors("osoplog", with_record(error=["e"]))
    assert ("$.node_records[0].error.message", "type") in errors(
        "osoplog", with_record(error={"message": 3})
    )


def test_attempt_optional_but_one_based() -> None:
    document = record()
    del document["node_records"][0]["attempt"]
    assert_valid("osoplog", document)
    assert ("$.node_records[0].attempt", "minimum") in errors("osoplog", with_record(attempt=0))
    assert ("$.node_records[0].attempt", "type") in errors("osoplog", with_record(attempt="1"))


def test_iteration_is_one_based() -> None:
    assert_valid("osoplog", with_record(iteration=1))
    assert ("$.node_records[0].iteration", "minimum") in errors("osoplog", with_record(iteration=0))


INVALID_RECORDS: dict[str, tuple[Callable[[], Any], tuple[str, str]]] = {
    "missing run_id": (lambda: without(record(), "run_id"), ("$", "required")),
    "missing started_at": (lambda: without(record(), "started_at"), ("$", "required")),
    "missing node_records": (lambda: without(record(), "node_records"), ("$", "required")),
    "empty node_records": (lambda: record(node_records=[]), ("$.node_records", "minItems")),
    "unknown mode": (lambda: record(mode="test"), ("$.mode", "enum")),
    "hash without prefix": (lambda: record(workflow_hash="abc123"), ("$.workflow_hash", "pattern")),
    "negative duration": (lambda: record(duration_ms=-1), ("$.duration_ms", "minimum")),
    "timestamp not a string": (lambda: record(started_at=1711879200), ("$.started_at", "type")),
    "record without node_id": (
        lambda: record(
            node_records=[{"node_type": "cli", "status": "COMPLETED", "started_at": "t"}]
        ),
        ("$.node_records[0]", "required"),
    ),
    "record with unknown node_type": (
        lambda: with_record(node_type="shell"),
        ("$.node_records[0].node_type", "enum"),
    ),
    "negative tokens": (
        lambda: with_record(ai_metadata={"prompt_tokens": -1}),
        ("$.node_records[0].ai_metadata.prompt_tokens", "minimum"),
    ),
    "cost breakdown without node_id": (
        lambda: record(cost={"total_usd": 1, "breakdown": [{"cost_usd": 1}]}),
        ("$.cost.breakdown[0]", "required"),
    ),
}


@pytest.mark.parametrize("case", INVALID_RECORDS)
def test_invalid_record(case: str) -> None:
    build, expected = INVALID_RECORDS[case]
    assert expected in errors("osoplog", build())


# --- .sop ----------------------------------------------------------------------------------


def sop(*entries: Any, **top: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "sop_version": "1.0",
        "id": "ops-handbook",
        "name": "Ops handbook",
        "sections": [
            {"name": "Deploys", "workflows": list(entries) or [{"ref": "./deploy.osop.yaml"}]}
        ],
    }
    document.update(top)
    return document


def test_sop_entries_accepted() -> None:
    document = sop(
        "./a.osop.yaml",
        {
            "ref": "https://example.com/b.osop.yaml",
            "title": "B",
            "description": "d",
            "owner": "o",
            "tags": ["t"],
        },
        {"workflow": workflow(), "title": "Inline", "x-order": 1},
        description="d",
        author="a",
        owner="o",
        version="2.0.0",
        base_url="https://example.com",
        tags=["ops"],
        metadata={"k": 1},
        **{"x-theme": "dark"},
    )
    document["sections"].append({"name": "Empty", "description": "Later", "owner": "o", "tags": []})
    assert_valid("sop", document)


def test_sop_inline_workflow_is_checked_against_the_osop_schema() -> None:
    # Proves the cross-schema $ref resolves offline through the registry.
    broken = workflow(nodes=[])
    assert ("$.sections[0].workflows[0].workflow.nodes", "minItems") in errors(
        "sop", sop({"workflow": broken})
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (without(sop(), "sections"), ("$", "required")),
        (without(sop(), "name"), ("$", "required")),
        (sop(sections=[]), ("$.sections", "minItems")),
        (sop(sections=[{"workflows": []}]), ("$.sections[0]", "required")),
        (sop({"title": "neither ref nor workflow"}), ("$.sections[0].workflows[0]", "oneOf")),
        (sop({"ref": "./a.osop", "workflow": workflow()}), ("$.sections[0].workflows[0]", "oneOf")),
        (sop(""), ("$.sections[0].workflows[0]", "minLength")),
        (sop({"ref": 3}), ("$.sections[0].workflows[0].ref", "type")),
    ],
)
def test_sop_rejected(document: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in errors("sop", document)
