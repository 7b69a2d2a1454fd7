"""The ``osop`` command: a thin layer over the library.

Commands live one per module under :mod:`osop.cli` and are imported lazily, so
``osop --version`` stays fast however heavy a command's dependencies are.
Library errors (:class:`~osop.errors.OsopError`) become ``Error: ...`` on stderr
with exit code 1 (2 for usage errors) — never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from osop import __version__

__all__ = ["COMMANDS", "cli", "main"]

#: command name → (module, attribute, one-line help shown by ``osop --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    # define
    "init": ("osop.cli.init_cmd", "init", "Start a workflow from a template."),
    "validate": ("osop.cli.validate_cmd", "validate", "Check documents against the spec."),
    "migrate": ("osop.cli.migrate_cmd", "migrate", "Rewrite legacy forms to the current spec."),
    "schema": ("osop.cli.schema_cmd", "schema", "Print a JSON Schema (osop, osoplog, sop)."),
    "render": (
        "osop.cli.render_cmd",
        "render",
        "Draw a workflow or a .sop (svg/html/mermaid/story).",
    ),
    "sop": ("osop.cli.sop_cmd", "sop", "Build .sop collections from folders of workflows."),
    "studio": (
        "osop.cli.studio_cmd",
        "studio",
        "Plan a process in the browser: graph, YAML, live checks, co-editing.",
    ),
    # execute and record
    "run": ("osop.cli.run_cmd", "run", "Run a workflow (live, dry_run, simulated)."),
    "runs": ("osop.cli.runs_cmd", "runs", "List runs in the run store."),
    "status": ("osop.cli.status_cmd", "status", "Show where a run stands."),
    "resume": ("osop.cli.resume_cmd", "resume", "Continue a paused or interrupted run."),
    "approve": ("osop.cli.approve_cmd", "approve", "Answer a node waiting for a human."),
    "signal": ("osop.cli.signal_cmd", "signal", "Deliver an event or signal to a run."),
    "cancel": ("osop.cli.cancel_cmd", "cancel", "Cancel a run, leaving a complete record."),
    "worker": (
        "osop.cli.worker_cmd",
        "worker",
        "Host OSOP runs on a Temporal cluster (extra `temporal`).",
    ),
    "step": ("osop.cli.guided_cmd", "step", "Show (or execute) the steps a guided run hands out."),
    "log": ("osop.cli.guided_cmd", "log", "Report a guided run's step: what the caller did."),
    "import": (
        "osop.cli.import_cmd",
        "import_cmd",
        "Import agent sessions (Claude Code, Codex) as records.",
    ),
    # compare and improve
    "report": ("osop.cli.report_cmd", "report", "Render an execution report (html, ansi, text)."),
    "diff": ("osop.cli.diff_cmd", "diff", "Compare workflows, runs, or a workflow with runs."),
    "stats": (
        "osop.cli.stats_cmd",
        "stats",
        "Aggregate execution records (runs, durations, cost).",
    ),
    "synthesize": (
        "osop.cli.synthesize_cmd",
        "synthesize_cmd",
        "Propose a better workflow from records.",
    ),
    "export": (
        "osop.cli.export_cmd",
        "export",
        "Export records to XES or OCEL 2.0 (process mining).",
    ),
    "iteration": (
        "osop.cli.iteration_cmd",
        "iteration",
        "Approve, reject and apply synthesized changes.",
    ),
    # share
    "hub": ("osop.cli.hub_cmd", "hub", "Publish, search and pull processes on a SOP Hub."),
    "discover": (
        "osop.cli.discover_cmd",
        "discover",
        "List and fetch the processes a site publishes (/.well-known/sop).",
    ),
    # agents
    "mcp": ("osop.cli.mcp_cmd", "mcp", "Serve OSOP to AI agents over MCP (stdio)."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, _, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="osop")
def cli() -> None:
    """OSOP: define, run, record, compare and improve processes.

    \b
    Formats: .osop (a process), .osoplog (one run's record), .sop (a collection).
    Run `osop COMMAND --help` for the options of a command.
    """


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``osop`` script and ``python -m osop``."""
    try:
        return cli.main(args=argv, prog_name="osop")
    except SystemExit as exc:
        _leave_after_temporal(exc)
        raise


def _leave_after_temporal(exc: SystemExit) -> None:
    """After a command that talked to Temporal, exit without interpreter teardown.

    The Temporal SDK's native threads may still call into Python while the
    interpreter finalises, which aborts the process (temporalio/sdk-python#300) and
    would turn a clean exit code into SIGABRT.  Output is flushed first.
    """
    connection = sys.modules.get("osop.temporal.connection")
    if connection is None or not getattr(connection, "CLIENT_CREATED", False):
        return
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if exc.code is not None and not isinstance(exc.code, int):
        print(exc.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
