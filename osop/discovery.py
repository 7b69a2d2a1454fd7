"""Discovery at a site's root: ``.sop`` as robots.txt for agents.

A site publishes its processes as a ``.sop`` collection at
``https://example.com/.well-known/sop`` (looked for first: RFC 8615's place for
site metadata) or ``https://example.com/.sop`` (second).  :func:`discover` fetches
it, validates it, and lists its operations — each workflow with its purpose and
entry inputs; :func:`fetch_operation` downloads the one an agent chooses.

What it refuses (a site is not trusted): plain HTTP except to localhost, refs
that lead to another host or to ``file://``, redirects to another origin, and
any response over the size limits.  :func:`write_site` writes the files a site
needs (``osop sop publish-site``).
"""

from __future__ import annotations

import functools
import ipaddress
import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import yaml

from osop.errors import OsopError
from osop.format.loader import DocumentKind

__all__ = [
    "LOCATIONS",
    "MAX_DOCUMENT_BYTES",
    "DiscoveredSite",
    "DiscoveryError",
    "Operation",
    "check_url",
    "discover",
    "fetch_operation",
    "write_site",
]

#: Where a site's collection is looked for, in this order.
LOCATIONS = ("/.well-known/sop", "/.sop")
#: Largest .sop or workflow fetched (the loader's own default cap).
MAX_DOCUMENT_BYTES = 1_000_000
#: A site listing more operations than this is cut short (with a note).
MAX_OPERATIONS = 100
_MAX_REDIRECTS = 5


