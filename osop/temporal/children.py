"""Child runs on Temporal: sub-workflows (``workflow_ref``) and spawned nodes.

Locally a child run is another run in the same store, started (or resumed) by
the parent node's attempt, which waits for it.  On Temporal a child run is a
Temporal *child workflow* running the same interpreter, with the OSOP run id as
its workflow id; its record is its own, linked both ways as locally (the
parent's node record names the child run, the child's record names its parent).

The interpreter reads no files, so the workflows a run may call
(``imports``) are read where the run is started and travel with the run's
request: :func:`bundle_imports` here, :func:`child_document` in the interpreter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from osop.errors import ExecutionError, OsopError
from osop.format.workflow import Node, Workflow

__all__ = ["bundle_imports", "child_document", "spawned_document"]


def bundle_imports(workflow: Workflow, workflow_path: Path | None) -> dict[str, Any]:
    """Every workflow reachable through ``workflow_ref``, read from disk once.

    ``{"refs": {ref: key | {"error": message}}, "files": {key: {"source", "refs"}}}``:
    each file once (an import cycle is fine; the depth limit stops it at run
    time, as locally), a reference that cannot be resolved as the error a local
    run would report when the node runs.
    """
    from osop.engine.runner import _resolve_ref

    files: dict[str, dict[str, Any]] = {}

    def refs_of(wf: Workflow, path: Path | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for node in wf.nodes:
            ref = node.workflow_ref
            if not ref or ref in out:
                continue
            try:
                child, child_path, source = _resolve_ref(wf, path, ref)
            except OsopError as exc:
                out[ref] = {"error": str(exc)}
                continue
            key = str(child_path)
            out[ref] = key
            if key not in files:
                files[key] = {"source": source.decode("utf-8"), "refs": {}}
                files[key]["refs"] = refs_of(child, child_path)
        return out

    refs = refs_of(workflow, workflow_path)
    return {"refs": refs, "files": files} if refs else {}


def child_document(imports: Mapping[str, Any], node: Node) -> tuple[str, bytes, dict[str, Any]]:
    """A sub-workflow node's child: its source text, the bytes its hash is of, its imports."""
    ref = str(node.workflow_ref)
    found = (imports.get("refs") or {}).get(ref)
    if isinstance(found, Mapping):
        raise ExecutionError(str(found.get("error") or f"workflow_ref {ref!r} cannot be read"))
    files = imports.get("files") or {}
    if not isinstance(found, str) or found not in files:
        raise ExecutionError(
            f"workflow_ref {ref!r} matches none of the imports read when the run was started"
        )
    entry = files[found]
    source = str(entry["source"])
    return source, source.encode("utf-8"), {"refs": entry.get("refs") or {}, "files": files}


def spawned_document(
    parent: Workflow, node: Node, imports: Mapping[str, Any]
) -> tuple[str, bytes, dict[str, Any]]:
    """A spawned node's child: a workflow of that node alone, as a local run builds it
    (it reads the parent's imports, as locally it has the parent's file)."""
    raw = dict(node.raw)
    document = {
        "osop_version": parent.osop_version,
        "id": f"{parent.id}-{node.id}".lower().replace("_", "-"),
        "name": f"{node.label} (spawned)",
        "nodes": [raw],
        "edges": [],
    }
    # The same bytes a local run hashes for a spawned child (its workflow_hash).
    return json.dumps(document), repr(raw).encode(), dict(imports)
