"""Starter workflows for ``osop init``: real processes to copy and adapt.

Each template is a valid ``.osop.yaml`` file shipped in this package; its first
comment line says what it is for.  Scaffolding rewrites only the top-level
``id:`` and ``name:`` lines, so the template's comments and layout survive.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from osop.errors import OsopError

__all__ = [
    "DEFAULT_TEMPLATE",
    "WORKFLOW_ID",
    "TemplateInfo",
    "list_templates",
    "scaffold",
    "template_text",
    "title_from_id",
]

DEFAULT_TEMPLATE = "basic"
SUFFIX = ".osop.yaml"
#: The spec's workflow id: lower-case kebab-case, at most 128 characters.
WORKFLOW_ID = re.compile(r"^[a-z][a-z0-9-]{0,127}$")

_ID_LINE = re.compile(r"^id:.*$", re.M)
_NAME_LINE = re.compile(r"^name:.*$", re.M)
_DESCRIPTION_LINE = re.compile(r"^description:\s*(.*)$", re.M)


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str
    summary: str
    description: str


def _names() -> list[str]:
    folder = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(SUFFIX) for entry in folder.iterdir() if entry.name.endswith(SUFFIX)
    )


def template_text(name: str) -> str:
    """The template's text; an unknown name raises ``OsopError`` listing the known ones."""
    names = _names()
    if name not in names:
        raise OsopError(f"no template {name!r}; choose one of: {', '.join(names)}")
    return resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")


def list_templates() -> list[TemplateInfo]:
    out = []
    for name in _names():
        text = template_text(name)
        first = text.splitlines()[0] if text else ""
        summary = first.lstrip("# ").strip() if first.startswith("#") else ""
        match = _DESCRIPTION_LINE.search(text)
        description = json.loads(match.group(1)) if match and match.group(1).startswith('"') else ""
        out.append(TemplateInfo(name, summary, description))
    return out


def title_from_id(workflow_id: str) -> str:
    """``"release-train"`` → ``"Release train"``."""
    words = workflow_id.replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _kebab(text: str) -> str | None:
    """``My Flow_2`` → ``my-flow-2``, when that makes a valid id."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    candidate = "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:128].strip("-")
    return candidate if WORKFLOW_ID.fullmatch(candidate) else None


def scaffold(template: str, workflow_id: str | None = None, name: str | None = None) -> str:
    """The template's text with its ``id`` (and ``name``) replaced.

    ``workflow_id`` must be kebab-case (``^[a-z][a-z0-9-]*$``, at most 128 characters).
    """
    text = template_text(template)
    if workflow_id is None:
        return text
    if not WORKFLOW_ID.fullmatch(workflow_id):
        suggestion = _kebab(workflow_id)
        tip = f"; for example {suggestion!r}" if suggestion else ""
        raise OsopError(
            f"{workflow_id!r} is not a valid workflow id: use lower-case kebab-case "
            f"(letters, digits and '-', starting with a letter, at most 128 characters){tip}"
        )
    title = name or title_from_id(workflow_id)
    # json.dumps gives a double-quoted string that YAML reads back verbatim.
    text = _ID_LINE.sub(lambda _: f"id: {workflow_id}", text, count=1)
    return _NAME_LINE.sub(lambda _: f"name: {json.dumps(title, ensure_ascii=False)}", text, count=1)