class DiscoveryError(OsopError):
    """A site that cannot be discovered or a workflow that cannot be fetched (says why)."""


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_url(url: str, site: str | None = None) -> str:
    """``url`` if it may be fetched: HTTPS (HTTP only to localhost), same origin as ``site``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise DiscoveryError(
            f"refused {url!r}: only https:// URLs are fetched (not {parts.scheme or 'a path'})"
        )
    if parts.scheme == "http" and not _is_local(host):
        raise DiscoveryError(f"refused {url}: HTTPS is required (plain HTTP only to localhost)")
    if parts.username or parts.password:
        raise DiscoveryError(f"refused {url}: credentials in URLs are not sent")
    if site is not None and _origin(url) != _origin(site):
        raise DiscoveryError(
            f"refused {url}: it is on another host than the site {site} "
            "(a site's .sop may only point to its own files)"
        )
    return url


def _site_root(url: str) -> str:
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    check_url(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(slots=True)
class Operation:
    """One workflow a site offers."""

    section: str
    title: str | None
    ref: str | None
    url: str | None
    workflow_id: str | None = None
    name: str | None = None
    description: str | None = None
    inputs: list[str] = field(default_factory=list)
    node_types: list[str] = field(default_factory=list)
    level: int | None = None
    error: str | None = None
    inline: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.title or self.name or self.workflow_id or self.ref or "(unnamed)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "title": self.title,
            "ref": self.ref,
            "url": self.url,
            "workflow_id": self.workflow_id,
            "name": self.name,
            "description": self.description,
            "inputs": self.inputs,
            "node_types": self.node_types,
            "level": self.level,
            "error": self.error,
        }


@dataclass(slots=True)
class DiscoveredSite:
    site: str
    document_url: str
    name: str
    description: str | None
    operations: list[Operation]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "document_url": self.document_url,
            "name": self.name,
            "description": self.description,
            "operations": [o.to_dict() for o in self.operations],
            "notes": self.notes,
        }


def _get(client: httpx.Client, url: str, site: str) -> tuple[int, str, str]:
    """GET within the site: same-origin redirects only, the size limit enforced while reading."""
    for _ in range(_MAX_REDIRECTS + 1):
        check_url(url, site)
        try:
            with client.stream("GET", url) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    return response.status_code, "", url
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
                    raise DiscoveryError(f"{url} is over the {MAX_DOCUMENT_BYTES}-byte limit")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise DiscoveryError(f"{url} is over the {MAX_DOCUMENT_BYTES}-byte limit")
        except httpx.HTTPError as exc:
            raise DiscoveryError(f"cannot fetch {url}: {exc}") from None
        try:
            return 200, body.decode("utf-8"), url
        except UnicodeDecodeError:
            raise DiscoveryError(f"{url} is not UTF-8 text") from None
    raise DiscoveryError(f"{url}: more than {_MAX_REDIRECTS} redirects")


def _validate(text: str, name: str, kind: DocumentKind) -> Any:
    """The validated model; refs are remote, so 'missing file' warnings do not apply."""
    from osop.errors import ValidationError
    from osop.format.validate import validate_text

    with tempfile.TemporaryDirectory(prefix="osop-discover-") as empty:
        report = validate_text(
            text,
            name,
            kind=kind,
            base_dir=Path(empty),
            max_bytes=MAX_DOCUMENT_BYTES,
        )
    if report.kind != kind:
        raise DiscoveryError(
            f"{name} is not a {'.sop collection' if kind == 'sop' else 'workflow'}"
        )
    if not report.valid:
        raise ValidationError(report.errors, file=name)
    return report


def _client(transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(
        transport=transport,
        timeout=15.0,
        follow_redirects=False,
        headers={"User-Agent": "osop-discover", "Accept": "application/yaml, text/yaml, */*"},
    )


def discover(
    url: str,
    *,
    fetch_workflows: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> DiscoveredSite:
    """Find, validate and list the operations of the site at ``url``."""
    from osop.format.sop import SopDocument

    site = _site_root(url)
    with _client(transport) as client:
        tried: list[str] = []
        for location in LOCATIONS:
            status, text, final = _get(client, site + location, site)
            if status == 200:
                break
            tried.append(f"{site + location} ({status})")
        else:
            raise DiscoveryError(f"{site} publishes no .sop: tried {', '.join(tried)}")
        report = _validate(text, final, "sop")
        sop = report.model
        assert isinstance(sop, SopDocument)
        refused = []
        for section in sop.sections:
            for entry in section.entries:
                if entry.ref is None:
                    continue
                try:
                    check_url(urljoin(final, entry.ref), site)
                except DiscoveryError as exc:
                    refused.append(f"{entry.ref}: {exc}")
        if refused:
            raise DiscoveryError(
                f"{final}: refused; its refs must stay on {site}:\n  " + "\n  ".join(refused)
            )
        found = DiscoveredSite(site, final, sop.name, sop.description, [])
        for section in sop.sections:
            for entry in section.entries:
                if len(found.operations) >= MAX_OPERATIONS:
                    found.notes.append(f"only the first {MAX_OPERATIONS} operations are listed")
                    return found
                op = Operation(
                    section=section.name,
                    title=entry.title,
                    ref=entry.ref,
                    url=urljoin(final, entry.ref) if entry.ref else None,
                    description=entry.description,
                    inline=entry.workflow,
                )
                if fetch_workflows:
                    _describe(client, site, op)
                found.operations.append(op)
        return found


def _describe(client: httpx.Client, site: str, op: Operation) -> None:
    from osop.format.workflow import Workflow
    from osop.hub.summary import workflow_info

    try:
        text = _operation_text(client, site, op)
        report = _validate(text, op.url or "inline workflow", "workflow")
    except OsopError as exc:
        op.error = str(exc)
        return
    wf = report.model
    assert isinstance(wf, Workflow)
    info = workflow_info(wf, op.ref or "", report.level)
    op.workflow_id, op.name = info.id, info.name
    op.description = op.description or info.description
    op.inputs, op.node_types, op.level = info.inputs, info.node_types, info.level


def _operation_text(client: httpx.Client, site: str, op: Operation) -> str:
    if op.inline is not None:
        return yaml.safe_dump(op.inline, sort_keys=False, allow_unicode=True)
    assert op.url is not None
    status, text, _ = _get(client, op.url, site)
    if status != 200:
        raise DiscoveryError(f"{op.url}: HTTP {status}")
    return text


def _choose(found: DiscoveredSite, which: str) -> Operation:
    wanted = which.strip().lower()
    for op in found.operations:
        names = {op.workflow_id, op.title, op.name, op.ref}
        if op.ref:
            names.add(posixpath.basename(op.ref))
        if wanted in {n.lower() for n in names if n}:
            return op
    if wanted.isdigit() and 1 <= int(wanted) <= len(found.operations):
        return found.operations[int(wanted) - 1]
    listed = ", ".join(o.workflow_id or o.label for o in found.operations)
    raise DiscoveryError(f"{found.site} offers no operation {which!r} (it offers: {listed})")


def fetch_operation(
    url: str,
    which: str,
    dest: str | Path,
    *,
    force: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> tuple[Operation, Path]:
    """Download and validate one operation (by id, title, file name or 1-based number)."""
    from osop.record.writer import atomic_write_text

    found = discover(url, fetch_workflows=True, transport=transport)
    op = _choose(found, which)
    if op.error:
        raise DiscoveryError(f"{op.label}: {op.error}")
    with _client(transport) as client:
        text = _operation_text(client, found.site, op)
    _validate(text, op.url or "inline workflow", "workflow")
    base = posixpath.basename(urlsplit(op.url).path) if op.url else ""
    if not base or base.startswith("."):
        base = f"{op.workflow_id or 'workflow'}.osop.yaml"
    target = Path(dest) / base
    if target.exists() and not force:
        raise DiscoveryError(f"{target} exists (use --force to overwrite it)")
    atomic_write_text(target, text, create_parents=True)  # the folder the caller named
    return op, target


def write_site(source: str | Path, site_dir: str | Path) -> list[Path]:
    """Write what a site serves: ``.well-known/sop``, ``.sop`` and the workflows under ``sop/``.

    ``source`` is a ``.sop`` (its refs are followed) or a folder of workflows (made
    into a ``.sop`` as ``osop sop build`` would).  Refs are rewritten so that each
    of the two documents resolves them against its own URL.
    """
    from osop.format.api import load_sop
    from osop.hub.package import check_package_path, collect_package
    from osop.record.writer import atomic_write_text

    src = Path(source)
    if src.is_dir():
        from osop.render.sop_build import build_sop, sop_yaml

        # The built refs are relative to the folder (the .sop is placed in it).
        built = build_sop(src, src / "index.sop", name=src.resolve().name)
        text = sop_yaml(built)
        data = built.data
        main = "index.sop"
        files = {main: text}
        for ref in _refs_of(data):
            files[check_package_path(ref)] = (src / ref).read_text(encoding="utf-8")
    else:
        load_sop(src)  # refuse an invalid .sop before writing anything
        package = collect_package(src)
        main, files = package.main, package.files
        data = yaml.safe_load(files[main])
    out = Path(site_dir)
    written: list[Path] = []
    main_dir = posixpath.dirname(main)
    for path, text in files.items():
        if path == main:
            continue
        target = out / "sop" / path
        # The site's own folder tree, under the folder the caller named.
        atomic_write_text(target, text, create_parents=True)
        written.append(target)
    for location, prefix in ((".sop", "sop/"), (".well-known/sop", "../sop/")):
        doc = _rewrite_refs(data, functools.partial(_site_ref, prefix, main_dir))
        target = out / location
        atomic_write_text(
            target,
            yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
            create_parents=True,
        )
        written.append(target)
    return written


def _site_ref(prefix: str, main_dir: str, ref: str) -> str:
    return prefix + posixpath.normpath(posixpath.join(main_dir, ref))


def _refs_of(data: Any) -> list[str]:
    from osop.hub.package import sop_refs

    return sop_refs(data)


def _rewrite_refs(data: dict[str, Any], change: Any) -> dict[str, Any]:
    import copy

    doc = copy.deepcopy(data)
    for section in doc.get("sections") or []:
        entries = section.get("workflows") if isinstance(section, dict) else None
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                entries[index] = change(entry)
            elif isinstance(entry, dict):
                for key in ("ref", "path"):
                    if isinstance(entry.get(key), str):
                        entry[key] = change(entry[key])
    return doc
