"""Benchmark: importing Claude Code sessions, against json.loads of the same lines.

100 sessions of 2,000 lines each (streamed messages, tool calls and results, some
failures), written once to a temporary folder.  Each repeat times

* baseline — read every file and ``json.loads`` every line (the floor any reader
  of these files pays);
* import   — ``osop.importers.import_sessions``: parse, pair calls with results,
  group phases, price tokens, build the records (nothing written);
* import + write — the same, and each record written as ``.osoplog.json``.

Medians over the repeats, and the ratio to the baseline.

    python bench/bench_import.py [--sessions 100] [--lines 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from osop.importers import import_sessions, write_records  # noqa: E402

TOOLS = [
    ("Read", lambda r: {"file_path": f"/w/src/m{r.randint(1, 50)}.py"}),
    ("Grep", lambda r: {"pattern": "def x", "path": "/w/src"}),
    (
        "Edit",
        lambda r: {"file_path": "/w/src/a.py", "old_string": "a" * 40, "new_string": "b" * 40},
    ),
    ("Bash", lambda r: {"command": "pytest -q tests/", "description": "tests"}),
    ("Bash", lambda r: {"command": "git status"}),
]


def write_session(path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    sid = f"{seed:08x}-0000-4000-8000-000000000000"
    t = datetime(2025, 11, 1, tzinfo=UTC)
    out: list[str] = []
    n = 0

    def put(kind: str, message: dict[str, object]) -> None:
        nonlocal n, t
        n += 1
        t += timedelta(milliseconds=rng.randint(100, 3000))
        out.append(
            json.dumps(
                {
                    "parentUuid": None,
                    "isSidechain": False,
                    "userType": "external",
                    "cwd": "/w",
                    "sessionId": sid,
                    "version": "2.0.30",
                    "gitBranch": "main",
                    "type": kind,
                    "uuid": f"{sid}-{n}",
                    "timestamp": t.isoformat().replace("+00:00", "Z"),
                    "message": message,
                }
            )
        )

    put("user", {"role": "user", "content": "Do the task."})
    while len(out) < lines:
        if rng.random() < 0.02:
            put("user", {"role": "user", "content": "Next, please."})
        name, make = rng.choice(TOOLS)
        cid = f"toolu_{n}"
        mid = f"msg_{n}"
        usage = {"input_tokens": 5, "output_tokens": rng.randint(20, 400),
                 "cache_creation_input_tokens": rng.randint(0, 500),
                 "cache_read_input_tokens": rng.randint(10_000, 90_000)}  # fmt: skip
        for block in (
            {"type": "thinking", "thinking": "x" * 200, "signature": "s"},
            {"type": "text", "text": "Looking at it." * 5},
            {"type": "tool_use", "id": cid, "name": name, "input": make(rng)},
        ):
            put("assistant", {"id": mid, "model": "claude-sonnet-4-5-20250929", "role": "assistant",
                              "content": [block], "usage": usage})  # fmt: skip
        result = {"type": "tool_result", "tool_use_id": cid, "content": "output line\n" * 20}
        if rng.random() < 0.05:
            result["is_error"] = True
        put("user", {"role": "user", "content": [result]})
    path.write_text("\n".join(out[:lines]) + "\n", encoding="utf-8")


def median_time(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project"
        folder.mkdir()
        for i in range(args.sessions):
            write_session(folder / f"s{i:04d}.jsonl", args.lines, i)
        files = sorted(folder.glob("*.jsonl"))
        total_lines = sum(len(f.read_bytes().splitlines()) for f in files)

        def baseline() -> int:
            count = 0
            for f in files:
                for raw in f.read_bytes().splitlines():
                    json.loads(raw)
                    count += 1
            return count

        def importing() -> int:
            return sum(len(i.records) for i in import_sessions("claude-code", [folder]))

        out = Path(tmp) / "out"

        def importing_and_writing() -> int:
            return sum(len(write_records(i, out)) for i in import_sessions("claude-code", [folder]))

        base = median_time(baseline, args.repeat)
        imp = median_time(importing, args.repeat)
        imp_w = median_time(importing_and_writing, args.repeat)
    per_line = 1e6 / total_lines
    print(f"{args.sessions} sessions x {args.lines} lines = {total_lines} lines; "
          f"median of {args.repeat}")  # fmt: skip
    print(f"  json.loads of every line     {base:8.3f} s  ({base * per_line:6.2f} us/line)")
    print(f"  import (records built)       {imp:8.3f} s  ({imp * per_line:6.2f} us/line)"
          f"  {imp / base:5.2f}x baseline")  # fmt: skip
    print(f"  import + write .osoplog.json {imp_w:8.3f} s  ({imp_w * per_line:6.2f} us/line)"
          f"  {imp_w / base:5.2f}x baseline")  # fmt: skip


if __name__ == "__main__":
    main()
