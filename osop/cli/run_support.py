"""What the run-related commands share: the store option, progress output, the ending."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click

from osop.cli.common import store_option
from osop.engine import EXIT_INVALID, RunResult, RunStore
from osop.engine.store import default_store_root
from osop.record.writer import atomic_write_text, write_record

__all__ = [
    "LiveView",
    "finish",
    "open_store",
    "parse_json_option",
    "progress_sink",
    "report_option",
    "run_engine",
    "session_options",
    "store_option",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def open_store(store_dir: Path | None) -> RunStore:
    return RunStore(store_dir if store_dir is not None else default_store_root())


def parse_json_option(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.UsageError(f"{what} is not valid JSON: {exc}") from exc


_SYMBOLS = {
    "COMPLETED": ("✓", "32"),
    "FAILED": ("✗", "31"),
    "TIMED_OUT": ("⏱", "33"),
    "CANCELLED": ("✗", "90"),
    "SKIPPED": ("-", "90"),
    "RUNNING": ("▶", "33"),
    "WAITING": ("⏸", "34"),
}


class LiveView:
    """A redrawn block on a terminal: what runs, waits and finished, with elapsed times."""

    #: Finished nodes shown individually (older ones are only counted).
    RECENT = 8

    def __init__(self, stream: IO[str], color: bool = True, tick: float | None = None) -> None:
        self.stream = stream
        self.color = color
        self.started = time.monotonic()
        self.nodes: dict[str, dict[str, Any]] = {}
        self.done_order: list[str] = []
        self.lines = 0
        self.last_draw = 0.0
        self.title = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._tick = tick

    def _tick_loop(self, every: float) -> None:
        """Redraw now and then so elapsed times move while a long node runs."""
        while not self._stop.wait(every):
            with self._lock:
                prompting = any(
                    i["status"] == "RUNNING" and i.get("type") == "human"
                    for i in self.nodes.values()
                )
                if not prompting:  # never scribble over a question asked on the terminal
                    self.draw()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._handle(event)
        if self._tick and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick_loop, args=(self._tick,), daemon=True)
            self._ticker.start()
        if event.get("event") in ("run_finished", "run_paused"):
            self._stop.set()

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        node = event.get("node")
        now = time.monotonic()
        if kind in ("run_started", "run_resumed"):
            # Child runs (spawn, sub-workflows) report here too; the title is the parent's.
            self.title = self.title or f"run {event.get('run_id', '')}"
        elif node is not None and kind == "node_started":
            self.nodes[node] = {
                "status": "RUNNING",
                "since": now,
                "attempt": event.get("attempt"),
                "type": event.get("node_type"),
            }
            if event.get("node_type") == "human":
                # A human node may ask on the terminal: leave the block as it is and
                # start a new one below the question, instead of redrawing over it.
                self.draw()
                self.lines = 0
                return
        elif node is not None and kind == "node_waiting":
            what = event.get("kind") or "input"
            self.nodes[node] = {"status": "WAITING", "since": now, "what": what}
        elif node is not None and kind in ("node_finished", "node_skipped"):
            info = self.nodes.setdefault(node, {"since": now})
            info["status"] = event.get("status") or "SKIPPED"
            info["took"] = now - info.get("since", now)
            self.done_order.append(node)
        final = kind in ("run_finished", "run_paused")
        if final or now - self.last_draw >= 0.1:
            self.draw(final=final, status=event.get("status") if final else None)

    def _paint(self, text: str, status: str) -> str:
        if not self.color:
            return text
        return f"\x1b[{_SYMBOLS.get(status, ('', '0'))[1]}m{text}\x1b[0m"

    def draw(self, *, final: bool = False, status: str | None = None) -> None:
        now = time.monotonic()
        self.last_draw = now
        rows: list[str] = []
        active = [n for n, i in self.nodes.items() if i["status"] in ("RUNNING", "WAITING")]
        recent = [n for n in self.done_order[-self.RECENT :] if n not in active]
        hidden = len(self.done_order) - len(recent)
        if hidden > 0:
            rows.append(f"  … {hidden} earlier nodes finished")
        for nid in [*recent, *active]:
            info = self.nodes[nid]
            state = info["status"]
            symbol = _SYMBOLS.get(state, ("?", "0"))[0]
            if state == "RUNNING":
                detail = f"running {now - info['since']:.1f}s"
                if (info.get("attempt") or 1) > 1:
                    detail += f" (attempt {info['attempt']})"
            elif state == "WAITING":
                detail = f"waiting for {info.get('what')}"
            else:
                detail = f"{state.lower()} {info.get('took', 0.0):.2f}s"
            rows.append(self._paint(f"  {symbol} {nid:<30} {detail}", state))
        head = f"{self.title}  {now - self.started:.1f}s"
        if status:
            head += f"  {status}"
        rows.insert(0, head)
        out = ""
        if self.lines:
            out += f"\x1b[{self.lines}F\x1b[J"
        out += "\n".join(rows) + "\n"
        self.stream.write(out)
        self.stream.flush()
        self.lines = len(rows)


def progress_sink(json_lines: bool, quiet: bool) -> Callable[[dict[str, Any]], None] | None:
    """JSON lines on stdout (``--json``), a live view on a terminal, else nothing."""
    if json_lines:

        def emit(event: dict[str, Any]) -> None:
            sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()

        return emit
    if quiet or not sys.stderr.isatty():
        return None
    return LiveView(sys.stderr, tick=0.5)


def session_options(func: F) -> F:
    """The options `osop run` and `osop resume` share (one definition, one help text)."""
    decorators: list[Callable[[Any], Any]] = [
        click.option(
            "--log",
            "log_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write the final record here (.json or .yaml by extension).",
        ),
        click.option(
            "--answers",
            "answers_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="YAML mapping node id → the human's answer.",
        ),
        click.option(
            "--secrets-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="A .env file with the values of ${secrets.NAME} (else NAME/OSOP_SECRET_NAME).",
        ),
        click.option(
            "--yes",
            "auto_approve",
            is_flag=True,
            help="Approve every approval gate and dangerous command (never implied).",
        ),
        click.option(
            "--json",
            "json_lines",
            is_flag=True,
            help="Progress as JSON lines on stdout (for tools).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No live view, only the final lines."),
        click.option(
            "--otel",
            is_flag=True,
            help="Trace the run with OpenTelemetry (configured by the OTEL_* variables; "
            "extra `otel`). Also on with OSOP_OTEL=1 or the workflow's observability.tracing.",
        ),
        report_option,
        store_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def report_option(func: F) -> F:
    """``--report FILE``: the execution report of the run (HTML for .html, else text)."""
    return click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Also write the execution report here (.html: a page; else 80-column text).",
    )(func)


def write_report(result: RunResult, path: Path) -> None:
    from osop.format.loader import load_path
    from osop.format.workflow import Workflow, workflow_from_dict
    from osop.render.report import render_report

    workflow: Workflow | None = None
    if result.handle is not None and result.handle.workflow_path.is_file():
        workflow = workflow_from_dict(load_path(result.handle.workflow_path, max_bytes=None).data)
    fmt = "html" if path.suffix.lower() in (".html", ".htm") else "text"
    atomic_write_text(path, render_report(workflow, result.record, fmt))


def finish(
    result: RunResult,
    *,
    log_path: Path | None,
    json_lines: bool,
    report_path: Path | None = None,
) -> None:
    """Write ``--log`` and ``--report``, say how the run ended, exit with the run's code."""
    if log_path is not None:
        write_record(result.record, log_path)
    if report_path is not None:
        write_report(result, report_path)
    record_path = result.handle.record_path if result.handle is not None else None
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if json_lines:
        summary = {
            "event": "result",
            "run_id": result.run_id,
            "status": "PAUSED" if result.paused else result.status,
            "exit_code": result.exit_code,
            "record": str(record_path) if record_path else None,
            "waiting": result.waiting,
        }
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        status = "PAUSED" if result.paused else result.status
        if result.record.mode == "dry_run":
            _print_path(result)
        click.echo(f"run {result.run_id} {status}")
        if result.record.result_summary:
            click.echo(f"  {result.record.result_summary}")
        for wait in result.waiting:
            target = str(wait.get("run_id") or result.run_id)[:8]
            hint = (
                f"osop approve {target} {wait['node']}"
                if wait.get("kind") in ("human", "approval")
                else f"osop signal {target} {wait.get('name')}"
            )
            where = f" in sub-run {target} (via {wait['via']})" if wait.get("via") else ""
            click.echo(
                f"  waiting: {wait['node']} ({wait.get('kind')}){where} — {hint}, "
                f"then osop resume {result.run_id[:8]}"
            )
            if wait.get("prompt"):
                # Why it waits, in words: which command and which rule need an approval.
                click.echo(
                    f"    {'why' if wait.get('kind') == 'approval' else 'asks'}: {wait['prompt']}"
                )
        if record_path is not None:
            click.echo(f"  record: {record_path}")
            click.echo(f"  report: osop report {result.run_id[:8]}")
    sys.exit(result.exit_code)


