"""Every bench still runs (tiny sizes, one round): figures are not checked, only that
the script works against the current code and prints its rows. Speed claims live
in the benches themselves, never in a timed assertion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

SMOKE_ARGS: dict[str, list[str]] = {
    "bench_analysis.py": [
        "--records",
        "30",
        "--synth-records",
        "10",
        "--repeat",
        "1",
        "--memory-records",
        "30,90",
    ],
    "bench_cel.py": ["--smoke"],
    "bench_core.py": ["--smoke"],
    "bench_engine.py": ["--smoke"],
    "bench_hub.py": ["--packages", "20"],
    "bench_import.py": ["--sessions", "2", "--lines", "40", "--repeat", "1"],
    "bench_render.py": ["--smoke"],
    "bench_revisions.py": ["--smoke", "--against", "."],
    "bench_startup.py": ["--smoke"],
    "bench_studio.py": ["--smoke"],
    "bench_temporal.py": ["--smoke"],
    "bench_tracing.py": ["--smoke"],
    "bench_validate.py": ["--smoke"],
}


def test_every_bench_has_a_smoke_run() -> None:
    assert sorted(p.name for p in BENCH.glob("bench_*.py")) == sorted(SMOKE_ARGS)


#: benches that drive a browser (the studio's web app and Chromium)
BROWSER = {"bench_studio.py"}


def _params() -> list[object]:
    return [
        pytest.param(name, marks=[pytest.mark.browser] if name in BROWSER else [])
        for name in sorted(SMOKE_ARGS)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("script", _params())
def test_bench_runs(script: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *SMOKE_ARGS[script]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(BENCH.parent)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "the bench printed nothing"
    assert "Traceback" not in done.stderr
