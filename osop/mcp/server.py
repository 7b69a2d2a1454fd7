"""The MCP server: OSOP for AI agents, as a thin layer over the library.

An agent validates a process, runs it (rehearsed, dry or live), answers the
humans' questions it is allowed to answer, reads the record and the report —
through the same functions the CLI calls.  Start it with ``osop mcp`` (stdio).

Tool results are plain JSON; library errors become a tool error whose text says
what is wrong (the MCP SDK marks the result ``isError``), never a traceback.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from osop import __version__
from osop.errors import OsopError, ValidationError

__all__ = ["INSTALL_HINT", "OsopTools", "build_server"]

INSTALL_HINT = "the MCP server needs the `mcp` package: pip install 'osop-toolkit[mcp]'"

T = TypeVar("T")


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and len(text) < 4096 and Path(text).expanduser().is_file()


class OsopTools:
    """The tools, as plain methods (tested directly and through an MCP client)."""

    def __init__(self, store_root: Path | None = None, workdir: Path | None = None) -> None:
        from osop.engine import RunStore

        self.workdir = (workdir or Path.cwd()).resolve()
        self.store = RunStore(store_root)

    # -- documents ------------------------------------------------------------------

    def validate(self, document: str) -> dict[str, Any]:
        """Validate a workflow, record or collection given as a file path or as YAML/JSON text."""
        from osop.format.validate import validate_path, validate_text

        report = (
            validate_path(Path(document).expanduser())
            if _looks_like_path(document)
            else validate_text(document, "<mcp>", base_dir=self.workdir)
        )
        return report.to_dict()

    def _workflow(self, workflow: str) -> tuple[Any, bytes, Path | None]:
        from osop.format.api import load_workflow
        from osop.format.validate import validate_text
        from osop.format.workflow import Workflow

        if _looks_like_path(workflow):
            path = Path(workflow).expanduser().resolve()
            return load_workflow(path), path.read_bytes(), path
        report = validate_text(workflow, "<mcp>", kind="workflow", base_dir=self.workdir)
        if not report.valid:
            raise ValidationError(report.issues, file="<mcp>")
        assert isinstance(report.model, Workflow)
        return report.model, workflow.encode("utf-8"), None

    def render(self, workflow: str, format: Literal["mermaid", "story", "svg"] = "mermaid") -> str:
        """Draw a workflow: Mermaid (for Markdown), a plain-language story, or SVG."""
        from osop.render.mermaid import render_mermaid
        from osop.render.story import render_story
        from osop.render.svg import render_svg

        wf, _, _ = self._workflow(workflow)
        renderers: dict[str, Callable[[Any], str]] = {
            "mermaid": render_mermaid,
            "story": render_story,
            "svg": render_svg,
        }
        if format not in renderers:
            raise OsopError(f"unknown format {format!r}; use mermaid, story or svg")
        return renderers[format](wf)

    # -- runs -------------------------------------------------------------------------

    async def run(
        self,
        workflow: str,
        mode: Literal["live", "dry_run", "simulated"] = "simulated",
        inputs: dict[str, Any] | None = None,
        answers: dict[str, dict[str, Any]] | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Run a workflow and return how it ended (paused runs say what they wait for)."""
        from osop.engine import RunOptions, start_run

        if mode not in ("live", "dry_run", "simulated"):
            raise OsopError(f"unknown mode {mode!r}; use live, dry_run or simulated")
        wf, source, path = self._workflow(workflow)
        options = RunOptions(
            mode=mode,
            inputs=dict(inputs or {}),
            answers={k: dict(v) for k, v in (answers or {}).items()},
            workdir=path.parent if path is not None else self.workdir,
            seed=seed,
            trigger={"type": "api", "actor": "mcp"},
        )
        result = await start_run(
            wf, source=source, workflow_path=path, store=self.store, options=options
        )
        return self._result(result)

    @staticmethod
    def _result(result: Any) -> dict[str, Any]:
        return {
            "run_id": result.run_id,
            "status": "PAUSED" if result.paused else result.status,
            "exit_code": result.exit_code,
            "waiting": result.waiting,
            "record": result.record.to_dict(),
        }

    def runs(self) -> dict[str, Any]:
        """Every run in the store with its status (PAUSED and INTERRUPTED can be resumed)."""
        from osop.engine import describe_run

        return {"runs": [describe_run(h) for h in self.store.iter_runs()]}

    def status(self, run_id: str) -> dict[str, Any]:
        """The current record of a run (also while it is paused or after a crash)."""
        from osop.engine import describe_run, materialise_record

        handle = self.store.get(run_id)
        return {**describe_run(handle), "record": materialise_record(handle).to_dict()}

    def approve(
        self,
        run_id: str,
        node_id: str,
        decision: str = "approved",
        notes: str | None = None,
        replace: bool = False,
    ) -> dict[str, Any]:
        """Answer a waiting human node or approval; then call resume to continue.

        The decision must be one the node allows (approved/rejected, or the node's
        options); a second, different answer needs replace=true.
        """
        from osop.engine.answers import approve

        answer = approve(
            run_id, node_id, decision, notes=notes, actor="mcp", replace=replace, store=self.store
        )
        return {"run_id": run_id, "node_id": node_id, "recorded": answer}

    def signal(self, run_id: str, name: str, data: Any = None) -> dict[str, Any]:
        """Deliver an event or signal to a run; then call resume to continue."""
        from osop.engine import deliver_event

        deliver_event(self.store, run_id, name, data)
        return {"run_id": run_id, "delivered": name}

    async def resume(self, run_id: str) -> dict[str, Any]:
        """Continue a paused or interrupted run from where it stopped."""
        from osop.engine import resume_run

        return self._result(await resume_run(run_id, store=self.store))

    def cancel(self, run_id: str) -> dict[str, Any]:
        """Cancel a run; its record ends CANCELLED."""
        from osop.engine import cancel_run

        return {"run_id": run_id, "status": cancel_run(self.store, run_id)}

    def report(self, run_id: str, format: Literal["text", "html"] = "text") -> str:
        """The execution report of a run (text, or one self-contained HTML page)."""
        from osop.engine import load_run
        from osop.render.report import render_report

        workflow, record = load_run(self.store, run_id)
        return render_report(workflow, record, format)

    # -- analysis ---------------------------------------------------------------------

    def diff(self, first: str, second: str, modes: list[str] | None = None) -> dict[str, Any]:
        """Compare two workflows, two records, or a workflow with records (should vs did).

        Each of first/second is a file path, a folder of records, or a run id (or
        unique prefix) from the run store. Against a workflow only its own records
        of the given modes (default ["live"]; also "simulated", "dry_run", "all") count.
        """
        from osop.analysis.compare import compare_paths
        from osop.analysis.selection import parse_modes

        return compare_paths(
            first, second, modes=parse_modes(modes or ()), store_root=self.store.root
        ).to_dict()

    def stats(self, paths: list[str], modes: list[str] | None = None) -> dict[str, Any]:
        """WorkflowStats over records: files, folders of .osoplog files, or run ids.

        Only live records are used unless modes says otherwise ("simulated",
        "dry_run", "all"); the result says which records were used.
        """
        from osop.analysis.selection import parse_modes, select_records
        from osop.analysis.stats import compute_stats

        selection = select_records(
            paths, modes=parse_modes(modes or ()), store_root=self.store.root
        )
        return {
            "selection": selection.to_dict(),
            "workflows": [s.to_dict() for s in compute_stats(selection.runs)],
        }

    # -- sharing ----------------------------------------------------------------------

    def hub_search(
        self,
        query: str,
        node_type: str | None = None,
        tag: str | None = None,
        min_level: int | None = None,
        hub_url: str | None = None,
    ) -> dict[str, Any]:
        """Search a SOP Hub for validated processes before writing one (best evidence first)."""
        from osop.hub.client import HubClient

        with HubClient.from_config(hub_url) as client:
            results = client.search(query, node_type=node_type, tag=tag, level=min_level)
        return {"hub": client.url, "results": results}

    def hub_pull(self, package: str, hub_url: str | None = None) -> dict[str, Any]:
        """Download OWNER/NAME[@VERSION] from a SOP Hub into the work folder (hashes checked)."""
        from osop.hub.client import HubClient, parse_spec

        owner, name, _ = parse_spec(package)
        dest = self.workdir / "hub" / owner / name
        with HubClient.from_config(hub_url) as client:
            result = client.pull(package, dest, force=True)
        return {
            "package": result.package,
            "version": result.version,
            "main": str(result.main),
            "files": [str(p) for p in result.files],
            "content_hash": result.content_hash,
        }

    def discover(self, url: str, fetch: str | None = None) -> dict[str, Any]:
        """List the operations a site publishes at URL/.well-known/sop (or URL/.sop); with
        `fetch` (an operation's id, title or number) download that workflow into the work folder."""
        from osop.discovery import discover, fetch_operation

        if fetch is None:
            return discover(url).to_dict()
        op, path = fetch_operation(url, fetch, self.workdir / "discovered", force=True)
        return {"operation": op.to_dict(), "path": str(path)}


