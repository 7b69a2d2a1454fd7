"""The typed model of a ``.sop`` document: named sections of workflows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from osop.format.workflow import extensions_of

__all__ = ["SopDocument", "SopEntry", "SopSection", "sop_from_dict"]


@dataclass(frozen=True, slots=True)
class SopEntry:
    """One workflow in a section: by path (``ref``) or written inline (``workflow``)."""

    ref: str | None
    workflow: dict[str, Any] | None
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class SopSection:
    name: str
    entries: tuple[SopEntry, ...]
    description: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()
    pointer: str = ""


@dataclass(frozen=True)
class SopDocument:
    name: str
    sections: tuple[SopSection, ...]
    id: str | None = None
    sop_version: str = "1.0"
    description: str | None = None
    author: str | None = None
    owner: str | None = None
    version: str | None = None
    tags: tuple[str, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(str(t) for t in value) if isinstance(value, list) else ()


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def sop_from_dict(data: Mapping[str, Any]) -> SopDocument:
    """Build the model from plain data; never raises on odd shapes (the validator does)."""
    sections: list[SopSection] = []
    raw_sections = data.get("sections")
    for s_index, section in enumerate(raw_sections if isinstance(raw_sections, list) else []):
        if not isinstance(section, Mapping):
            continue
        entries: list[SopEntry] = []
        raw_entries = section.get("workflows")
        for e_index, entry in enumerate(raw_entries if isinstance(raw_entries, list) else []):
            pointer = f"/sections/{s_index}/workflows/{e_index}"
            if isinstance(entry, str):
                entries.append(SopEntry(ref=entry, workflow=None, pointer=pointer))
                continue
            if not isinstance(entry, Mapping):
                continue
            inline = entry.get("workflow")
            entries.append(
                SopEntry(
                    ref=_opt(entry.get("ref") or entry.get("path")),
                    workflow=dict(inline) if isinstance(inline, Mapping) else None,
                    title=_opt(entry.get("title")),
                    description=_opt(entry.get("description")),
                    owner=_opt(entry.get("owner")),
                    tags=_tags(entry.get("tags")),
                    pointer=pointer,
                )
            )
        sections.append(
            SopSection(
                name=str(section.get("name") or section.get("title") or f"Section {s_index + 1}"),
                entries=tuple(entries),
                description=_opt(section.get("description")),
                owner=_opt(section.get("owner")),
                tags=_tags(section.get("tags")),
                pointer=f"/sections/{s_index}",
            )
        )
    return SopDocument(
        name=str(data.get("name") or data.get("id") or "SOP"),
        sections=tuple(sections),
        id=_opt(data.get("id")),
        sop_version=str(data.get("sop_version", "1.0")),
        description=_opt(data.get("description")),
        author=_opt(data.get("author")),
        owner=_opt(data.get("owner")),
        version=_opt(data.get("version")),
        tags=_tags(data.get("tags")),
        extensions=extensions_of(data),
        raw=dict(data),
    )
