"""The MCP server: OSOP for AI agents, as a thin layer over the library.

An agent validates a process, reads it written for an agent, runs it
(rehearsed, dry, live — or *guided*: the engine hands out each step, the agent
carries it out and reports it with ``osop_log``), answers the humans'
questions it is allowed to answer, reads the record and the report — through
the same functions the CLI calls (binding §5, §11).  Start it with
``osop mcp`` (stdio).

Tool results are plain JSON; library errors become a tool error whose text says
what is wrong (the MCP SDK marks the result ``isError``), never a traceback.
Workflows under the configured roots are offered as resources, and the prompt
``follow_sop`` starts a guided run of one.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field

from osop import __version__
from osop.errors import OsopError, ValidationError

__all__ = ["INSTALL_HINT", "OsopTools", "build_server", "default_home"]

INSTALL_HINT = "the MCP server needs the `mcp` package: pip install 'osop-toolkit[mcp]'"

T = TypeVar("T")

#: Suffixes of the documents offered as resources.
_DOCUMENT_SUFFIXES = (".osop", ".osop.yaml", ".osop.yml", ".osop.json", ".sop")
#: At most this many resources (a root that is a whole disk must not hang the server).
MAX_RESOURCES = 1000

WorkflowArg = Annotated[
    str,
    Field(description="The workflow: a path to a .osop/.osop.yaml file, or its YAML/JSON text."),
]
RunIdArg = Annotated[
    str, Field(description="A run id from osop_run (or a unique prefix of it, like git's).")
]
NodeIdArg = Annotated[str, Field(description="The id of a node (step) of the workflow.")]
ModesArg = Annotated[
    list[str] | None,
    Field(
        description='Which records count: "live" (the default), "simulated", "dry_run" or "all".'
    ),
]
RecordsArg = Annotated[
    list[str],
    Field(description="Records: .osoplog file paths, folders of them, or run ids from the store."),
]


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and len(text) < 4096 and Path(text).expanduser().is_file()


def default_home() -> Path:
    """Where the server keeps its runs: ``$OSOP_HOME``, else the user's data folder.

    Never the working directory: a desktop client starts servers in ``/``.
    """
    home = os.environ.get("OSOP_HOME")
    if home:
        return Path(home).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "osop"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "osop"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "osop"


class OsopTools:
    """The tools, as plain methods (tested directly and through an MCP client)."""

    def __init__(
        self,
        store_root: Path | None = None,
        workdir: Path | None = None,
        roots: list[Path] | None = None,
    ) -> None:
        from osop.engine import RunStore

        self.home = (store_root or default_home()).expanduser().resolve()
        self.workdir = (workdir or self.home / "work").expanduser().resolve()
        self.store = RunStore(self.home)
        self.roots = [r.expanduser().resolve() for r in roots or ()]

    # -- documents ------------------------------------------------------------------

    def validate(
        self,
        workflow: Annotated[
            str | None,
            Field(
                description="The document: a file path, or YAML/JSON text (.osop, .osoplog, .sop)."
            ),
        ] = None,
        document: Annotated[
            str | None, Field(description="Older name of `workflow` (give one of the two).")
        ] = None,
    ) -> dict[str, Any]:
        """Check a workflow (or a record, or a .sop collection) against the OSOP spec before
        running it. Returns `valid`, the conformance `level`, and every issue with its rule id,
        line, column and JSON pointer; fix the errors (severity "error") before osop_run."""
        from osop.format.validate import validate_path, validate_text

        text = workflow if workflow is not None else document
        if text is None:
            raise OsopError("give `workflow`: a file path or the document's YAML/JSON text")
        report = (
            validate_path(Path(text).expanduser())
            if _looks_like_path(text)
            else validate_text(text, "<mcp>", base_dir=self.workdir)
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

    def render(
        self,
        workflow: WorkflowArg,
        format: Annotated[
            Literal["story", "graph", "agent", "mermaid", "svg"],
            Field(
                description="agent: the SOP written for you (plan: read, do, verify, report); "
                "story: plain language for people; graph: nodes and edges as JSON; "
                "mermaid: a Mermaid flowchart; svg: a drawing."
            ),
        ] = "agent",
    ) -> str:
        """Read a workflow in the form you need. `agent` is the plan written for an AI agent
        about to carry the process out: each step with what to read, do, verify and report,
        and how to drive it as a guided run. Read-only."""
        from osop.render.agent import render_agent
        from osop.render.mermaid import render_mermaid
        from osop.render.story import render_story
        from osop.render.svg import render_svg

        wf, _, _ = self._workflow(workflow)
        renderers: dict[str, Callable[[Any], str]] = {
            "agent": render_agent,
            "graph": _graph_json,
            "mermaid": render_mermaid,
            "story": render_story,
            "svg": render_svg,
        }
        if format not in renderers:
            raise OsopError(f"unknown format {format!r}; use {', '.join(renderers)}")
        return renderers[format](wf)

    # -- runs -------------------------------------------------------------------------

    async def run(
        self,
        workflow: WorkflowArg,
        mode: Annotated[
            Literal["live", "dry_run", "simulated"],
            Field(
                description="simulated rehearses (nothing is executed), dry_run shows the path, "
                "live executes (or, with guided, is carried out by you)."
            ),
        ] = "simulated",
        inputs: Annotated[
            dict[str, Any] | None, Field(description="The workflow's inputs (name → value).")
        ] = None,
        guided: Annotated[
            bool,
            Field(
                description="A guided run: the engine hands out each step and you carry it "
                "out with your own tools, then report it with osop_log. Returns the steps "
                "ready now."
            ),
        ] = False,
        agent: Annotated[
            str | None,
            Field(description="Your name for the record's runtime.agent (guided runs)."),
        ] = None,
        answers: Annotated[
            dict[str, dict[str, Any]] | None,
            Field(description="Answers given up front: node id → {decision, notes}."),
        ] = None,
        seed: Annotated[int | None, Field(description="Seed of weighted edges (recorded).")] = None,
    ) -> dict[str, Any]:
        """Start a workflow run, recorded in the run store. Without guided, the engine executes
        every step (mode live runs real commands) and returns how the run ended; a PAUSED run
        waits for osop_approve / osop_signal, then osop_resume. With guided=true the engine
        decides and you act: it returns the steps handed out to you (what to read, do, verify,
        report); carry each out and report it with osop_log until the status is COMPLETED."""
        from osop.engine import RunOptions, start_run

        if mode not in ("live", "dry_run", "simulated"):
            raise OsopError(f"unknown mode {mode!r}; use live, dry_run or simulated")
        wf, source, path = self._workflow(workflow)
        options = RunOptions(
            mode=mode,
            inputs=dict(inputs or {}),
            answers={k: dict(v) for k, v in (answers or {}).items()},
            workdir=path.parent if path is not None else self._workdir(),
            seed=seed,
            trigger={"type": "api", "actor": "mcp"},
            agent={"agent": agent or "mcp-client"} if guided else None,
        )
        if guided:
            from osop.engine.guided import start_guided

            view = await start_guided(
                wf, source=source, workflow_path=path, store=self.store, options=options
            )
            return view.to_dict()
        result = await start_run(
            wf, source=source, workflow_path=path, store=self.store, options=options
        )
        return self._result(result)

    def _workdir(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self.workdir

    async def step(
        self,
        run_id: Annotated[
            str | None,
            Field(description="A guided run: list its ready steps, or execute node_id in it."),
        ] = None,
        node_id: Annotated[
            str | None,
            Field(description="The step to execute (with run_id and execute=true, or workflow)."),
        ] = None,
        execute: Annotated[
            bool,
            Field(description="With run_id and node_id: the engine runs that ready step itself."),
        ] = False,
        workflow: Annotated[
            str | None,
            Field(description="Binding §11 form: run node_id of this workflow alone, now."),
        ] = None,
        inputs: Annotated[
            dict[str, Any] | None,
            Field(description="Inputs of the standalone node (with workflow)."),
        ] = None,
        mode: Annotated[
            Literal["live", "simulated"],
            Field(description="Standalone node only: live executes, simulated rehearses."),
        ] = "live",
    ) -> dict[str, Any]:
        """One step of the loop. With run_id: the steps the guided run hands out now (each
        says what to read, do, verify and report, its attempt and time left); with run_id,
        node_id and execute=true the engine executes that ready step with its executor and
        returns what is ready next. With workflow and node_id: execute that single node on
        its own with its executor and return its record entry and outputs."""
        from osop.engine.guided import execute_step, guided_steps

        if run_id is not None and workflow is not None:
            raise OsopError("give run_id (a guided run) or workflow (one node alone), not both")
        if run_id is not None:
            if execute:
                if node_id is None:
                    raise OsopError("execute needs the node_id of a ready step")
                return (await execute_step(run_id, node_id, store=self.store)).to_dict()
            if node_id is not None:
                raise OsopError(
                    f"to have the engine run {node_id!r} give execute=true; to report what you "
                    "did, call osop_log"
                )
            return (await guided_steps(run_id, store=self.store)).to_dict()
        if workflow is None or node_id is None:
            raise OsopError("give run_id (a guided run), or workflow and node_id (one node alone)")
        return await self._standalone(workflow, node_id, inputs or {}, mode)

    async def _standalone(
        self, workflow: str, node_id: str, inputs: dict[str, Any], mode: str
    ) -> dict[str, Any]:
        from osop.engine import RunOptions, start_run
        from osop.format.workflow import workflow_from_dict

        wf, _, path = self._workflow(workflow)
        if not wf.has_node(node_id):
            known = ", ".join(n.id for n in wf.nodes)
            raise OsopError(f"workflow {wf.id!r} has no node {node_id!r} (nodes: {known})")
        node = wf.node(node_id)
        one = workflow_from_dict(
            {
                "osop_version": wf.osop_version,
                "id": f"{wf.id}-{node_id}".lower().replace("_", "-")[:128],
                "name": f"{node.label} (one step of {wf.label})",
                "nodes": [dict(node.raw)],
                "edges": [],
                **({"variables": wf.variables} if wf.variables else {}),
            }
        )
        options = RunOptions(
            mode=mode,  # type: ignore[arg-type]
            inputs=dict(inputs),
            workdir=path.parent if path is not None else self._workdir(),
            trigger={"type": "api", "actor": "mcp"},
        )
        result = await start_run(one, store=self.store, options=options)
        records = [r.to_dict() for r in result.record.node_records if r.node_id == node_id]
        return {
            "run_id": result.run_id,
            "status": "PAUSED" if result.paused else result.status,
            "waiting": result.waiting,
            "record_entry": records[-1] if records else None,
            "attempts": records,
            "outputs": result.outputs.get(node_id, {}),
        }

    async def log(
        self,
        run_id: RunIdArg,
        node_id: NodeIdArg,
        status: Annotated[
            Literal["COMPLETED", "FAILED"],
            Field(description="COMPLETED when the step did what it says, FAILED when not."),
        ],
        outputs: Annotated[
            dict[str, Any] | None,
            Field(
                description="The step's outputs (name → value): every output the step "
                "declares as required, with the declared types. Conditions read them."
            ),
        ] = None,
        error: Annotated[
            dict[str, Any] | None,
            Field(description="For FAILED: {code, message} saying what went wrong."),
        ] = None,
        tool_calls: Annotated[
            dict[str, int] | None,
            Field(description="Tools you used for the step and how often: {tool name: calls}."),
        ] = None,
        ai_metadata: Annotated[
            dict[str, Any] | None,
            Field(description="{model, prompt_tokens, completion_tokens, confidence} if known."),
        ] = None,
        human_metadata: Annotated[
            dict[str, Any] | None,
            Field(description="For a person's step: {actor, decision, notes}."),
        ] = None,
        attempt: Annotated[
            int | None,
            Field(description="The attempt you report (as handed out); refused if it is not."),
        ] = None,
    ) -> dict[str, Any]:
        """Report a step of a guided run that you carried out; returns what is ready next.
        The report is checked first and refused (changing nothing) when the step is not handed
        out now, a required output is missing or of the wrong type, or the attempt was already
        reported. A FAILED step is handed out again while its retry policy allows."""
        from osop.engine.guided import report_step

        report: dict[str, Any] = {"status": status, "outputs": outputs or {}}
        for key, value in (
            ("error", error),
            ("tool_calls", tool_calls),
            ("ai_metadata", ai_metadata),
            ("human_metadata", human_metadata),
            ("attempt", attempt),
        ):
            if value is not None:
                report[key] = value
        return (await report_step(run_id, node_id, report, store=self.store)).to_dict()

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
        """Every run in the store with its status (PAUSED and INTERRUPTED can be resumed).
        Read-only."""
        from osop.engine import describe_run

        return {"runs": [describe_run(h) for h in self.store.iter_runs()]}

    def status(self, run_id: RunIdArg) -> dict[str, Any]:
        """Where a run stands: its status and current record (also while paused or after a
        crash); for a guided run also the steps handed out now. Read-only."""
        from osop.engine import describe_run, load_run_state, materialise_record
        from osop.engine.guided import GuidedView, ready_steps
        from osop.engine.runner import run_workflow

        handle = self.store.get(run_id)
        out = {**describe_run(handle), "record": materialise_record(handle).to_dict()}
        if not handle.imported:
            state = load_run_state(handle)
            if state.meta.get("guided") and state.finished is None:
                view = GuidedView(handle.run_id, "RUNNING", state.paused is not None)
                view.ready = ready_steps(run_workflow(handle), state)
                out["ready"] = view.ready
        return out

    def approve(
        self,
        run_id: RunIdArg,
        node_id: NodeIdArg,
        decision: Annotated[
            str, Field(description="approved or rejected, or one of the node's own options.")
        ] = "approved",
        notes: Annotated[str | None, Field(description="Why, in words.")] = None,
        replace: Annotated[
            bool, Field(description="Replace a different answer already given.")
        ] = False,
    ) -> dict[str, Any]:
        """Answer a waiting human node or approval; then call osop_resume (or, for a guided
        run, osop_step) to continue. The decision must be one the node allows
        (approved/rejected, or the node's options); a second, different answer needs
        replace=true."""
        from osop.engine.answers import approve

        answer = approve(
            run_id, node_id, decision, notes=notes, actor="mcp", replace=replace, store=self.store
        )
        return {"run_id": run_id, "node_id": node_id, "recorded": answer}

    def signal(
        self,
        run_id: RunIdArg,
        name: Annotated[str, Field(description="The event or signal's name.")],
        data: Annotated[Any, Field(description="Its payload (any JSON).")] = None,
    ) -> dict[str, Any]:
        """Deliver an event or signal to a run; then call osop_resume to continue."""
        from osop.engine import deliver_event

        deliver_event(self.store, run_id, name, data)
        return {"run_id": run_id, "delivered": name}

    async def resume(self, run_id: RunIdArg) -> dict[str, Any]:
        """Continue a paused or interrupted run from where it stopped."""
        from osop.engine import resume_run

        return self._result(await resume_run(run_id, store=self.store))

    def cancel(self, run_id: RunIdArg) -> dict[str, Any]:
        """Cancel a run; its record ends CANCELLED. Cannot be undone."""
        from osop.engine import cancel_run

        return {"run_id": run_id, "status": cancel_run(self.store, run_id)}

    def report(
        self,
        run_id: RunIdArg,
        format: Annotated[
            Literal["text", "html"], Field(description="text (80 columns) or one HTML page.")
        ] = "text",
    ) -> str:
        """The execution report of a run: header, summary, timeline, cost. Read-only."""
        from osop.engine import load_run
        from osop.render.report import render_report

        workflow, record = load_run(self.store, run_id)
        return render_report(workflow, record, format)

    # -- analysis ---------------------------------------------------------------------

    def diff(
        self,
        first: Annotated[str, Field(description="A workflow or record path, folder or run id.")],
        second: Annotated[str, Field(description="The other side (same forms).")],
        modes: ModesArg = None,
    ) -> dict[str, Any]:
        """Compare two workflows, two records, or a workflow with records (should vs did:
        fitness 1.0 means the run followed the workflow). Each of first/second is a file path,
        a folder of records, or a run id (or unique prefix) from the run store. Against a
        workflow only its own records of the given modes (default ["live"]) count. Read-only."""
        from osop.analysis.compare import compare_paths
        from osop.analysis.selection import parse_modes

        return compare_paths(
            first, second, modes=parse_modes(modes or ()), store_root=self.store.root
        ).to_dict()

    def stats(self, paths: RecordsArg, modes: ModesArg = None) -> dict[str, Any]:
        """WorkflowStats (binding §7.1) over records: runs, success rate, durations, failure
        rates, common errors, cost. Only live records are used unless modes says otherwise;
        the result says which records were used. Read-only."""
        from osop.analysis.selection import parse_modes, select_records
        from osop.analysis.stats import compute_stats

        selection = select_records(
            paths, modes=parse_modes(modes or ()), store_root=self.store.root
        )
        return {
            "selection": selection.to_dict(),
            "workflows": [s.to_dict() for s in compute_stats(selection.runs)],
        }

    def synthesize(
        self,
        records: RecordsArg,
        base: Annotated[
            str | None,
            Field(
                description="The workflow to improve (path or text); without it the "
                "process is inferred from the records."
            ),
        ] = None,
        goal: Annotated[
            str | None, Field(description="What to optimise for, in words (recorded).")
        ] = None,
        modes: ModesArg = None,
    ) -> dict[str, Any]:
        """Propose a better workflow from execution records (deterministic, binding §7):
        retries where failures are transient, timeouts, parallel steps, bypasses for slow
        low-risk approvals, pre-checks, approval gates before dangerous commands. Returns the
        proposed workflow (YAML, validated) and the iteration record with the evidence for
        every change. Writes nothing."""
        from osop.analysis.definitions import definitions_beside
        from osop.analysis.selection import parse_modes, select_records
        from osop.analysis.synthesize import dump_workflow, synthesize

        selection = select_records(
            records, modes=parse_modes(modes or ()), store_root=self.store.root
        )
        if not selection.runs:
            raise OsopError(f"no records to learn from ({selection.describe()})")
        workflow = self._workflow(base)[0] if base is not None else None
        definitions = definitions_beside(selection.records) if workflow is None else None
        result = synthesize(selection.runs, workflow, goal, definitions)
        result.selection = selection.to_dict()
        return {
            "workflow": dump_workflow(result.workflow),
            "iteration": result.iteration_record(),
            "warnings": list(result.warnings),
        }

    def export(
        self,
        records: RecordsArg,
        format: Annotated[
            Literal["xes", "ocel"],
            Field(description="xes (IEEE XES event log) or ocel (OCEL 2.0 JSON)."),
        ] = "xes",
        modes: ModesArg = None,
    ) -> dict[str, Any]:
        """Export records for process-mining tools (PM4Py, ProM, Celonis): returns the XES
        or OCEL 2.0 document as text. Writes nothing."""
        import io

        from osop.analysis.export_ocel import write_ocel
        from osop.analysis.export_xes import write_xes
        from osop.analysis.selection import parse_modes, select_records

        selection = select_records(
            records, modes=parse_modes(modes or ()), store_root=self.store.root
        )
        stream = io.StringIO()
        if format == "xes":
            count = write_xes(selection.runs, stream)
        elif format == "ocel":
            count = write_ocel(selection.runs, stream)
        else:
            raise OsopError(f"unknown format {format!r}; use xes or ocel")
        return {"format": format, "count": count, "selection": selection.to_dict(),
                "document": stream.getvalue()}  # fmt: skip

    # -- sharing ----------------------------------------------------------------------

    def hub_search(
        self,
        query: Annotated[str, Field(description="Words describing the process you need.")],
        node_type: Annotated[
            str | None, Field(description="Only processes with this node type.")
        ] = None,
        tag: Annotated[str | None, Field(description="Only processes with this tag.")] = None,
        min_level: Annotated[int | None, Field(description="Minimum conformance level.")] = None,
        hub_url: Annotated[str | None, Field(description="The hub (default: configured).")] = None,
    ) -> dict[str, Any]:
        """Search a SOP Hub for validated processes before writing one (best evidence first).
        Read-only."""
        from osop.hub.client import HubClient

        with HubClient.from_config(hub_url) as client:
            results = client.search(query, node_type=node_type, tag=tag, level=min_level)
        return {"hub": client.url, "results": results}

    def hub_pull(
        self,
        package: Annotated[str, Field(description="OWNER/NAME[@VERSION] on the hub.")],
        hub_url: Annotated[str | None, Field(description="The hub (default: configured).")] = None,
    ) -> dict[str, Any]:
        """Download OWNER/NAME[@VERSION] from a SOP Hub into the work folder (hashes checked)."""
        from osop.hub.client import HubClient, parse_spec

        owner, name, _ = parse_spec(package)
        dest = self._workdir() / "hub" / owner / name
        with HubClient.from_config(hub_url) as client:
            result = client.pull(package, dest, force=True)
        return {
            "package": result.package,
            "version": result.version,
            "main": str(result.main),
            "files": [str(p) for p in result.files],
            "content_hash": result.content_hash,
        }

    def discover(
        self,
        url: Annotated[str, Field(description="A site's address.")],
        fetch: Annotated[
            str | None, Field(description="An operation's id, title or number to download.")
        ] = None,
    ) -> dict[str, Any]:
        """List the operations a site publishes at URL/.well-known/sop (or URL/.sop); with
        `fetch` (an operation's id, title or number) download that workflow into the work
        folder."""
        from osop.discovery import discover, fetch_operation

        if fetch is None:
            return discover(url).to_dict()
        op, path = fetch_operation(url, fetch, self._workdir() / "discovered", force=True)
        return {"operation": op.to_dict(), "path": str(path)}

    # -- resources and the prompt ------------------------------------------------------

    def documents(self) -> Iterator[Path]:
        """The .osop/.sop files under the roots (hidden folders and run stores skipped)."""
        seen = 0
        for root in self.roots:
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
                for name in sorted(files):
                    if name.endswith(_DOCUMENT_SUFFIXES):
                        yield Path(folder) / name
                        seen += 1
                        if seen >= MAX_RESOURCES:
                            return

    async def follow_sop(
        self,
        workflow: Annotated[
            str, Field(description="The SOP: a .osop path (or a resource's file:// URI).")
        ],
        inputs: Annotated[
            str | None, Field(description="The run's inputs as a JSON object, if it has any.")
        ] = None,
    ) -> str:
        """Follow this SOP: starts a guided run of the workflow and tells you how to carry it
        out, step by step, with osop_log."""
        from osop.render.agent import render_agent

        path = workflow.removeprefix("file://")
        given: dict[str, Any] = {}
        if inputs:
            try:
                given = json.loads(inputs)
            except ValueError as exc:
                raise OsopError(f"inputs is not a JSON object: {exc}") from exc
            if not isinstance(given, dict):
                raise OsopError("inputs must be a JSON object (name → value)")
        wf, _, _ = self._workflow(path)
        view = await self.run(path, mode="live", inputs=given, guided=True, agent="mcp-client")
        return "\n".join(
            [
                f"Follow the SOP below. A guided run has started: run_id {view['run_id']}.",
                "The engine decides which step is next; you carry out each ready step with "
                "your own tools and report it with osop_log (status, outputs, tool_calls). "
                "Call osop_step with the run_id to see what is ready; stop when the status is "
                "COMPLETED. Ask a person where a step needs one.",
                "",
                "Ready now:",
                json.dumps(view["ready"], ensure_ascii=False, indent=1, default=str),
                "",
                render_agent(wf),
            ]
        )


def _graph_json(workflow: Any) -> str:
    """The graph as JSON: nodes (id, type, name), edges (from, to, mode, when), entries."""
    targets = {e.target for e in workflow.edges}
    sources = {e.source for e in workflow.edges}
    graph = {
        "id": workflow.id,
        "name": workflow.label,
        "nodes": [{"id": n.id, "type": n.type, "name": n.label} for n in workflow.nodes],
        "edges": [
            {
                "from": e.source,
                "to": e.target,
                "mode": e.mode,
                **({"when": e.when} if e.when else {}),
            }
            for e in workflow.edges
        ],
        "entry_nodes": [n.id for n in workflow.nodes if n.id not in targets],
        "terminal_nodes": [n.id for n in workflow.nodes if n.id not in sources],
    }
    return json.dumps(graph, ensure_ascii=False, indent=1)


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


#: (read-only, destructive, idempotent, open world) per tool: what a client may ask its user.
_HINTS: dict[str, tuple[bool, bool, bool, bool]] = {
    "osop_validate": (True, False, True, False),
    "osop_render": (True, False, True, False),
    "osop_run": (False, True, False, True),
    "osop_step": (False, True, False, True),
    "osop_log": (False, False, False, False),
    "osop_runs": (True, False, True, False),
    "osop_status": (True, False, True, False),
    "osop_approve": (False, False, False, False),
    "osop_signal": (False, False, False, False),
    "osop_resume": (False, True, False, True),
    "osop_cancel": (False, True, True, False),
    "osop_report": (True, False, True, False),
    "osop_diff": (True, False, True, False),
    "osop_stats": (True, False, True, False),
    "osop_synthesize": (True, False, True, False),
    "osop_export": (True, False, True, False),
    "osop_hub_search": (True, False, True, True),
    "osop_hub_pull": (False, False, True, True),
    "osop_discover": (False, False, True, True),
}


def build_server(
    store_root: Path | None = None,
    workdir: Path | None = None,
    roots: list[Path] | None = None,
) -> Any:
    """The MCP server with every OSOP tool, the workflows under ``roots`` as resources and
    the ``follow_sop`` prompt (needs the ``mcp`` extra)."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
        from mcp.server.mcpserver.prompts.base import Prompt
        from mcp.server.mcpserver.resources.types import FileResource
        from mcp_types import ToolAnnotations
    except ImportError as exc:
        raise OsopError(INSTALL_HINT) from exc

    tools = OsopTools(store_root, workdir, roots)
    server = MCPServer(
        name="osop",
        version=__version__,
        instructions=(
            "OSOP runs processes written as .osop workflows and records every run. "
            "To carry out a process yourself: osop_render format=agent to read it, "
            "osop_run guided=true to start, then for each ready step do it and report it "
            "with osop_log, until the status is COMPLETED (osop_step shows what is ready). "
            "Validate before running; rehearse with mode=simulated; a run that pauses "
            "(status PAUSED) waits for osop_approve or osop_signal."
        ),
    )
    for name, method in (
        ("osop_validate", tools.validate),
        ("osop_render", tools.render),
        ("osop_run", tools.run),
        ("osop_step", tools.step),
        ("osop_log", tools.log),
        ("osop_runs", tools.runs),
        ("osop_status", tools.status),
        ("osop_approve", tools.approve),
        ("osop_signal", tools.signal),
        ("osop_resume", tools.resume),
        ("osop_cancel", tools.cancel),
        ("osop_report", tools.report),
        ("osop_diff", tools.diff),
        ("osop_stats", tools.stats),
        ("osop_synthesize", tools.synthesize),
        ("osop_export", tools.export),
        ("osop_hub_search", tools.hub_search),
        ("osop_hub_pull", tools.hub_pull),
        ("osop_discover", tools.discover),
    ):
        read_only, destructive, idempotent, open_world = _HINTS[name]
        server.add_tool(
            _as_tool(method, ToolError),
            name=name,
            description=inspect.cleandoc(method.__doc__ or ""),
            annotations=ToolAnnotations(
                read_only_hint=read_only,
                destructive_hint=destructive,
                idempotent_hint=idempotent,
                open_world_hint=open_world,
            ),
        )
    for path in tools.documents():
        server.add_resource(
            FileResource(
                uri=path.as_uri(),
                path=path,
                name=str(path.relative_to(_root_of(path, tools.roots))),
                description="An OSOP collection (.sop)"
                if path.name.endswith(".sop")
                else "An OSOP workflow: read it, or follow it with the follow_sop prompt",
                mime_type="application/yaml",
                encoding="utf-8",
            )
        )
    server.add_prompt(
        Prompt.from_function(
            _as_tool(tools.follow_sop, ToolError),
            name="follow_sop",
            title="Follow this SOP",
            description=inspect.cleandoc(tools.follow_sop.__doc__ or ""),
        )
    )
    return server


def _root_of(path: Path, roots: list[Path]) -> Path:
    for root in roots:
        if path.is_relative_to(root):
            return root
    return path.parent
