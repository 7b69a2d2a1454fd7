"""Benchmark: stats and diff over 10,000 records, synthesize over 1,000, memory at 100,000.

Each figure is compared with a baseline measured in the same run: reading the
same files with the plain parser (``json.loads``, or libyaml ``CSafeLoader``)
and nothing else — the floor any analysis of these files pays.

    python bench/bench_analysis.py [--records 10000] [--repeat 3]
                                   [--memory-records 10000,100000]

Times are CPU time (``time.process_time``): the machine is shared, so each round
times the baseline right before the measure, and the ratio is the median of the
rounds' ratios (load that drifts during the run hits both alike). The rows
"stats" and "diff WF DIR" are what the commands do (stream, analyse, format);
"every record replayed" is the diff without its replay of each variant once.

Memory: folders of 10,000 and 100,000 records (distinct runs, written once from
a few hundred generated ones) and the peak RSS of ``osop stats DIR`` and
``osop diff WF DIR`` run on each as a child process (``ru_maxrss`` of the child),
and the bytes each further record costs (the slope between the two sizes):
streaming keeps it nearly flat — what grows is what an exact answer needs per
record (exact percentiles keep the execution durations: as they come up to 16,384
a node, then as distinct values and counts; ~30 bytes a run
for counting a copied run once, the diff's ~10 bytes a record for listing it).
Copies of 500 runs repeat their durations; ``--memory-distinct ms`` writes the
folders from distinct generated runs instead (durations in whole milliseconds,
as the generator makes them; slower to write), ``--memory-distinct us`` the same
runs with each node duration moved by a random fraction of a millisecond and
rounded to microseconds (``round(ms, 3)``, as OSOP's engine writes them: nearly
every value distinct).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "analysis"))
sys.path.insert(0, str(ROOT))

from generator import Par, Seq, Step, Task, Xor, generate  # noqa: E402

from osop.analysis.compare import compare_paths  # noqa: E402
from osop.analysis.conformance import replay  # noqa: E402
from osop.analysis.diff_format import format_diff  # noqa: E402
from osop.analysis.diff_records import diff_records  # noqa: E402
from osop.analysis.records import read_records  # noqa: E402
from osop.analysis.selection import ALL_MODES, stream_records  # noqa: E402
from osop.analysis.stats import StatsAccumulator, compute_stats  # noqa: E402
from osop.analysis.synthesize import improve  # noqa: E402
from osop.format.workflow import workflow_from_dict  # noqa: E402

STEPS = [
    Step("s01", "api", (50, 150), transient_failure_rate=0.2, error=("E_NET", "reset")),
    Step("s02", "cli", (100, 300), command="make a"),
    Step("s03", "cli", (100, 300), command="make b"),
    Step("s04", "cli", (100, 300), command="make c"),
    Step("s05", "cli", (100, 300), command="make d"),
    Step("s06", "agent", (500, 900), cost_usd=0.01),
    Step("s07", "cli", (100, 200), fatal_failure_rate=0.02, error=("E_LOCK", "locked")),
    Step("s08", "agent", (300, 600), cost_usd=0.02, emits_risk=("low", "high")),
    Step("s09", "cli", (100, 200), command="deploy ${outputs.s08.plan}"),
    Step("s10", "cli", (100, 200), command="verify"),
    Step("s11", "api", (50, 80)),
    Step("s12", "human", wait_ms=(600_000, 1_800_000), risk_inputs=("*",)),
    Step("s13", "cli", (100, 200), command="publish"),
    Step("s14", "cli", (100, 200), command="announce"),
    Step("s15", "db", (50, 100)),
    Step("s16", "cli", (100, 3000), tail_rate=0.05, tail_ms=(20_000, 30_000), command="t"),
    Step("s17", "cli", (100, 200), command="u"),
    Step("s18", "cli", (100, 200), command="v ${outputs.s17.x}"),
    Step("s19", "api", (50, 100)),
    Step("s20", "system", (10, 20)),
]
TREE = Seq(
    (
        Task("s01"),
        Par((Seq((Task("s02"), Task("s03"))), Seq((Task("s04"), Task("s05"))), Task("s06"))),
        Task("s07"),
        Task("s08"),
        Xor("s08", "route", (("a", 0.7, Seq((Task("s09"), Task("s10")))), ("b", 0.3, Task("s11")))),
        Task("s12"),
        Par((Task("s13"), Task("s14"))),
        Task("s15"),
        Task("s16"),
        Task("s17"),
        Task("s18"),
        Task("s19"),
        Task("s20"),
    )
)


_CHILD_PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
if done.returncode not in (0, 1):  # diff says 1 when a record deviates
    sys.exit(f"{sys.argv[1:]} failed with exit status {done.returncode}")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def command_peak_rss(args: list[str]) -> int:
    """Peak RSS (KB) of ``osop ARGS`` as a child process (its output thrown away)."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD_PEAK, sys.executable, "-m", "osop", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout
    return int(out.strip().splitlines()[-1])


