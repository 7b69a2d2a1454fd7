"""Rendering cost: a 50-workflow .sop document, and a 500-node graph (layout + SVG).

Run: ``python bench/bench_render.py``.  Baselines, measured in the same run on the
same data: ``json.dumps`` of the documents (the cheapest possible "rendering"), and
for the big graph, plain string concatenation of one ``<g>`` element per node (what
drawing costs when nothing is laid out).  Medians of several rounds; ratios are
ours / baseline.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from osop.format.vocabulary import NODE_TYPES
from osop.format.workflow import workflow_from_dict
from osop.render.document import render_sop_file
from osop.render.graph import graph_of
from osop.render.layout import layered_layout
from osop.render.mermaid import render_mermaid
from osop.render.svg import render_svg, workflow_layout

# ``--smoke``: one round, so CI can check the bench still runs (no figures)
ROUNDS = 1 if "--smoke" in sys.argv[1:] else 7


def process(n: int, seed: int, name: str) -> dict[str, Any]:
    """A workflow shaped like real ones: a main line, fan-outs that join, loops, conditions."""
    rng = random.Random(seed)
    nodes = [
        {
            "id": f"step_{i}",
            "type": rng.choice(NODE_TYPES),
            "name": " ".join(
                rng.choice(
                    [
                        "Check",
                        "Build",
                        "Review",
                        "Send",
                        "Load",
                        "Approve",
                        "the",
                        "report",
                        "order",
                        "data",
                        "release",
                    ]
                )
                for _ in range(rng.randint(2, 6))
            ),
            "purpose": "Do the thing this step is for.",
        }
        for i in range(n)
    ]
    edges: list[dict[str, Any]] = []
    i = 0
    while i < n - 1:
        if rng.random() < 0.2 and i + 4 < n:  # a fan-out of 2-3 branches joining after
            width = rng.randint(2, 3)
            join = i + width + 1
            for b in range(1, width + 1):
                edges.append({"from": f"step_{i}", "to": f"step_{i + b}", "mode": "parallel"})
                edges.append({"from": f"step_{i + b}", "to": f"step_{join}"})
            i = join
            continue
        mode = rng.choice(["sequential"] * 5 + ["conditional", "fallback"])
        edge: dict[str, Any] = {"from": f"step_{i}", "to": f"step_{i + 1}", "mode": mode}
        if mode == "conditional":
            edge["when"] = "ok == true"
        edges.append(edge)
        if rng.random() < 0.05 and i > 5:
            edges.append(
                {"from": f"step_{i}", "to": f"step_{i - 4}", "mode": "loop", "when": "again"}
            )
        i += 1
    return {"osop_version": "1.1", "id": name, "name": name.title(), "nodes": nodes, "edges": edges}


def median_ms(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def row(label: str, ours: float, base: float, base_label: str) -> None:
    print(f"  {label:<38} {ours:9.2f} ms   {base_label:<30} {base:8.3f} ms   x{ours / base:,.0f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        flows = [process(random.Random(k).randint(8, 25), k, f"flow-{k}") for k in range(50)]
        sections = []
        for s in range(5):
            refs = []
            for k in range(s * 10, s * 10 + 10):
                (folder / f"flow-{k}.osop.yaml").write_text(
                    yaml.safe_dump(flows[k], sort_keys=False)
                )
                refs.append({"ref": f"flow-{k}.osop.yaml"})
            sections.append({"name": f"Section {s + 1}", "workflows": refs})
        sop_path = folder / "bench.sop"
        sop_path.write_text(yaml.safe_dump({"name": "Bench", "sections": sections}))
        html_bytes = len(render_sop_file(sop_path).html.encode())
        nodes_total = sum(len(f["nodes"]) for f in flows)
        print(f".sop of 50 workflows ({nodes_total} nodes, HTML {html_bytes / 1e6:.2f} MB):")
        ours = median_ms(lambda: render_sop_file(sop_path))
        base = median_ms(lambda: json.dumps(flows))
        row("render_sop_file (read+layout+HTML)", ours, base, "json.dumps(50 workflows)")

    big = process(500, 500, "big")
    workflow = workflow_from_dict(big)
    graph = graph_of(workflow)
    node_list = [n["id"] for n in big["nodes"]]
    print(f"500-node graph ({len(big['edges'])} edges):")

    def concat() -> str:
        return "".join(f'<g class="node"><text>{n}</text></g>' for n in node_list)

    base_concat = median_ms(concat)
    base_json = median_ms(lambda: json.dumps(big))
    row(
        "layout only",
        median_ms(lambda: workflow_layout(graph)),
        base_concat,
        "concat of node <g> elements",
    )
    row(
        "layout + SVG",
        median_ms(lambda: render_svg(graph)),
        base_concat,
        "concat of node <g> elements",
    )
    row("layout + SVG", median_ms(lambda: render_svg(graph)), base_json, "json.dumps(workflow)")
    row("Mermaid", median_ms(lambda: render_mermaid(graph)), base_json, "json.dumps(workflow)")

    # Worst case for a layered layout: random long edges need thousands of dummy nodes.
    rng = random.Random(1)
    sizes = [(float(rng.randint(110, 240)), 59.0) for _ in range(500)]
    edges = [(i, i + 1) for i in range(499)] + [
        (rng.randrange(500), rng.randrange(500)) for _ in range(300)
    ]
    print("500 nodes, chain + 300 random long edges (worst case: ~75k dummies needed, 20k made):")
    row(
        "layered_layout",
        median_ms(lambda: layered_layout(sizes, edges), rounds=3),
        median_ms(lambda: json.dumps(edges)),
        "json.dumps(edge list)",
    )


if __name__ == "__main__":
    main()
