"""Build a ``.sop`` collection from a folder of workflows: one section per subfolder.

Workflows directly in the folder form the first section (named after the folder);
each subfolder (recursively, by its path) becomes a section of its own.  Refs are
written relative to where the ``.sop`` file will live, so the document renders
from there.  Files that do not read as workflows are skipped and reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from osop.errors import OsopError
from osop.format.loader import load_path

__all__ = ["SopBuild", "build_sop", "sop_yaml"]

WORKFLOW_SUFFIXES = (".osop", ".osop.yaml", ".osop.yml", ".osop.json")


@dataclass(slots=True)
class SopBuild:
    data: dict[str, Any]
    skipped: list[str] = field(default_factory=list)

    @property
    def workflow_count(self) -> int:
        return sum(len(s["workflows"]) for s in self.data["sections"])


def _section_title(relative: Path, root: Path) -> str:
    if relative == Path("."):
        return (
            root.resolve().name.replace("-", " ").replace("_", " ").strip().capitalize()
            or "Workflows"
        )
    return " / ".join(p.replace("-", " ").replace("_", " ").capitalize() for p in relative.parts)


def build_sop(
    folder: str | Path,
    output: str | Path,
    *,
    name: str | None = None,
    description: str | None = None,
) -> SopBuild:
    """The ``.sop`` data for every workflow under ``folder`` (hidden folders ignored)."""
    root = Path(folder)
    if not root.is_dir():
        raise OsopError(f"{root} is not a folder")
    out_dir = Path(output).resolve().parent
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.name.lower().endswith(WORKFLOW_SUFFIXES)
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    sections: dict[Path, list[dict[str, Any]]] = {}
    skipped: list[str] = []
    for path in files:
        try:
            doc = load_path(path, kind="workflow")
        except OsopError as exc:
            # A LoadError already starts with the file (and line:col): do not repeat it.
            skipped.append(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}")
            continue
        data = doc.data
        if not isinstance(data.get("nodes"), list):
            skipped.append(f"{path}: not a workflow (no `nodes:` list)")
            continue
        entry: dict[str, Any] = {"ref": Path(os.path.relpath(path.resolve(), out_dir)).as_posix()}
        title = data.get("name") or data.get("id")
        if isinstance(title, str) and title:
            entry["title"] = title
        if isinstance(data.get("description"), str):
            entry["description"] = data["description"]
        if isinstance(data.get("owner"), str):
            entry["owner"] = data["owner"]
        tags = data.get("tags")
        if isinstance(tags, list) and tags:
            entry["tags"] = [str(t) for t in tags]
        sections.setdefault(path.parent.relative_to(root), []).append(entry)
    if not sections:
        raise OsopError(f"no workflows found under {root}")
    # The top folder first, then subfolders in path order.
    ordered = sorted(sections, key=lambda rel: (rel != Path("."), rel.parts))
    title = name or _section_title(Path("."), root)
    sop_id = "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split()) or "sop"
    result: dict[str, Any] = {
        "sop_version": "1.0",
        "id": sop_id if sop_id[0].isalpha() else f"sop-{sop_id}",
        "name": title,
    }
    if description:
        result["description"] = description
    result["sections"] = [
        {"name": _section_title(rel, root), "workflows": sections[rel]} for rel in ordered
    ]
    return SopBuild(result, skipped)


def sop_yaml(build: SopBuild) -> str:
    header = "# Built by `osop sop build`; edit freely (titles, descriptions, order).\n"
    return header + yaml.safe_dump(build.data, sort_keys=False, allow_unicode=True, width=100)