def write_copies(texts: list[str], run_ids: list[str], folder: Path, count: int) -> None:
    """``count`` record files: the generated records in turn, each under a new run id."""
    folder.mkdir()
    for i in range(count):
        k = i % len(texts)
        text = texts[k].replace(run_ids[k], str(uuid.UUID(int=i + 1)), 1)
        sub = folder / f"{i // 1000:03}"  # 1,000 files a folder, as a run store holds them
        if i % 1000 == 0:
            sub.mkdir()
        (sub / f"{i:06}.osoplog.json").write_text(text)


def write_distinct(folder: Path, count: int, micro: bool = False) -> None:
    """``count`` record files of distinct generated runs (10,000 a seed); ``micro``:
    node durations at microsecond resolution (``round(ms + U[0, 1), 3)``)."""
    folder.mkdir()
    i = 0
    jitter = random.Random(0)
    for seed in range(1, 1 + (count + 9_999) // 10_000):
        for record in generate(TREE, STEPS, min(10_000, count - i), seed=seed).records:
            record["run_id"] = str(uuid.UUID(int=i + 1))
            if micro:
                for row in record["node_records"]:
                    row["duration_ms"] = round(row["duration_ms"] + jitter.random(), 3)
            sub = folder / f"{i // 1000:03}"
            if i % 1000 == 0:
                sub.mkdir()
            (sub / f"{i:06}.osoplog.json").write_text(json.dumps(record))
            i += 1


def memory_rows(gen: object, sizes: list[int], tmp: Path, distinct: str = "") -> None:
    records = gen.records  # type: ignore[attr-defined]
    texts = [json.dumps(r) for r in records[:500]]
    run_ids = [r["run_id"] for r in records[:500]]
    workflow = tmp / "process.osop.json"
    workflow.write_text(json.dumps(gen.workflow))  # type: ignore[attr-defined]
    print()
    print(f"{'peak RSS of the command (child process)':<44} " + "".join(f"{n:>12,}" for n in sizes))
    peaks: dict[str, list[int]] = {
        "osop stats DIR": [],
        "osop diff WF DIR": [],
        "osop diff WF DIR --format json": [],
    }
    for n in sizes:
        folder = tmp / f"copies-{n}"
        if distinct:
            write_distinct(folder, n, micro=distinct == "us")
        else:
            write_copies(texts, run_ids, folder, n)
        peaks["osop stats DIR"].append(command_peak_rss(["stats", str(folder), "--format", "json"]))
        peaks["osop diff WF DIR"].append(command_peak_rss(["diff", str(workflow), str(folder)]))
        peaks["osop diff WF DIR --format json"].append(
            command_peak_rss(["diff", str(workflow), str(folder), "--format", "json"])
        )
    for label, values in peaks.items():
        cells = "".join(f"{v / 1024:9.1f} MB" for v in values)
        # what each further record costs: the slope between the smallest and largest folder
        per_record = (values[-1] - values[0]) * 1024 / max(sizes[-1] - sizes[0], 1)
        growth = (
            f"   x{values[-1] / values[0]:.2f} from {sizes[0]:,} to {sizes[-1]:,}"
            f" ({per_record:.0f} bytes a record)"
        )
        print(f"{label:<44} {cells}{growth if len(values) > 1 else ''}", flush=True)


def cpu_time(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def paired(
    fn: Callable[[], object], base: Callable[[], object], repeat: int
) -> tuple[float, float, float]:
    """Medians of ``fn``'s time, the baseline's, and their ratio, each round timing
    the baseline right before ``fn``."""
    times, bases, ratios = [], [], []
    for _ in range(repeat):
        b = cpu_time(base)
        t = cpu_time(fn)
        bases.append(b)
        times.append(t)
        ratios.append(t / b)
    return statistics.median(times), statistics.median(bases), statistics.median(ratios)


def plain_json(paths: list[Path]) -> None:
    for p in paths:
        json.loads(p.read_bytes())


def plain_yaml(paths: list[Path]) -> None:
    for p in paths:
        yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)


def row(name: str, measured: tuple[float, float, float], base_name: str) -> None:
    seconds, baseline, ratio = measured
    print(
        f"{name:<44} {seconds:8.3f} s   {base_name:<26} {baseline:7.3f} s   x{ratio:5.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--synth-records", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--memory-records",
        default="10000,100000",
        help="folder sizes for the peak-RSS rows (comma-separated; empty: none)",
    )
    parser.add_argument(
        "--memory-distinct",
        choices=("ms", "us"),
        default="",
        help="memory folders of distinct generated runs, not copies of 500: durations "
        "in whole milliseconds (ms) or at microsecond resolution as the engine writes (us)",
    )
    args = parser.parse_args()
    n = args.records
    print(f"generating {n} records of a {len(STEPS)}-node process ...", flush=True)
    gen = generate(TREE, STEPS, n, seed=1)
    nodes = sum(len(r["node_records"]) for r in gen.records)
    print(f"{nodes} node records ({nodes / n:.1f} per run)")
    with tempfile.TemporaryDirectory() as tmp:
        jdir, ydir = Path(tmp) / "json", Path(tmp) / "yaml"
        jdir.mkdir()
        ydir.mkdir()
        jpaths, ypaths = [], []
        for i, rec in enumerate(gen.records):
            jp = jdir / f"{i:05}.osoplog.json"
            jp.write_text(json.dumps(rec))
            jpaths.append(jp)
            yp = ydir / f"{i:05}.osoplog.yaml"
            yp.write_text(yaml.safe_dump(rec, sort_keys=False))
            ypaths.append(yp)
        r = args.repeat

        def base_json() -> None:
            plain_json(jpaths)

        def base_yaml() -> None:
            plain_yaml(ypaths)

        print()
        print(
            f"{'measure (median of ' + str(r) + ')':<44} {'time':>10}   {'baseline':<26} {'time':>9}   ratio"
        )

        def stats_of(folder: Path) -> None:
            # what `osop stats DIR` does: list, stream plain records into the figures
            _, stream = stream_records([str(folder)], modes=frozenset(ALL_MODES))
            figures = StatsAccumulator()
            for _, plain in stream:
                figures.add_plain(plain)
            json.dumps([s.to_dict() for s in figures.finish()])

        def stats_objects(paths: list[Path]) -> None:
            # the object path: a RunRecord / NodeRecord / NodeExecution per run and attempt
            compute_stats(rec for _, rec in read_records(paths))

        row(
            f"stats, {n} JSON records",
            paired(lambda: stats_of(jdir), base_json, r),
            "json.loads only",
        )
        row(
            f"stats, {n} JSON records, object path",
            paired(lambda: stats_objects(jpaths), base_json, r),
            "json.loads only",
        )
        row(
            f"stats, {n} YAML records",
            paired(lambda: stats_of(ydir), base_yaml, r),
            "CSafeLoader only",
        )
        wf = workflow_from_dict(gen.workflow)
        wf_path = Path(tmp) / "process.osop.json"
        wf_path.write_text(json.dumps(gen.workflow))

        def diff_command() -> None:
            # what `osop diff WF DIR` does: stream, replay each variant once, format
            format_diff(compare_paths(str(wf_path), str(jdir)))

        def every_replay() -> None:
            for _, rec in read_records(jpaths):
                replay(wf, rec)

        row(
            f"diff WF DIR, {n} records (token replay)",
            paired(diff_command, base_json, r),
            "json.loads only",
        )
        row(
            f"diff WF, {n} records, every record replayed",
            paired(every_replay, base_json, r),
            "json.loads only",
        )

        def pairs() -> None:
            loaded = [rec for _, rec in read_records(jpaths)]
            for a, b in zip(loaded[::2], loaded[1::2], strict=False):
                diff_records(a, b)

        row(f"diff run vs run, {n // 2} pairs", paired(pairs, base_json, r), "json.loads only")
        m = min(args.synth_records, n)
        subset = jpaths[:m]

        def synth() -> None:
            improve(wf, [rec for _, rec in read_records(subset)])

        row(
            f"synthesize --base, {m} records",
            paired(synth, lambda: plain_json(subset), r),
            "json.loads only",
        )
        sizes = [int(x) for x in args.memory_records.split(",") if x.strip()]
        if sizes:
            memory_rows(gen, sizes, Path(tmp), args.memory_distinct)


if __name__ == "__main__":
    main()
