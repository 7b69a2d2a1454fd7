"""The hub's web pages: browse, search, a package with its versions, evidence and drawing.

Server-rendered HTML with no script; every value that comes from a package is
escaped (``html.escape``, as in every HTML output of the project), and a
Content-Security-Policy header forbids loading anything from elsewhere.  The
rendered workflow or collection is the page ``osop render`` makes, served at
``.../document`` and shown in a frame.
"""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from osop import __version__
from osop.hub.store import HubStore, SearchFilters
from osop.render.page_style import PAGE_CSS

__all__ = ["add_pages", "render_version_document"]

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'self'"
)
_EXTRA_CSS = """
.hub-nav{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid #ddd}
.hub-nav form{display:flex;gap:.4rem;flex:1}
.hub-nav input[type=search]{flex:1;padding:.3rem}
.hub main{max-width:70rem;margin:1rem auto;padding:0 1rem}
.hub table{border-collapse:collapse;width:100%}
.hub td,.hub th{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left;vertical-align:top}
.hub iframe{width:100%;height:48rem;border:1px solid #ddd}
.hub .yanked{color:#a00}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _page(title: str, body: str, query: str = "") -> HTMLResponse:
    html = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · OSOP Hub</title><style>{PAGE_CSS}{_EXTRA_CSS}</style></head>\n"
        '<body class="hub"><nav class="hub-nav"><a href="/"><strong>OSOP Hub</strong></a>'
        '<form action="/search" method="get" role="search">'
        f'<input type="search" name="q" value="{_e(query)}" aria-label="Search processes" '
        'placeholder="Search processes"><button type="submit">Search</button></form></nav>\n'
        f"<main>{body}</main>\n"
        f'<footer class="doc">OSOP Hub {_e(__version__)} · '
        '<a href="/openapi.json">API (OpenAPI)</a></footer></body></html>\n'
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})


def _package_url(owner: str, name: str, version: str | None = None) -> str:
    url = f"/p/{quote(owner)}/{quote(name)}"
    return f"{url}/{quote(version)}" if version else url


def _tags(tags: list[str]) -> str:
    return "".join(f'<span class="tag">{_e(t)}</span> ' for t in tags)


def _hit_rows(hits: list[dict[str, Any]]) -> str:
    if not hits:
        return '<p class="meta">Nothing found.</p>'
    rows = []
    for hit in hits:
        evidence = hit["evidence"]
        runs = (
            f"{evidence['runs']} runs, {evidence['success_rate']:.0%} succeeded"
            if evidence["runs"]
            else "no records yet"
        )
        rows.append(
            "<tr>"
            f'<td><a class="hit" href="{_e(_package_url(hit["owner"], hit["name"]))}">'
            f"{_e(hit['package'])}</a><br>{_e(hit['title'])}</td>"
            f"<td>{_e(hit['version'])}</td><td>{_e(hit['description'])}<br>{_tags(hit['tags'])}</td>"
            f"<td>level {_e(hit['level'] if hit['level'] is not None else '-')}</td>"
            f"<td>{_e(runs)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Package</th><th>Version</th><th>About</th><th>Conformance</th>"
        f"<th>Evidence</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_version_document(version: dict[str, Any]) -> str:
    """The ``osop render`` page of a stored version (files laid out in a private folder)."""
    from osop.format.loader import load_path
    from osop.hub.package import resolve_ref, sop_refs
    from osop.render.document import render_sop_file, render_workflow_page
    from osop.render.source import load_for_render

    with tempfile.TemporaryDirectory(prefix="osop-hub-render-") as tmp:
        root = Path(tmp)
        for path, item in version["files"].items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(item["content"], encoding="utf-8")
        main = root / version["main"]
        if version["kind"] == "sop":
            # Every ref was checked at publish to stay inside the package (laid out here,
            # no links): refs to the .sop's sibling folders are the package's own files.
            for ref in sop_refs(load_path(main).data):
                resolve_ref(version["main"], ref)
            return render_sop_file(main, allow_outside_refs=True).html
        return render_workflow_page(load_for_render(main)).html


def add_pages(app: FastAPI, store: HubStore, reader: Any) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False, dependencies=[reader])
    def home() -> HTMLResponse:
        count = store.count_packages()
        body = (
            "<h1>OSOP Hub</h1><p>Validated processes to share: search for one before you "
            f"write your own. {count} package{'s' if count != 1 else ''}.</p>"
            f"<h2>Recently published</h2>{_hit_rows(store.recent())}"
        )
        return _page("Browse", body)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False, dependencies=[reader])
    def search(q: str = "", node_type: str | None = None, tag: str | None = None) -> HTMLResponse:
        hits = store.search(q, SearchFilters(node_type=node_type or None, tag=tag or None))
        body = f"<h1>Results for “{_e(q)}”</h1>{_hit_rows(hits)}"
        return _page(f"Search: {q}", body, q)

    @app.get(
        "/p/{owner}/{name}", response_class=HTMLResponse, include_in_schema=False,
        dependencies=[reader],
    )  # fmt: skip
    def package(owner: str, name: str) -> HTMLResponse:
        found = store.package(owner, name)
        # Every version yanked: still show the newest, flagged, rather than a 404.
        newest = found["latest"] or found["versions"][0]["version"]
        return _package_page(store, owner, name, newest)

    @app.get(
        "/p/{owner}/{name}/{version}", response_class=HTMLResponse, include_in_schema=False,
        dependencies=[reader],
    )  # fmt: skip
    def version(owner: str, name: str, version: str) -> HTMLResponse:
        return _package_page(store, owner, name, version)

    @app.get(
        "/p/{owner}/{name}/{version}/document", response_class=HTMLResponse,
        include_in_schema=False, dependencies=[reader],
    )  # fmt: skip
    def document(owner: str, name: str, version: str) -> HTMLResponse:
        html = render_version_document(store.version(owner, name, version))
        # The rendered page carries its own CSP (no network, no script).
        return HTMLResponse(html, headers={"Content-Security-Policy": _CSP})


def _package_page(store: HubStore, owner: str, name: str, version: str) -> HTMLResponse:
    package = store.package(owner, name)
    current = store.version(owner, name, version, files=False)
    stats = store.stats(owner, name, current["version"])
    summary = current["summary"]
    versions = "".join(
        f'<tr><td><a href="{_e(_package_url(owner, name, v["version"]))}">{_e(v["version"])}</a>'
        + (f' <span class="yanked">yanked: {_e(v["yank_reason"])}</span>' if v["yanked"] else "")
        + f"</td><td>{_e(v['published_at'][:10])}</td><td>{_e(v['evidence']['runs'])}</td>"
        f"<td><code>{_e(v['content_hash'])}</code></td></tr>"
        for v in package["versions"]
    )
    workflows = "".join(
        f"<tr><td>{_e(w['title'] or w['name'])}</td><td>{_e(w['description'] or '')}</td>"
        f"<td>{_e(', '.join(w['inputs']) or '-')}</td><td>{_e(w['path'])}</td></tr>"
        for w in summary["workflows"]
    )
    security = summary["security"]
    risky = "".join(
        f"<li>{_e(r['workflow'])} · {_e(r['node'])}: {_e(r['level'])} ({_e(', '.join(r['rules']))})</li>"
        for r in security["risky_nodes"]
    )
    gates = "".join(
        f"<li>{_e(g['workflow'])} · {_e(g['node'])} ({_e(g['type'])})</li>"
        for g in security["approval_gates"]
    )
    evidence_rows = "".join(
        f"<tr><td>{_e(s['workflow_id'])}</td><td>{_e(s['total_runs'])}</td>"
        f"<td>{_e(format(s['success_rate'], '.0%'))}</td>"
        f"<td>{_e(s.get('p50_duration_ms', '-'))}</td><td>{_e(s.get('p95_duration_ms', '-'))}</td>"
        f"<td>{_e(s['total_cost_usd'])}</td></tr>"
        for s in stats["workflows"]
    )
    evidence = (
        "<table><thead><tr><th>Workflow</th><th>Runs</th><th>Success</th><th>p50 ms</th>"
        f"<th>p95 ms</th><th>Cost USD</th></tr></thead><tbody>{evidence_rows}</tbody></table>"
        if evidence_rows
        else '<p class="meta">No execution records uploaded yet.</p>'
    )
    doc_url = _package_url(owner, name, current["version"]) + "/document"
    yanked = (
        f'<p class="yanked">This version is yanked: {_e(current["yank_reason"])}</p>'
        if current["yanked"]
        else ""
    )
    body = (
        f"<h1>{_e(package['package'])} <small>{_e(current['version'])}</small></h1>{yanked}"
        f"<p><strong>{_e(current['title'])}</strong></p><p>{_e(current['description'])}</p>"
        f'<p class="meta">{_e(current["kind"])} · conformance level '
        f"{_e(current['level'] if current['level'] is not None else '-')} · node types "
        f"{_e(', '.join(current['node_types']))} · risk {_e(security['risk'])}</p>"
        f"<p>{_tags(current['tags'])}</p>"
        f"<p>Pull it: <code>osop hub pull {_e(package['package'])}@{_e(current['version'])}"
        "</code></p>"
        "<h2>Operations</h2><table><thead><tr><th>Workflow</th><th>Purpose</th>"
        f"<th>Inputs</th><th>File</th></tr></thead><tbody>{workflows}</tbody></table>"
        f"<h2>Security</h2><p>Risky steps:</p><ul>{risky or '<li>none</li>'}</ul>"
        f"<p>Approval gates:</p><ul>{gates or '<li>none</li>'}</ul>"
        f"<h2>Evidence</h2>{evidence}"
        f'<h2>Drawing and story</h2><p><a href="{_e(doc_url)}">Open the rendered document</a></p>'
        f'<iframe title="Rendered document" src="{_e(doc_url)}"></iframe>'
        f"<h2>Versions</h2><table><thead><tr><th>Version</th><th>Published</th><th>Records</th>"
        f"<th>Content hash</th></tr></thead><tbody>{versions}</tbody></table>"
    )
    return _page(package["package"], body)
