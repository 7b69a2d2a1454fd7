"""Semantic rules for ``.osop`` workflows.

Each rule yields :class:`~osop.diagnostics.Issue` objects with a stable rule id
(the catalogue is in ``docs/validation.md``).  Rules never raise on odd data:
the schema pass has already reported shapes that are wrong.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.expr.scope import for_each_expression
from osop.format.rules import data_rules
from osop.format.rules.expressions import check_expression, check_node_expressions
from osop.format.rules.import_cycles import check_import_cycles
from osop.format.rules.limits_rules import check_limits
from osop.format.rules.references import check_interpolations
from osop.format.vocabulary import EDGE_MODES, IMPLICIT_LOOP_MODES
from osop.format.workflow import Edge, Workflow, derived_id

__all__ = ["check", "conformance_level", "path_is_file"]

_WORKFLOW_ID = re.compile(r"^[a-z][a-z0-9-]*$")
_SNAKE_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_MODES_NEEDING_WHEN = ("conditional",)
#: Node types whose work is a person's or an outside party's: they need no runtime.
_NO_RUNTIME_NEEDED = ("human", "event", "gateway", "company", "department")


def _close(value: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def check(
    wf: Workflow, data: Mapping[str, Any], *, base_dir: Path, structural: bool = False
) -> Iterator[Issue]:
    """Every semantic issue of ``wf`` (``data`` is the raw document)."""
    yield from _metadata(wf, data)
    yield from _misspelt_keys(wf, data)
    yield from _nodes(wf)
    node_ids = {n.id for n in wf.nodes}
    yield from _edges(wf, node_ids)
    if not structural:
        yield from _graph(wf, node_ids)
    yield from _contracts(wf)
    yield from data_rules.check(wf)
    yield from _imports(wf, base_dir)
    yield from check_import_cycles(wf, base_dir)
    yield from check_limits(wf)
    yield from check_interpolations(wf)
    for node in wf.nodes:
        yield from check_node_expressions(wf, node)
    for edge in wf.edges:
        if edge.when is not None:
            yield from check_expression(
                wf, edge, edge.when, join_pointer(edge.pointer, edge.when_key)
            )
        if edge.for_each is not None:
            yield from check_expression(
                wf,
                edge,
                for_each_expression(edge.for_each),
                join_pointer(edge.pointer, "for_each"),
            )


def _metadata(wf: Workflow, data: Mapping[str, Any]) -> Iterator[Issue]:
    if "id" not in data:
        yield Issue(
            "warning",
            "workflow/missing-id",
            "workflow has no `id`; one is derived from its name"
            + (f" ({derived_id(wf.name)!r})" if wf.name else ""),
            pointer="",
        )
    elif wf.id and not _WORKFLOW_ID.match(wf.id):
        if _SNAKE_ID.match(wf.id):
            yield Issue(
                "warning",
                "workflow/id-format",
                f"workflow id {wf.id!r} is snake_case; the spec asks for kebab-case "
                f"({wf.id.replace('_', '-')!r})",
                pointer="/id",
            )
        else:
            yield Issue(
                "error",
                "workflow/id-format",
                f"workflow id {wf.id!r} must be lower-case kebab-case: ^[a-z][a-z0-9-]*$",
                pointer="/id",
            )
    if "osop_version" not in data and "osop" not in data:
        yield Issue(
            "warning",
            "workflow/missing-version",
            "no `osop_version`; read as 1.1",
            pointer="",
        )
    if "name" not in data:
        yield Issue(
            "warning", "workflow/missing-name", "workflow has no `name`; its id is shown", ""
        )
    nodes = data.get("nodes")
    if isinstance(nodes, list) and len(nodes) > 1 and "edges" not in data:
        yield Issue(
            "error",
            "workflow/missing-edges",
            f"{len(nodes)} nodes but no `edges`: only a single-node workflow may omit them",
            pointer="",
        )


def _known_keys() -> dict[str, list[str]]:
    from osop.format.schemas import load_schema

    schema = load_schema("osop")
    return {
        "workflow": list(schema["properties"]),
        "node": list(schema["$defs"]["node"]["properties"]),
        "edge": list(schema["$defs"]["edge"]["properties"]),
    }


def _misspelt_keys(wf: Workflow, data: Mapping[str, Any]) -> Iterator[Issue]:
    """Unknown keys are accepted (real files carry many), but one that is a near-miss
    of a standard key (``mdoe``, ``wehn``) is almost surely a typo that silently
    changes behaviour: warn, naming the key it resembles."""
    known = _known_keys()
    places: list[tuple[str, str, Mapping[str, Any]]] = [("workflow", "", data)]
    places += [("node", n.pointer, n.raw) for n in wf.nodes]
    places += [("edge", e.pointer, e.raw) for e in wf.edges]
    for kind, pointer, mapping in places:
        keys = known[kind]
        for key in mapping:
            if not isinstance(key, str) or key in keys or key.startswith("x-"):
                continue
            match = difflib.get_close_matches(key, keys, n=1, cutoff=0.75)
            if match and match[0] not in mapping:
                yield Issue(
                    "warning",
                    "schema/misspelt-key",
                    f"unknown {kind} key {key!r} is ignored",
                    pointer=join_pointer(pointer, key) if pointer else "/" + key,
                    hint=f"did you mean {match[0]!r}?",
                )


def _nodes(wf: Workflow) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for node in wf.nodes:
        pointer = node.pointer
        if node.id in seen:
            yield Issue(
                "error",
                "node/duplicate-id",
                f"node id {node.id!r} is already used by node #{seen[node.id]}",
                pointer=join_pointer(pointer, "id"),
            )
        else:
            seen[node.id] = node.index
        if node.id and not _SNAKE_ID.match(node.id):
            yield Issue(
                "error",
                "node/id-format",
                f"node id {node.id!r} must be lower-case letters, digits, '_' or '-', "
                "starting with a letter",
                pointer=join_pointer(pointer, "id"),
            )
        if node.name is None:
            via = "purpose" if node.purpose else "id"
            yield Issue(
                "warning",
                "node/missing-name",
                f"node {node.id!r} has no `name`; its {via} is shown instead",
                pointer=pointer,
            )
        if node.requires_approval and node.type == "human":
            yield Issue(
                "info",
                "node/approval-on-human",
                "approval_gate on a human node: the node itself already waits for a person",
                pointer=join_pointer(pointer, "approval_gate"),
            )


def _edge_targets_issue(edge: Edge, field: str, value: str, node_ids: set[str]) -> Issue | None:
    if value in node_ids:
        return None
    return Issue(
        "error",
        "edge/unknown-node",
        f"edge `{field}` names node {value!r}, which does not exist",
        pointer=join_pointer(edge.pointer, field),
        hint=_close(value, sorted(node_ids)),
    )


def _edges(wf: Workflow, node_ids: set[str]) -> Iterator[Issue]:
    incoming_count: dict[str, int] = {}
    for edge in wf.edges:
        for target in edge.targets:
            incoming_count[target] = incoming_count.get(target, 0) + 1
    weighted_sources: dict[str, list[Edge]] = {}
    for edge in wf.edges:
        for field, value in (("from", edge.source), ("to", edge.target)):
            if "from" in edge.raw and "to" in edge.raw:
                issue = _edge_targets_issue(edge, field, value, node_ids)
                if issue:
                    yield issue
        for i, case in enumerate(edge.cases):
            issue = _edge_targets_issue(edge, f"cases/{i}/to", case.to, node_ids)
            if issue:
                yield issue
        if edge.default_to:
            issue = _edge_targets_issue(edge, "default_to", edge.default_to, node_ids)
            if issue:
                yield issue
        if edge.when_key == "condition":
            yield Issue(
                "warning",
                "edge/deprecated-condition",
                "`condition:` is a deprecated alias of `when:` (osop migrate rewrites it)",
                pointer=join_pointer(edge.pointer, "condition"),
            )
        mode = edge.mode
        if mode not in EDGE_MODES:
            continue  # reported by the schema as edge/unknown-mode
        if mode in _MODES_NEEDING_WHEN and edge.when is None:
            yield Issue(
                "error",
                "edge/missing-when",
                f"a {mode} edge needs a `when` expression",
                pointer=edge.pointer,
            )
        if mode == "loop" and edge.when is None and edge.for_each is None:
            yield Issue(
                "error",
                "edge/loop-without-condition",
                "a loop edge needs `when` (repeat while true) or `for_each` (one run per item)",
                pointer=edge.pointer,
            )
        if edge.for_each is not None and not edge.iterator_var:
            yield Issue(
                "error",
                "edge/for-each-without-iterator",
                "`for_each` needs `iterator_var` to name the item (used as ${loop.<var>})",
                pointer=join_pointer(edge.pointer, "for_each"),
            )
        if edge.for_each is not None and mode != "loop":
            yield Issue(
                "warning",
                "edge/for-each-not-loop",
                f"`for_each` only applies to loop edges; this edge is {mode}",
                pointer=join_pointer(edge.pointer, "for_each"),
            )
        if mode == "switch":
            if not edge.cases and not edge.default_to:
                yield Issue(
                    "error",
                    "edge/switch-without-cases",
                    "a switch edge needs `cases` (value → to) or `default_to`",
                    pointer=edge.pointer,
                )
            if edge.when is None:
                yield Issue(
                    "error",
                    "edge/missing-when",
                    "a switch edge needs a `when` expression whose value picks the case",
                    pointer=edge.pointer,
                )
        if edge.join_mode == "wait_n" and edge.join_count is None:
            yield Issue(
                "error",
                "edge/join-count-missing",
                "join_mode wait_n needs `join_count`",
                pointer=join_pointer(edge.pointer, "join_mode"),
            )
        if edge.join_count is not None:
            incoming = incoming_count.get(edge.target, 0)
            if edge.join_count > incoming:
                yield Issue(
                    "error",
                    "edge/join-count-too-large",
                    f"join_count {edge.join_count} but node {edge.target!r} has only "
                    f"{incoming} incoming edge(s)",
                    pointer=join_pointer(edge.pointer, "join_count"),
                )
        if mode == "weighted":
            weighted_sources.setdefault(edge.source, []).append(edge)
        elif edge.weight is not None:
            yield Issue(
                "warning",
                "edge/weight-ignored",
                f"`weight` only applies to weighted edges; this edge is {mode}",
                pointer=join_pointer(edge.pointer, "weight"),
            )
    for source, edges in weighted_sources.items():
        yield from _weights(source, edges)


def _weights(source: str, edges: list[Edge]) -> Iterator[Issue]:
    missing = [e for e in edges if e.weight is None]
    for edge in missing:
        yield Issue(
            "error",
            "edge/weight-missing",
            "a weighted edge needs a `weight`",
            pointer=edge.pointer,
        )
    weights = [e.weight for e in edges if e.weight is not None]
    for edge in edges:
        if edge.weight is not None and edge.weight < 0:
            yield Issue(
                "error",
                "edge/weight-negative",
                f"weight {edge.weight:g} is negative",
                pointer=join_pointer(edge.pointer, "weight"),
            )
    if weights and not missing and sum(w for w in weights if w > 0) == 0:
        yield Issue(
            "error",
            "edge/weights-zero",
            f"the weighted edges from {source!r} all have weight 0: none could be chosen",
            pointer=edges[0].pointer,
        )
    if len(edges) == 1 and not missing:
        yield Issue(
            "warning",
            "edge/weighted-single",
            f"only one weighted edge leaves {source!r}: it is always taken",
            pointer=edges[0].pointer,
        )


def _graph(wf: Workflow, node_ids: set[str]) -> Iterator[Issue]:
    """Cycles not formed by loop edges, and nodes no entry point reaches."""
    for edge in wf.edges:
        if edge.index not in wf.back_edges or edge.mode == "loop":
            continue
        where = f"{edge.source}→{edge.target}"
        if edge.mode in IMPLICIT_LOOP_MODES:
            yield Issue(
                "warning",
                "graph/implicit-loop",
                f"the {edge.mode} edge {where} closes a cycle; it runs as a loop edge "
                f"(re-entering {edge.target!r} while taken, at most max_iterations times)",
                pointer=edge.pointer,
                hint="write it as `mode: loop` with a `when` to make the loop explicit",
            )
        else:
            yield Issue(
                "error",
                "graph/cycle",
                f"the {edge.mode} edge {where} closes a cycle that nothing ends; "
                "mark it `mode: loop` with a `when`, or make it conditional",
                pointer=edge.pointer,
            )
    yield from _for_each_cycles(wf, node_ids)
    entries = [n.id for n in wf.entry_nodes()]
    everything: dict[str, list[str]] = {n: [] for n in node_ids}
    for edge in wf.edges:
        if edge.source in node_ids:
            everything[edge.source].extend(t for t in edge.targets if t in node_ids)
    seen = set(entries)
    queue = deque(entries)
    while queue:
        for nxt in everything[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    for node in wf.nodes:
        if node.id not in seen:
            yield Issue(
                "error",
                "graph/unreachable",
                f"node {node.id!r} cannot be reached from any entry point",
                pointer=node.pointer,
            )


def _for_each_cycles(wf: Workflow, node_ids: set[str]) -> Iterator[Issue]:
    """``for_each`` runs the target once per item; on an edge that closes a cycle the
    engine would re-run the cycle's body instead, ignoring the items: refuse it."""
    looping = [e for e in wf.edges if e.mode == "loop" and e.for_each is not None]
    if not looping:
        return
    forward: dict[str, list[str]] = {n: [] for n in node_ids}
    for edge in wf.edges:
        if edge.mode != "loop" and edge.source in node_ids:
            forward[edge.source].extend(t for t in edge.targets if t in node_ids)
    for edge in looping:
        if edge.target not in node_ids or edge.source not in node_ids:
            continue
        seen = {edge.target}
        queue = deque([edge.target])
        while queue:
            for nxt in forward[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        if edge.source in seen:
            yield Issue(
                "error",
                "edge/for-each-cycle",
                f"`for_each` runs {edge.target!r} once per item, but {edge.source}→"
                f"{edge.target} closes a cycle; iterate with a forward loop edge to a "
                "separate node, or repeat the cycle with `when`",
                pointer=join_pointer(edge.pointer, "for_each"),
            )


def _contracts(wf: Workflow) -> Iterator[Issue]:
    names = sorted(wf.contracts)
    for edge in wf.edges:
        if edge.contract and edge.contract not in wf.contracts:
            yield Issue(
                "error",
                "edge/unknown-contract",
                f"contract {edge.contract!r} is not defined under `contracts`",
                pointer=join_pointer(edge.pointer, "contract"),
                hint=_close(edge.contract, names),
            )


def path_is_file(path: Path) -> bool:
    """``path.is_file()``, false for paths the OS refuses (too long, NUL, symlink loops)."""
    try:
        return path.resolve().is_file()
    except (OSError, ValueError, RuntimeError):
        return False


def _import_ids(wf: Workflow, base_dir: Path) -> tuple[dict[str, Path], list[Issue]]:
    from osop.errors import LoadError
    from osop.format.loader import load_path

    found: dict[str, Path] = {}
    issues: list[Issue] = []
    for index, item in enumerate(wf.imports):
        ref = item if isinstance(item, str) else None
        alias = None
        if isinstance(item, Mapping):
            ref = item.get("path") or item.get("ref") or item.get("file")
            alias = item.get("as") or item.get("id")
        if not isinstance(ref, str):
            continue
        path = base_dir / ref
        pointer = join_pointer("/imports", index)
        if not path_is_file(path):
            issues.append(
                Issue(
                    "error",
                    "workflow/import-not-found",
                    f"imported workflow {ref!r} does not exist (looked in {base_dir})",
                    pointer=pointer,
                )
            )
            continue
        path = path.resolve()
        try:
            doc = load_path(path, kind="workflow")
        except LoadError as exc:
            issues.append(
                Issue(
                    "error",
                    "workflow/import-unreadable",
                    f"imported workflow {ref!r} cannot be read: {exc.message}",
                    pointer=pointer,
                )
            )
            continue
        imported_id = doc.data.get("id")
        for key in (alias, imported_id, path.name.split(".")[0]):
            if isinstance(key, str) and key:
                found[key] = path
    return found, issues


def _imports(wf: Workflow, base_dir: Path) -> Iterator[Issue]:
    refs = [n for n in wf.nodes if n.workflow_ref]
    if not wf.imports and not refs:
        return
    found, issues = _import_ids(wf, base_dir)
    yield from issues
    for node in refs:
        ref = node.workflow_ref or ""
        if ref in found:
            continue
        if path_is_file(base_dir / ref):
            continue
        yield Issue(
            "error",
            "node/unresolved-workflow-ref",
            f"workflow_ref {ref!r} matches no import (by id or file name) and no file",
            pointer=join_pointer(node.pointer, "workflow_ref"),
            hint=_close(ref, sorted(found)),
        )


def conformance_level(wf: Workflow) -> tuple[int, list[str]]:
    """Level 0–3 of seed 002 §13, and what the next level needs.

    0 Descriptive: a valid document.  1 Validatable: declares data (inputs/outputs
    on the workflow or a node, or contracts).  2 Executable: every node that a
    machine runs has a ``runtime``, and retry, timeout or security is set.
    3 Observable: a run of it can be observed — ``observability.tracing`` is on
    with an exporter the engine has (OTLP or console), so every run emits
    OpenTelemetry traces, and every agent node's cost can be tracked (its model
    has a price in the price table, or it runs offline).  See docs/conformance.md.
    """
    declares_data = bool(
        wf.inputs or wf.outputs or wf.contracts or any(n.inputs or n.outputs for n in wf.nodes)
    )
    if not declares_data:
        return 0, ["declare inputs/outputs (workflow or nodes) or contracts"]
    missing_runtime = [n.id for n in wf.nodes if n.type not in _NO_RUNTIME_NEEDED and not n.runtime]
    has_policy = bool(
        wf.retry
        or wf.timeout_sec is not None
        or wf.security
        or any(n.retry or n.timeout_sec is not None or n.security for n in wf.nodes)
    )
    if missing_runtime or not has_policy:
        needs = []
        if missing_runtime:
            shown = ", ".join(missing_runtime[:5]) + ("…" if len(missing_runtime) > 5 else "")
            needs.append(f"a `runtime` on nodes {shown}")
        if not has_policy:
            needs.append("a retry, timeout or security setting")
        return 1, needs
    needs = _observability_needs(wf)
    return (2, needs) if needs else (3, [])


#: Tracing exporters the engine has (``observability.tracing.exporter``).
_TRACE_EXPORTERS = frozenset({"otlp", "otlp_http", "otlp-http", "console"})


def _observability_needs(wf: Workflow) -> list[str]:
    """What keeps a run of ``wf`` from being observable (level 3); empty when nothing."""
    needs: list[str] = []
    tracing = wf.observability.get("tracing") if isinstance(wf.observability, dict) else None
    if not isinstance(tracing, dict) or tracing.get("enabled", True) is False:
        needs.append("`observability.tracing` enabled (every run then emits OpenTelemetry traces)")
    elif str(tracing.get("exporter") or "otlp").lower() not in _TRACE_EXPORTERS:
        needs.append(
            f"a tracing exporter the engine has (otlp or console), not {tracing['exporter']!r}"
        )
    unpriced = [n.id for n in wf.nodes if n.type == "agent" and not _cost_trackable(n.runtime)]
    if unpriced:
        shown = ", ".join(unpriced[:5]) + ("…" if len(unpriced) > 5 else "")
        needs.append(
            f"agent nodes whose cost can be tracked: {shown} (a runtime.model with a price "
            "in the price table, or OSOP_PRICES_FILE)"
        )
    return needs


def _cost_trackable(runtime: Mapping[str, Any]) -> bool:
    if str(runtime.get("provider") or "").lower() == "offline":
        return True
    model = runtime.get("model")
    if not isinstance(model, str) or not model:
        return False
    if "${" in model:
        return True  # chosen at run time; priced then
    from osop.llm.prices import price_for

    return price_for(model) is not None
