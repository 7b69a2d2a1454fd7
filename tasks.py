#!/usr/bin/env python3
"""The project's one task file: what CI runs and what developers run.

    python3 tasks.py setup   # .venv with the package, dev tools and a browser for tests
    python3 tasks.py test    # lint, format check, types, then the whole test suite
    python3 tasks.py demo    # run the bundled example workflow
    python3 tasks.py bench   # run every benchmark in bench/

Only the standard library is used here, so it works on a fresh Python 3.11.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")


def run(*args: str | Path, check: bool = True, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check, env=env).returncode


def setup() -> None:
    if not PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    install_browser()


def install_browser() -> None:
    """Chromium for the browser tests, from the system's packages (no browser downloads)."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        print("note: no apt-get; browser tests will be skipped without /usr/bin/chromium")
        return
    sudo: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(*sudo, apt, "update", "-qq", check=False, env=env) != 0:
        print("note: apt-get update failed; browser tests will be skipped")
        return
    run(*sudo, apt, "install", "-y", "-qq", "chromium", check=False, env=env)


def test() -> None:
    failures = 0
    for step in (
        [BIN / "ruff", "check", "."],
        [BIN / "ruff", "format", "--check", "."],
        [BIN / "mypy"],
    ):
        failures += run(*step, check=False) != 0
    failures += (
        run(PY, "-m", "pytest", "-n", "2", "--dist", "loadfile", *sys.argv[2:], check=False) != 0
    )
    sys.exit(1 if failures else 0)


def demo() -> None:
    sys.exit(run(BIN / "osop", "validate", "examples", check=False))


def bench() -> None:
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        run(PY, script, check=False)


TASKS = {"setup": setup, "test": test, "demo": demo, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    TASKS[sys.argv[1]]()
