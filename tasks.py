#!/usr/bin/env python3
"""The project's one task file: what CI runs and what developers run.

    python3 tasks.py setup        # .venv from the lock: package, dev tools, the studio's web app, a browser and PostgreSQL for tests
    python3 tasks.py studio       # build the studio's web app (studio/ -> osop/studio/static) with Node and npm
    python3 tasks.py test         # lint, format check, types, then the whole test suite
    python3 tasks.py lock         # regenerate requirements/dev.lock from pyproject.toml
    python3 tasks.py test-latest  # the suite in .venv-latest, against the newest releases
    python3 tasks.py demo         # run the bundled example workflow
    python3 tasks.py bench        # run every benchmark in bench/
    python3 tasks.py bench-peers  # OSOP vs LangGraph, Temporal, Prefect (installs them into .venv-peers)

Installs are reproducible: `setup` (and so CI) installs every dependency at the
version pinned in requirements/dev.lock, while pyproject.toml keeps honest lower
bounds for users.  `test-latest` ignores the lock, so a dependency that moves shows
up in our tests before a user meets it.

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
LATEST_VENV = ROOT / ".venv-latest"
LOCK = ROOT / "requirements" / "dev.lock"
CHROMIUM = Path("/usr/bin/chromium")


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


BIN = bin_dir(VENV)
PY = BIN / "python"


def run(*args: str | Path, check: bool = True, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check, env=env).returncode


def make_venv(venv: Path) -> Path:
    python = bin_dir(venv) / "python"
    if not python.exists():
        run(sys.executable, "-m", "venv", venv)
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    return python


def setup() -> None:
    python = make_venv(VENV)
    # -c pins every package that .[dev] pulls in to the locked version.
    run(python, "-m", "pip", "install", "--quiet", "-c", LOCK, "-e", ".[dev]")
    build_studio()
    install_browser()
    install_postgresql()


def lock() -> None:
    """Resolve every extra for every platform with uv (a dev tool) into the lock."""
    if not (BIN / "uv").exists():
        setup()
    run(
        BIN / "uv", "pip", "compile", "pyproject.toml", "--all-extras", "--universal",
        "--python-version", "3.11", "--no-header", "--quiet", "--upgrade", "-o", LOCK,
    )  # fmt: skip


STUDIO = ROOT / "studio"
STUDIO_BUILT = ROOT / "osop" / "studio" / "static" / "index.html"


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def build_studio() -> None:
    """The studio's web app: `npm ci` from the committed lock, then Vite's build.

    The built files are not committed (they are generated, and large); the wheel
    and the sdist carry them.  Skipped when the build is newer than every source.
    """
    npm = shutil.which("npm")
    if npm is None:
        _apt_install("nodejs", "the studio's web app")  # Debian's nodejs brings npm along
        _apt_install("npm", "the studio's web app")
        npm = shutil.which("npm")
    if npm is None:
        sys.exit("error: the studio's web app needs Node 20 and npm (apt-get install nodejs npm)")
    lock_file = STUDIO / "package-lock.json"
    installed = STUDIO / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock_file.stat().st_mtime:
        run(npm, "ci", "--no-audit", "--no-fund", "--prefix", STUDIO)
    sources = [lock_file, *STUDIO.glob("*.json"), *STUDIO.glob("*.ts"), *STUDIO.glob("*.html")]
    sources += list((STUDIO / "src").rglob("*"))
    if STUDIO_BUILT.exists() and STUDIO_BUILT.stat().st_mtime >= _newest(sources):
        return
    run(npm, "run", "build", "--prefix", STUDIO)


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


def _apt_install(package: str, why: str) -> None:
    apt = shutil.which("apt-get")
    if apt is None:
        print(f"note: no apt-get; {why} will be skipped without {package}")
        return
    sudo: list[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(*sudo, apt, "update", "-qq", check=False, env=env) != 0:
        print(f"note: apt-get update failed; {why} will be skipped")
        return
    run(*sudo, apt, "install", "-y", "-qq", package, check=False, env=env)


def install_postgresql() -> None:
    """PostgreSQL for the hub's tests (they start their own server on 127.0.0.1)."""
    if any(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return
    _apt_install("postgresql", "the hub's PostgreSQL tests")


def check(venv: Path) -> int:
    """Lint, format check, types, then pytest; the number of steps that failed."""
    tools = bin_dir(venv)
    failures = 0
    for step in (
        [tools / "ruff", "check", "."],
        [tools / "ruff", "format", "--check", "."],
        [tools / "mypy"],
    ):
        failures += run(*step, check=False) != 0
    # A worker that dies (a crash in native code) is not replaced: with a replacement,
    # pytest-xdist's loadfile scheduling can wait forever for the dead worker's tests,
    # and CI would sit until its timeout instead of failing at once with the test named.
    pytest = [tools / "python", "-m", "pytest", "-n", "2", "--dist", "loadfile"]
    pytest += ["--max-worker-restart=0", *sys.argv[2:]]
    failures += run(*pytest, check=False) != 0
    return failures


def test() -> None:
    sys.exit(1 if check(VENV) else 0)


def test_latest() -> None:
    """The same checks in a separate venv holding the newest release of everything."""
    python = make_venv(LATEST_VENV)
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "--upgrade-strategy", "eager",
        "-e", ".[dev]")  # fmt: skip
    run(python, "-m", "pip", "list", "--format", "freeze", check=False)
    sys.exit(1 if check(LATEST_VENV) else 0)


def demo() -> None:
    sys.exit(run(BIN / "osop", "validate", "examples", check=False))


def bench() -> None:
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        run(PY, script, check=False)


PEERS_VENV = ROOT / ".venv-peers"
PEERS_REQUIREMENTS = ROOT / "bench" / "peers" / "requirements.txt"


def bench_peers() -> None:
    """The peer comparison: the peers (pinned) into their own venv, never .venv; then the run.

    Extra arguments go to bench/peers/run.py (``--quick``, ``--markdown``, ...).
    """
    python = make_venv(PEERS_VENV)
    run(python, "-m", "pip", "install", "--quiet", "-r", PEERS_REQUIREMENTS)
    script = ROOT / "bench" / "peers" / "run.py"
    sys.exit(run(PY, script, "--peers-python", python, *sys.argv[2:], check=False))


TASKS = {
    "setup": setup,
    "test": test,
    "lock": lock,
    "test-latest": test_latest,
    "studio": build_studio,
    "demo": demo,
    "bench": bench,
    "bench-peers": bench_peers,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    TASKS[sys.argv[1]]()