def _print_path(result: RunResult) -> None:
    """The path a dry run walked, node by node, in the order it would run."""
    click.echo("dry run: nothing was executed; the run would take this path:")
    step = 0
    for record in result.record.node_records:
        if record.status == "SKIPPED":
            continue
        step += 1
        loop = f" (iteration {record.iteration})" if record.iteration else ""
        click.echo(f"  {step:>3}. {record.node_id} [{record.node_type}]{loop}")
    skipped = [r.node_id for r in result.record.node_records if r.status == "SKIPPED"]
    if skipped:
        click.echo(f"  not reached: {', '.join(skipped)}")


def run_engine(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` at the edge; a first Ctrl-C cancels the run (CANCELLED record).

    A second Ctrl-C while the run is closing exits at once (130): the journal is
    intact and `osop status` rebuilds the record.
    """

    stopping: list[bool] = []

    async def main() -> T:
        # SIGTERM (a supervisor, a CI timeout) cancels like Ctrl-C: a complete record.
        # The first one cancels; later ones are already being acted upon.  The
        # handler is ours, not the event loop's: the loop hands SIGTERM back to the
        # default action when it closes, and a repeated SIGTERM would then kill
        # the closing process (exit 143 instead of the documented 1).
        task = asyncio.current_task()
        if task is not None:
            loop = asyncio.get_running_loop()

            def on_term(signum: int, frame: object) -> None:
                if not stopping:
                    stopping.append(True)
                    with contextlib.suppress(RuntimeError):  # the loop already closed
                        loop.call_soon_threadsafe(task.cancel)

            with contextlib.suppress(ValueError):  # not the main thread
                signal.signal(signal.SIGTERM, on_term)
            with contextlib.suppress(NotImplementedError, RuntimeError):
                # A shell starts background jobs (`osop run … &`) with SIGINT ignored;
                # `osop cancel` interrupts with SIGINT, so it must still reach us.
                if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
                    loop.add_signal_handler(signal.SIGINT, task.cancel)
        return await coro

    try:
        result = asyncio.run(main())
        if stopping:
            # Ignored (not a Python handler, which the interpreter's shutdown resets)
            # until this process, which is closing on request, has exited.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return result
    except KeyboardInterrupt:
        click.echo("interrupted; `osop status RUN` rebuilds the record", err=True)
        sys.exit(130)


def usage_exit(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_INVALID)