def _as_tool(method: Callable[..., Any], tool_error: type[Exception]) -> Callable[..., Any]:
    """Library errors become tool errors that carry their message to the agent."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except OsopError as exc:
                raise tool_error(str(exc)) from exc

        return run_async

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except OsopError as exc:
            raise tool_error(str(exc)) from exc

    return run


def build_server(store_root: Path | None = None, workdir: Path | None = None) -> Any:
    """The MCP server with every OSOP tool registered (needs the ``mcp`` extra)."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:
        raise OsopError(INSTALL_HINT) from exc

    tools = OsopTools(store_root, workdir)
    server = MCPServer(
        name="osop",
        version=__version__,
        instructions=(
            "OSOP runs processes written as .osop workflows and records every run. "
            "Validate before running; rehearse with mode=simulated; a run that pauses "
            "(status PAUSED) waits for osop_approve or osop_signal, then osop_resume."
        ),
    )
    for name, method in (
        ("osop_validate", tools.validate),
        ("osop_render", tools.render),
        ("osop_run", tools.run),
        ("osop_runs", tools.runs),
        ("osop_status", tools.status),
        ("osop_approve", tools.approve),
        ("osop_signal", tools.signal),
        ("osop_resume", tools.resume),
        ("osop_cancel", tools.cancel),
        ("osop_report", tools.report),
        ("osop_diff", tools.diff),
        ("osop_stats", tools.stats),
        ("osop_hub_search", tools.hub_search),
        ("osop_hub_pull", tools.hub_pull),
        ("osop_discover", tools.discover),
    ):
        server.add_tool(_as_tool(method, ToolError), name=name, description=method.__doc__)
    return server
