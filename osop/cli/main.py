"""The ``osop`` command's entry point (the ``osop`` script and ``python -m osop``).

``osop --version`` is answered here, before the command framework (click, ~40 ms
of CPU) is imported: start-up is the whole cost of that command. Everything else
goes to the click group in :mod:`osop.cli.app`, which builds its commands from
:data:`COMMANDS` (kept here, as plain data, so listing commands costs nothing).
Library errors (:class:`~osop.errors.OsopError`) become ``Error: ...`` on stderr
with exit code 1 (2 for usage errors) — never a traceback.
"""

from __future__ import annotations

import gc
import sys

from osop import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from osop.cli.app import cli

__all__ = ["COMMANDS", "cli", "end_startup", "main"]

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

_VERSION_FLAGS = (["--version"], ["-V"])

#: True while :func:`main` holds the cyclic garbage collector off (see :func:`end_startup`).
_collector_paused = False
#: True when :func:`end_startup` is to freeze what start-up made (see :func:`main`).
_freeze_startup = False


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    if (sys.argv[1:] if argv is None else argv) in _VERSION_FLAGS:
        # The same text and exit status as click's version option.
        sys.stdout.write(f"osop, version {__version__}\n")
        sys.exit(0)
    # Start-up creates tens of thousands of objects that live as long as the process
    # (modules, classes, functions): the cyclic collector would scan them some fifty
    # times while a command's modules are imported (~4 % of `osop validate`), and
    # find nothing to free. It is paused until the command is imported.
    global _collector_paused, _freeze_startup
    if gc.isenabled():
        gc.disable()
        _collector_paused = True
    args = sys.argv[1:] if argv is None else argv
    # When this process is `osop validate` (argv from the command line, not a
    # caller's list), what start-up made lives until exit: frozen, the collector
    # skips it in the collections while files are checked and in the ones at exit
    # (~10-15 ms of a small file's ~95). A caller's objects are never frozen.
    _freeze_startup = argv is None and args[:1] == ["validate"]
    try:
        if args[:1] == ["validate"]:
            # The plain `osop validate PATH...` needs no command framework (see
            # validate_core); it exits, or returns when click must take over.
            from osop.cli import validate_core

            if validate_core.fast_form(args):
                end_startup()
                validate_core.fast_validate(args)
        from osop.cli.app import run

        return run(argv)
    finally:
        end_startup()


def end_startup() -> None:
    """The command is loaded: freeze start-up's objects if :func:`main` asked for it,
    and switch the collector back on if :func:`main` paused it."""
    global _collector_paused, _freeze_startup
    if _freeze_startup:
        _freeze_startup = False
        gc.freeze()
    if _collector_paused:
        _collector_paused = False
        gc.enable()


def __getattr__(name: str) -> Any:
    if name == "cli":
        from osop.cli.app import cli

        return cli
    raise AttributeError(f"module 'osop.cli.main' has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
