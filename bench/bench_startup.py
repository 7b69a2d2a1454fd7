"""Start-up cost of the command line, in CPU time, against bare interpreters.

    python bench/bench_startup.py [--repeat N] [--quick]

Each row runs a fresh process and reads its CPU time (user + system, from
``getrusage(RUSAGE_CHILDREN)``): CPU time, not wall time, because the machine
is shared and a busy neighbour stretches wall time but not the work done.

- ``osop --version``            vs ``python -c pass``
- ``osop validate`` (one small file) vs a process that parses the same file
  with libyaml (``yaml.load(..., CSafeLoader)``): the floor of any validator
  written in Python.

Children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed), as
an installed package has it, and one warm-up run writes the caches first;
otherwise every run would be timing the compiler. The rounds are interleaved
(each round runs every command once), so a neighbour's load lands on the
command and its baseline alike instead of on whichever ran during it.

It also lists the heavy or optional stacks the small ``validate`` imported (none
should be: they are for the commands, options and documents that need them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

SMALL_WORKFLOW = """\
osop_version: "1.1"
id: release-check
name: Release check
nodes:
  - id: build
    type: cli
    name: Build
    runtime: {command: "make build"}
    outputs: {ok: {type: boolean}}
  - id: test
    type: cli
    name: Test
    runtime: {command: "make test"}
  - id: approve
    type: human
    name: Approve
edges:
  - {from: build, to: test, mode: conditional, when: "ok == true"}
  - {from: test, to: approve}
"""

#: top-level modules that belong to optional or heavy stacks (click: the command
#: framework, which the plain `osop validate FILE` does without)
HEAVY = (
    "cel.cli",
    "typer",
    "prompt_toolkit",
    "rich",
    "jsonschema",
    "click",
    "httpx",
    "mcp",
    "jinja2",
)


def cpu_of(command: list[str]) -> float:
    """CPU seconds (user + system) the child process spent."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpus(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median CPU seconds of each command, the rounds interleaved."""
    for command in commands.values():
        cpu_of(command)  # warm-up: bytecode caches written, files in the page cache
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            samples[name].append(cpu_of(command))
    return {name: statistics.median(times) for name, times in samples.items()}


def row(name: str, seconds: float, base_name: str, base: float) -> None:
    print(
        f"{name:<34} {seconds * 1000:7.1f} ms CPU   {base_name:<26} "
        f"{base * 1000:7.1f} ms   ratio {seconds / base:5.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="three rounds")
    parser.add_argument("--smoke", action="store_true", help="one round: checks the bench runs")
    args = parser.parse_args()
    repeat = 1 if args.smoke else 3 if args.quick else args.repeat
    python = sys.executable
    script = Path(python).with_name("osop")  # what a user types; ``python -m osop`` adds runpy
    osop = [str(script)] if script.exists() else [python, "-m", "osop"]
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "release-check.osop.yaml"
        small.write_text(SMALL_WORKFLOW)
        medians = median_cpus(
            {
                "bare": [python, "-c", "pass"],
                "parse": [
                    python,
                    "-c",
                    "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)",
                    str(small),
                ],
                "version": [*osop, "--version"],
                "validate": [*osop, "validate", str(small)],
            },
            repeat,
        )
        bare, parse = medians["bare"], medians["parse"]
        version, validate = medians["version"], medians["validate"]
        print(f"CPU time per process, medians of {repeat}\n")
        row("osop --version", version, "python -c pass", bare)
        row("osop validate (small file)", validate, "parse it (libyaml)", parse)
        row("  the same, against", validate, "python -c pass", bare)
        probe = (
            "import sys, json\n"
            "from osop.cli.main import main\n"
            "try:\n"
            "    main(['validate', sys.argv[1]])\n"
            "except SystemExit:\n"
            "    pass\n"
            f"heavy = {HEAVY!r}\n"
            "print(json.dumps(sorted(m for m in sys.modules\n"
            "    if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
        )
        out = subprocess.run(
            [python, "-c", probe, str(small)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=ENV,
        ).stdout
        loaded = json.loads(out.strip().splitlines()[-1])
        tops = sorted({m.split(".")[0] if m != "cel.cli" else m for m in loaded})
        print(
            f"\nheavy or optional stacks imported by `osop validate`: {', '.join(tops) or 'none'}"
        )


if __name__ == "__main__":
    main()
