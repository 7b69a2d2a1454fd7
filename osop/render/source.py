"""Read a workflow for drawing: lenient (warnings never stop a drawing), exact about failure.

Rendering shows what a file *says*; judging it is ``osop validate``'s job.  So a
workflow is drawn whenever its graph can be drawn honestly, and anything else — a
file that does not parse, is not a workflow, has no nodes or has edges to nowhere —
raises an :class:`~osop.errors.OsopError` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from osop.errors import LoadError
from osop.format.loader import DEFAULT_MAX_BYTES, load_path
from osop.format.workflow import Workflow, workflow_from_dict
from osop.render.graph import DrawGraph, graph_of

__all__ = ["RenderSource", "load_for_render", "source_from_data"]


@dataclass(frozen=True, slots=True)
class RenderSource:
    """A workflow ready to render, with the text it was written in."""

    workflow: Workflow
    graph: DrawGraph
    text: str
    path: Path | None = None


def _check_shape(data: Mapping[str, Any], name: str) -> None:
    if "nodes" not in data and ("sections" in data or "node_records" in data):
        kind = "a .sop collection" if "sections" in data else "a run record"
        raise LoadError(f"this is {kind}, not a workflow", rule="document/kind", file=name)


def load_for_render(path: str | Path, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> RenderSource:
    """Read an ``.osop`` file (YAML or JSON) and prepare its graph."""
    doc = load_path(path, kind="workflow", max_bytes=max_bytes)
    _check_shape(doc.data, str(path))
    workflow = workflow_from_dict(doc.data)
    return RenderSource(workflow, graph_of(workflow, str(path)), doc.text, Path(path))


def source_from_data(data: Mapping[str, Any], name: str = "<inline>") -> RenderSource:
    """Prepare a workflow written inline (in a ``.sop``); its YAML tab shows a dump."""
    _check_shape(data, name)
    workflow = workflow_from_dict(data)
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
    return RenderSource(workflow, graph_of(workflow, name), text, None)
