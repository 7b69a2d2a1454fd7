"""Imports that lead back to themselves.

A workflow that imports itself (directly, or through the workflows it imports) and
runs the import as a sub-workflow would start child runs without end.  The
validator follows imports — and ``workflow_ref`` values that name a file — up to
:data:`~osop.format.limits.MAX_IMPORT_DEPTH` levels, and reports a cycle as
``workflow/import-cycle`` (an error), a deeper chain as ``workflow/import-too-deep``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.format.limits import MAX_IMPORT_DEPTH
from osop.format.workflow import Workflow

__all__ = ["check_import_cycles", "import_paths"]

_PATH_KEYS = ("path", "file", "source", "ref")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def import_paths(data: Mapping[str, Any], base_dir: Path) -> list[tuple[str, Path]]:
    """``(pointer, resolved path)`` of every existing file that ``data`` imports or refers to."""
    found: list[tuple[str, Path]] = []
    imports = data.get("imports")
    for index, item in enumerate(imports if isinstance(imports, list) else []):
        candidates = [item] if isinstance(item, str) else []
        if isinstance(item, Mapping):
            candidates = [item[k] for k in _PATH_KEYS if isinstance(item.get(k), str)]
        for text in candidates:
            path = base_dir / text
            if _is_file(path):
                found.append((join_pointer("/imports", index), path.resolve()))
                break
    nodes = data.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        ref = node.get("workflow_ref") if isinstance(node, Mapping) else None
        if isinstance(ref, str) and ref and _is_file(base_dir / ref):
            found.append(
                (join_pointer("/nodes", index, "workflow_ref"), (base_dir / ref).resolve())
            )
    return found


def _imports_of(path: Path, cache: dict[Path, list[Path]]) -> list[Path]:
    if path not in cache:
        from osop.errors import LoadError
        from osop.format.loader import load_path

        try:
            data = load_path(path, kind="workflow").data
        except (LoadError, OSError):
            data = {}
        cache[path] = [p for _, p in import_paths(data, path.parent)]
    return cache[path]


def _cycle_from(start: Path, cache: dict[Path, list[Path]]) -> tuple[list[Path] | None, bool]:
    """A cycle reachable from ``start`` (the chain), and whether the chain got too deep."""
    stack: list[tuple[Path, int]] = [(start, 0)]
    chain: list[Path] = []
    done: set[Path] = set()
    while stack:
        path, level = stack.pop()
        del chain[level:]
        if path in chain:
            return [*chain[chain.index(path) :], path], False
        if path in done:
            continue
        if level >= MAX_IMPORT_DEPTH:
            return [*chain, path], True
        chain.append(path)
        children = _imports_of(path, cache)
        if not children:
            done.add(path)
        stack.extend((child, level + 1) for child in reversed(children))
    return None, False


def check_import_cycles(wf: Workflow, base_dir: Path) -> Iterator[Issue]:
    cache: dict[Path, list[Path]] = {}
    reported: set[tuple[Path, ...]] = set()
    for pointer, path in import_paths(wf.raw, base_dir):
        chain, too_deep = _cycle_from(path, cache)
        if chain is None:
            continue
        key = tuple(sorted(set(chain)))
        if key in reported:
            continue
        reported.add(key)
        names = " → ".join(p.name for p in chain)
        if too_deep:
            yield Issue(
                "error",
                "workflow/import-too-deep",
                f"imports nest deeper than {MAX_IMPORT_DEPTH} levels: {names}",
                pointer=pointer,
            )
        else:
            yield Issue(
                "error",
                "workflow/import-cycle",
                f"imports form a cycle ({names}): running it would start sub-workflow "
                "runs without end",
                pointer=pointer,
            )
