"""Run every ``osop`` command (and the MCP tools) over the hostile corpus, in one process.

Usage: ``python -m fuzz.sweep CORPUS_DIR WORK_DIR`` (from ``tests/``) prints one
JSON line per invocation: ``{"argv", "exit", "traceback", "timed_out", "seconds"}``.

Each invocation has a 10-second alarm (``SIGALRM``): a hang raises out of the
command and is reported as ``timed_out``.  The caller also puts a timeout on this
process as a whole, for hangs the alarm cannot interrupt.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from osop.cli.main import cli
from osop.errors import OsopError

LIMIT_SECONDS = 10


class Hang(BaseException):
    """Raised by the alarm: the invocation ran past the limit."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def cli_invocations(corpus: Path, work: Path) -> Iterator[list[str]]:
    store = str(work / "store")
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    valid_wf = str(corpus / "valid.osop.yaml")
    valid_log = str(corpus / "valid.osoplog.json")
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    for path in files:
        f = str(path)
        stem = path.name.replace(".", "-")
        yield ["validate", f]
        yield ["validate", "--format", "json", f]
        for fmt in ("svg", "html", "mermaid", "story"):
            yield ["render", f, "-f", fmt, "-o", str(out / f"{stem}.{fmt}")]
        yield ["stats", f]
        yield ["stats", "--format", "json", f, valid_log]
        yield ["report", f, "--format", "text"]
        yield ["report", f, "--format", "html", "-o", str(out / f"{stem}.html")]
        yield ["diff", f, valid_wf]
        yield ["diff", f, valid_log, "--format", "json"]
        yield ["export", f, "--to", "xes", "-o", str(out / f"{stem}.xes")]
        yield ["export", f, "--to", "ocel", "-o", str(out / f"{stem}.ocel.json")]
        yield ["synthesize", f, "-o", str(out / f"{stem}.syn.osop.yaml")]
        yield ["synthesize", valid_log, "--base", f, "-o", str(out / f"{stem}.syn2.osop.yaml")]
        yield ["migrate", "--check", f]
        if ".osop." in path.name:
            for mode in ("simulated", "dry_run"):
                yield ["run", f, "--mode", mode, "--store", store, "-q", "--seed", "1"]
    yield ["sop", "build", str(corpus), "-o", str(out / "corpus.sop")]
    for run_id in ("../../..", "/", str(corpus), "..", "", "a/../../b"):
        yield ["status", run_id, "--store", store]
        yield ["report", run_id, "--store", store]


def mcp_invocations(corpus: Path, work: Path) -> Iterator[tuple[str, Callable[[], Any]]]:
    from osop.mcp.server import OsopTools

    tools = OsopTools(store_root=work / "mcp-store", workdir=corpus)
    valid_log = str(corpus / "valid.osoplog.json")
    for path in sorted(p for p in corpus.iterdir() if p.is_file()):
        f = str(path)
        yield f"validate {path.name}", lambda f=f: tools.validate(f)
        yield f"render {path.name}", lambda f=f: tools.render(f)
        yield f"stats {path.name}", lambda f=f: tools.stats([f])
        yield f"diff {path.name}", lambda f=f: tools.diff(f, valid_log)
        if ".osop." in path.name:
            yield (
                f"run {path.name}",
                lambda f=f: asyncio.run(tools.run(f, mode="simulated")),
            )
    for run_id in ("../../..", "/", str(corpus), ".."):
        yield f"status {run_id}", lambda r=run_id: tools.status(r)
        yield f"report {run_id}", lambda r=run_id: tools.report(r)


def _timed(call: Callable[[], Any]) -> tuple[Any, bool, float]:
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, LIMIT_SECONDS)
    try:
        return call(), False, time.monotonic() - start
    except Hang:
        return None, True, time.monotonic() - start
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main(corpus: Path, work: Path) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    runner = CliRunner()
    for argv in cli_invocations(corpus, work):
        result, timed_out, seconds = _timed(
            lambda argv=argv: runner.invoke(cli, argv, catch_exceptions=True)
        )
        crashed = False
        detail = ""
        if result is not None:
            exc = result.exception
            crashed = exc is not None and not isinstance(exc, SystemExit)
            if crashed:
                detail = "".join(traceback.format_exception(exc))[-1500:]
            if "Traceback (most recent call last)" in (result.output or ""):
                crashed, detail = True, result.output[-1500:]
        line = {
            "argv": argv,
            "exit": None if result is None else result.exit_code,
            "traceback": crashed,
            "timed_out": timed_out,
            "seconds": round(seconds, 3),
            "detail": detail,
        }
        print(json.dumps(line), flush=True)
    for name, call in mcp_invocations(corpus, work):
        detail = ""

        def guarded(call: Callable[[], Any] = call) -> str:
            try:
                call()
            except OsopError:
                return ""
            except Exception:
                return traceback.format_exc()[-1500:]
            return ""

        detail_or_none, timed_out, seconds = _timed(guarded)
        detail = detail_or_none or ""
        line = {
            "argv": ["mcp", *name.split(" ", 1)],
            "exit": None,
            "traceback": bool(detail),
            "timed_out": timed_out,
            "seconds": round(seconds, 3),
            "detail": detail,
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
