"""The stylesheet inlined into every rendered document (no fonts, images or scripts).

Tabs are CSS-only: a hidden radio button per tab, its ``<label>`` as the tab, and
``:checked ~ .panel-x`` to show the panel, so pages work with scripts off.
The five status colours appear only where a status is shown.
"""

from __future__ import annotations

__all__ = ["PAGE_CSS", "TAB_NAMES"]

#: Tab key → label, in display order.
TAB_NAMES: dict[str, str] = {
    "visual": "Visual",
    "yaml": "YAML",
    "story": "Story",
    "roles": "Roles",
    "runs": "Runs",
}

_TAB_RULES = "\n".join(
    f".tabs > input.tab-{key}:checked ~ .panel-{key} {{ display: block; }}" for key in TAB_NAMES
)

PAGE_CSS = (
    """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial,
  sans-serif; color: #111827; background: #f9fafb; }
header.doc { padding: 28px 32px 12px; background: #ffffff; border-bottom: 1px solid #e5e7eb; }
header.doc h1 { margin: 0 0 6px; font-size: 26px; }
.meta { color: #6b7280; font-size: 13px; margin: 2px 0; }
.tag { display: inline-block; border: 1px solid #d1d5db; border-radius: 10px; padding: 0 8px;
  margin-right: 4px; font-size: 12px; color: #374151; }
.layout { display: flex; align-items: flex-start; gap: 24px; padding: 20px 32px; }
nav.toc { position: sticky; top: 12px; flex: 0 0 250px; max-height: calc(100vh - 24px);
  overflow: auto; background: #ffffff; border: 1px solid #e5e7eb; border-radius: 8px;
  padding: 12px 16px; font-size: 14px; }
nav.toc h2 { font-size: 14px; margin: 0 0 6px; text-transform: uppercase; color: #6b7280; }
nav.toc ol { padding-left: 18px; margin: 4px 0; }
nav.toc a { color: #111827; text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
main { flex: 1 1 auto; min-width: 0; }
details.section { background: #ffffff; border: 1px solid #e5e7eb; border-radius: 8px;
  margin-bottom: 18px; padding: 6px 18px 12px; }
details.section > summary { cursor: pointer; padding: 8px 0; }
details.section > summary h2 { display: inline; font-size: 20px; margin: 0; }
article.workflow { border-top: 1px solid #e5e7eb; padding: 14px 0 8px; }
article.workflow h3 { margin: 0 0 4px; font-size: 18px; }
.tabs { position: relative; margin-top: 10px; }
.tabs > input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.tabs > label { display: inline-block; padding: 5px 14px; margin-right: 2px; cursor: pointer;
  border: 1px solid #d1d5db; border-bottom: none; border-radius: 6px 6px 0 0; font-size: 14px;
  background: #f3f4f6; color: #374151; }
.tabs > input:checked + label { background: #ffffff; color: #111827; font-weight: 600;
  position: relative; top: 1px; }
.tabs > input:focus-visible + label { outline: 2px solid #111827; outline-offset: 1px; }
.tabs > .panel { display: none; border: 1px solid #d1d5db; border-radius: 0 6px 6px 6px;
  padding: 12px; background: #ffffff; overflow: auto; }
.panel-visual { max-height: 80vh; }
.panel-visual svg { display: block; max-width: none; }
.legend { margin-top: 8px; padding-top: 6px; border-top: 1px solid #e5e7eb; overflow-x: auto; }
pre.source { margin: 0; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas,
  monospace; white-space: pre; }
ol.story > li { margin-bottom: 10px; }
ol.story .who { color: #6b7280; font-size: 13px; }
ol.story ul { margin: 2px 0; padding-left: 18px; color: #374151; font-size: 14px; }
table.grid { border-collapse: collapse; font-size: 14px; }
table.grid th, table.grid td { border-bottom: 1px solid #e5e7eb; padding: 4px 10px;
  text-align: left; vertical-align: top; }
table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; }
.share { display: inline-block; height: 10px; background: #111827; border-radius: 2px;
  vertical-align: middle; }
.status { font-weight: 600; }
.status-COMPLETED { color: #22c55e; }
.status-FAILED { color: #ef4444; }
.status-TIMED_OUT, .status-RUNNING, .status-PAUSED, .status-WAITING { color: #eab308; }
.status-PENDING { color: #3b82f6; }
.status-CANCELLED, .status-SKIPPED { color: #6b7280; }
.error-box { border: 2px solid #ef4444; border-radius: 6px; padding: 10px 14px; margin: 8px 0;
  background: #ffffff; }
.error-box strong { color: #ef4444; }
footer.doc { color: #6b7280; font-size: 12px; padding: 0 32px 24px; }
@media (max-width: 900px) { .layout { display: block; } nav.toc { position: static;
  margin-bottom: 16px; max-height: none; } }
@media print { .tabs > .panel { display: block !important; } .tabs > label { display: none; }
  nav.toc { display: none; } }
"""
    + _TAB_RULES
    + "\n"
)
