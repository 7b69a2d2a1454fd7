"""Validation speed, against plain YAML parsing of the same bytes (the baseline).

    python bench/bench_validate.py [--repeat N]

1. every corpus file validated in one process  vs  yaml.load(CSafeLoader) of each;
2. a generated 10,000-node / 15,000-edge workflow  vs  yaml.load of its text;
3. start-up of `osop --version`  vs  `python -c pass`.

Prints medians and ratios (shared machines are noisy: compare within one run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from osop.errors import LoadError
from osop.format.loader import load_document
from osop.format.validate import validate_document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def big_workflow(nodes: int = 10_000, edges: int = 15_000, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ['osop_version: "1.1"', 'id: "generated-large"', 'name: "Generated"', "nodes:"]
    types = ["cli", "api", "agent", "human", "data", "system"]
    for i in range(nodes):
        lines += [
            f"  - id: n{i}",
            f"    type: {types[i % len(types)]}",
            f"    name: Step {i}",
            f"    runtime: {{command: 'echo {i}'}}",
            "    outputs: {ok: {type: boolean}}",
        ]
    lines.append("edges:")
    pairs = {(i, i + 1) for i in range(nodes - 1)}  # a backbone: everything reachable
    while len(pairs) < edges:
        a = rng.randrange(nodes - 1)
        b = rng.randrange(a + 1, min(nodes, a + 50))
        pairs.add((a, b))
    for a, b in sorted(pairs):
        if (a + b) % 7 == 0:
            lines.append(f"  - {{from: n{a}, to: n{b}, mode: conditional, when: 'ok == true'}}")
        else:
            lines.append(f"  - {{from: n{a}, to: n{b}}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the bench runs")
    args = parser.parse_args()
    big_repeat = 1 if args.smoke else max(3, args.repeat // 2)
    startup_repeat = 1 if args.smoke else 9
    if args.smoke:
        args.repeat = 1
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    files = sorted(p for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv")
    blobs = [(p.name, p.read_bytes()) for p in files]

    def corpus_validate() -> None:
        for name, raw in blobs:
            # The broken fixture raises LoadError: reading it is part of the work.
            with contextlib.suppress(LoadError):
                validate_document(load_document(raw, name))

    def corpus_baseline() -> None:
        for _, raw in blobs:
            with contextlib.suppress(yaml.YAMLError):
                yaml.load(raw, Loader=loader)

    ours = median_time(corpus_validate, args.repeat)
    base = median_time(corpus_baseline, args.repeat)
    print(
        f"corpus ({len(blobs)} files): validate {ours * 1000:.0f} ms, "
        f"yaml.load {base * 1000:.0f} ms, ratio {ours / base:.1f}x"
    )

    text = big_workflow(300, 400) if args.smoke else big_workflow()
    size = len(text.encode())
    doc_holder: list[object] = []

    def big_validate() -> None:
        doc = load_document(text, "big.osop.yaml", max_bytes=None)
        report = validate_document(doc)
        assert report.valid and not report.issues, report.issues[:3]
        doc_holder.append(report)

    def big_baseline() -> None:
        yaml.load(text, Loader=loader)

    ours = median_time(big_validate, big_repeat)
    base = median_time(big_baseline, big_repeat)
    tracemalloc.start()
    big_validate()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{text.count('  - id: '):,} nodes ({size / 1e6:.1f} MB): validate {ours:.2f} s, "
        f"yaml.load {base:.2f} s, ratio {ours / base:.1f}x, "
        f"peak traced memory {peak / 1e6:.0f} MB, max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB"
    )

    as_json = json.dumps(yaml.load(text, Loader=loader), indent=1)

    def big_json_validate() -> None:
        report = validate_document(load_document(as_json, "big.osop.json", max_bytes=None))
        assert report.valid and not report.issues, report.issues[:3]

    ours = median_time(big_json_validate, big_repeat)
    base = median_time(lambda: json.loads(as_json), big_repeat)
    print(
        f"the same as JSON ({len(as_json) / 1e6:.1f} MB): validate {ours:.2f} s, "
        f"json.loads {base * 1000:.0f} ms, ratio {ours / base:.0f}x"
    )

    osop = [sys.executable, "-m", "osop", "--version"]
    bare = [sys.executable, "-c", "pass"]
    ours = median_time(
        lambda: subprocess.run(osop, check=True, capture_output=True), startup_repeat
    )
    base = median_time(
        lambda: subprocess.run(bare, check=True, capture_output=True), startup_repeat
    )
    print(
        f"start-up: osop --version {ours * 1000:.0f} ms, python -c pass {base * 1000:.0f} ms, "
        f"ratio {ours / base:.1f}x"
    )


if __name__ == "__main__":
    main()
