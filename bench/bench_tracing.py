"""Tracing overhead per node: the same 10,000-node chain with spans off and on, same run.

    python bench/bench_tracing.py [--quick]

Three variants of the chain of bench_engine.py (no-op executor, simulated mode,
journal and record written, group commit), run interleaved and reported as
medians:

* off — no observer (the baseline);
* spans, discarding exporter — the OpenTelemetry SDK with a batch processor
  whose exporter drops everything: the cost of making the spans;
* spans, OTLP/HTTP — the real exporter sending to a receiver on 127.0.0.1 that
  reads and drops the requests: making, encoding and sending.

Metrics are off in all three (they are aggregated, not per span).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import chain, noop_factory
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from osop.engine import RunOptions, RunStore, start_run
from osop.format.workflow import Workflow
from osop.telemetry import setup_telemetry, tracing_observer


class Discard(SpanExporter):
    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


class Sink(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


def run(workflow: Workflow, make_telemetry: Callable[[], Any] | None) -> float:
    folder = Path(tempfile.mkdtemp(prefix="osop-bench-"))
    telemetry = make_telemetry() if make_telemetry is not None else None
    try:
        options = RunOptions(
            mode="simulated",
            executors=noop_factory,
            durable=False,
            seed=1,
            workdir=folder,
            observers=[tracing_observer(telemetry)] if telemetry is not None else [],
        )
        start = time.perf_counter()
        result = asyncio.run(start_run(workflow, store=RunStore(folder), options=options))
        if telemetry is not None:
            telemetry.shutdown()  # every span exported: part of the cost
        elapsed = time.perf_counter() - start
        assert result.status == "COMPLETED"
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 nodes, 3 repeats")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the bench runs")
    args = parser.parse_args()
    n, repeat = (2_000, 3) if args.quick else (10_000, 5)
    if args.smoke:
        n, repeat = 30, 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ["OTEL_METRICS_EXPORTER"] = "none"
    variants: dict[str, Callable[[], Any] | None] = {
        "off (baseline)": None,
        "spans, discarding exporter": lambda: setup_telemetry(
            span_exporter=Discard(), metrics=False
        ),
        "spans, OTLP/HTTP to 127.0.0.1": lambda: setup_telemetry(metrics=False),
    }
    workflow = chain(n)
    run(chain(200), None)  # warm up imports and caches
    run(chain(200), variants["spans, OTLP/HTTP to 127.0.0.1"])
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, make in variants.items():
            times[name].append(run(workflow, make))
    base = statistics.median(times["off (baseline)"])
    print(f"chain of {n} no-op nodes, medians of {repeat} interleaved runs\n")
    for name, values in times.items():
        seconds = statistics.median(values)
        print(
            f"{name:<32} {seconds * 1000:9.1f} ms  {seconds / n * 1e6:7.1f} µs/node  "
            f"ratio {seconds / base:5.2f}x  overhead {(seconds - base) / n * 1e6:6.1f} µs/node"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
