"""``osop import``: agent sessions (Claude Code, Codex, plug-ins) as ``.osoplog`` records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors, print_json
from osop.cli.run_support import open_store
from osop.errors import OsopError
from osop.importers import import_sessions, store_records, write_records

__all__ = ["import_cmd"]


@click.command("import")
@click.argument("agent")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write <session-id>.osoplog.json per session (and per sub-agent) into this folder.",
)
@click.option(
    "--store",
    "to_store",
    is_flag=True,
    help="Put the records into the run store (osop runs/status/report/stats/diff see them).",
)
@click.option(
    "--store-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run store folder for --store (default: $OSOP_HOME, else ./.osop).",
)
@click.option(
    "--include-content",
    is_flag=True,
    help="Keep prompt texts, model texts, tool inputs and outputs (secrets masked, "
    "4,000 characters each). Default: lengths and hashes only.",
)
@click.option(
    "--prices",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A price file read on top of the shipped table (default: $OSOP_PRICES).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
@handle_errors
def import_cmd(
    agent: str,
    paths: tuple[str, ...],
    output: Path | None,
    to_store: bool,
    store_dir: Path | None,
    include_content: bool,
    prices: str | None,
    as_json: bool,
) -> None:
    """Import AGENT sessions found at PATHS as execution records.

    \b
    AGENT   claude-code   a session <id>.jsonl (its <id>/subagents/ come along)
                          or a project folder ~/.claude/projects/<project>/
            codex         a rollout-*.jsonl or a folder (~/.codex/sessions)
            (plug-ins add more through the `osop.importers` entry points)

    Each session becomes one .osoplog (sub-agents become child runs). Give -o DIR,
    --store, or both.
    """
    if output is None and not to_store:
        raise click.UsageError("say where the records go: -o DIR and/or --store")
    store = open_store(store_dir) if to_store else None
    rows: list[dict[str, Any]] = []
    for imported in import_sessions(agent, paths, include_content=include_content, prices=prices):
        for warning in imported.warnings:
            click.echo(f"warning: {warning}", err=True)
        record = imported.record
        row: dict[str, Any] = {
            "session_id": imported.session.session_id,
            "run_id": record.run_id,
            "child_runs": [r.run_id for r in imported.records[1:]],
            "nodes": len(record.node_records),
            "summary": record.result_summary,
        }
        if output is not None:
            row["files"] = [str(p) for p in write_records(imported, output)]
        if store is not None:
            store_records(imported, store)
        rows.append(row)
        if not as_json:
            where = row["files"][0] if output is not None else f"run {record.run_id[:8]}"
            subs = f", {len(row['child_runs'])} sub-agent run(s)" if row["child_runs"] else ""
            click.echo(f"{imported.session.session_id} -> {where}: {record.result_summary}{subs}")
    if not rows:
        raise OsopError("no sessions found in " + ", ".join(paths))
    if as_json:
        print_json(rows)
