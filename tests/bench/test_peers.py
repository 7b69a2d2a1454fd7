"""bench/peers: the harness keeps running without the peers, and its own pieces are right.

CI never installs LangGraph, Temporal's bench venv or Prefect: the smoke runs
below see them as not installed. The figures themselves are never checked.
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

PEERS = Path(__file__).resolve().parents[2] / "bench" / "peers"


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peers_harness", PEERS / "harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


h = _load_harness()


def _bench(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PEERS / "run.py"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(PEERS.parents[1])},
        timeout=600,
    )


# -- the whole harness, OSOP only --------------------------------------------------


@pytest.mark.slow
def test_smoke_run_with_no_peers_reports_them_not_installed(tmp_path: Path) -> None:
    done = _bench(
        "--smoke", "--peers-python", str(tmp_path / "absent" / "python"), tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    out = done.stdout
    # every peer, in both workloads, says how to install it
    for label in ("LangGraph", "Temporal", "Prefect"):
        rows = [line for line in out.splitlines() if line.startswith(label)]
        assert len(rows) == 2, out
        assert all("not installed: python3 tasks.py bench-peers" in row for row in rows), rows
    # OSOP measured itself in both workloads: a figure per node and its own ratio
    osop_rows = [line for line in out.splitlines() if line.startswith("OSOP")]
    assert len(osop_rows) == 2, out
    assert all("1.00×" in row and ("µs" in row or "ms" in row) for row in osop_rows), osop_rows


@pytest.mark.slow
def test_peers_python_without_the_packages_names_the_requirements(tmp_path: Path) -> None:
    # This interpreter has OSOP but neither LangGraph nor Prefect.
    done = _bench(
        "--smoke",
        "--markdown",
        "--systems",
        "osop,langgraph,prefect",
        "--peers-python",
        sys.executable,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [
        line for line in done.stdout.splitlines() if line.startswith(("| LangGraph", "| Prefect"))
    ]
    assert len(rows) == 4, done.stdout
    assert all("not installed:" in r and "requirements.txt" in r for r in rows), rows


def test_systems_must_include_the_baseline(tmp_path: Path) -> None:
    done = _bench("--smoke", "--systems", "langgraph", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "osop (the baseline) is missing" in done.stderr


# -- formatting --------------------------------------------------------------------


def test_ratio() -> None:
    assert h.ratio(4.2, 1.0) == "4.20×"
    assert h.ratio(0.5, 2.0) == "0.25×"
    assert h.ratio(None, 1.0) == "—"
    assert h.ratio(1.0, None) == "—"
    assert h.ratio(1.0, 0.0) == "—"


def test_per_node_time_picks_the_unit() -> None:
    assert h.per_node_time(666e-6) == "666 µs"
    assert h.per_node_time(4.104e-3) == "4.10 ms"
    assert h.per_node_time(1.2) == "1.20 s"
    assert h.per_node_time(None) == "—"


def test_size_in_powers_of_a_thousand() -> None:
    assert h.size(512) == "512 B"
    assert h.size(8_100) == "8.1 kB"
    assert h.size(6_200_000) == "6.2 MB"
    assert h.size(6.9e9) == "6.9 GB"
    assert h.size(None) == "—"


def _m(cpu: float, wall: float, store: int | None = None, server: float | None = None) -> object:
    return h.Measured(nodes=100, cpu=cpu, wall=wall, server_cpu=server, store=store)


def test_table_rows_are_medians_per_node_with_ratios_to_the_baseline() -> None:
    outcomes = [
        h.Outcome(
            "osop", "chain", [_m(0.01, 0.02, 1000), _m(0.03, 0.04, 3000), _m(0.02, 0.03, 2000)]
        ),
        h.Outcome("peer", "chain", [_m(0.05, 0.06, 8000, server=0.03)]),
        h.Outcome("gone", "chain", problem="not installed: pip install gone"),
        h.Outcome("osop", "fan", [_m(1.0, 1.0)]),
    ]
    labels = {"osop": "OSOP", "peer": "Peer"}
    rows = h.table_rows(outcomes, "chain", "osop", labels)
    assert rows[0] == ("OSOP", "200 µs", "1.00×", "—", "300 µs", "1.00×", "2.0 kB", "1.00×")
    # CPU counts the server's share too: (0.05 + 0.03) / 100 nodes
    assert rows[1] == ("Peer", "800 µs", "4.00×", "300 µs", "600 µs", "2.00×", "8.0 kB", "4.00×")
    assert rows[2][:2] == ("gone", "not installed: pip install gone")
    assert all(cell == "" for cell in rows[2][2:])


def test_table_rows_without_a_measured_baseline_have_no_ratios() -> None:
    outcomes = [
        h.Outcome("osop", "chain", problem="failed: boom"),
        h.Outcome("peer", "chain", [_m(0.05, 0.06)]),
    ]
    peer = h.table_rows(outcomes, "chain", "osop", {})[1]
    assert peer[2] == "—" and peer[5] == "—"


def test_render_text_aligns_and_lets_a_problem_span_the_row() -> None:
    rows = [
        ("OSOP", "200 µs", "1.00×", "—", "300 µs", "1.00×", "2.0 kB", "1.00×"),
        ("Peer", "not installed: python3 tasks.py bench-peers", "", "", "", "", "", ""),
    ]
    text = h.render(rows).splitlines()
    assert text[0].split()[0] == "system"
    assert text[1].startswith("OSOP ") and text[1].endswith("1.00×")
    assert text[2] == "Peer    not installed: python3 tasks.py bench-peers"  # after the name column
    # the columns line up: each header ends where its figures end
    assert text[0].index("CPU/node") + len("CPU/node") == text[1].index("200 µs") + len("200 µs")


def test_render_markdown() -> None:
    rows = [("OSOP", "200 µs", "1.00×", "—", "300 µs", "1.00×", "2.0 kB", "1.00×")]
    lines = h.render(rows, markdown=True).splitlines()
    assert lines[0].startswith("| system | CPU/node |")
    assert lines[1] == "|---|---|---|---|---|---|---|---|"
    assert lines[2] == "| OSOP | 200 µs | 1.00× | — | 300 µs | 1.00× | 2.0 kB | 1.00× |"


def test_parse_output_takes_the_last_json_line() -> None:
    text = 'a library says hello\n{"nodes": 3, "cpu": 0.1, "wall": 0.2}\n'
    assert h.parse_output(text) == h.Measured(nodes=3, cpu=0.1, wall=0.2)
    with pytest.raises(ValueError):
        h.parse_output("nothing here\n")


# -- measuring ---------------------------------------------------------------------


def test_store_bytes_counts_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "journal").write_bytes(b"x" * 300)
    (tmp_path / "run" / "deeper").mkdir()
    (tmp_path / "run" / "deeper" / "record").write_bytes(b"y" * 45)
    (tmp_path / "single").write_bytes(b"z" * 7)
    assert h.store_bytes(tmp_path / "run") == 345
    assert h.store_bytes(tmp_path / "single") == 7
    assert h.store_bytes(tmp_path / "run", tmp_path / "single") == 352
    assert h.store_bytes(tmp_path / "absent") == 0
    assert h.Store(tmp_path / "run").size() == 345


def test_sqlite_bytes_counts_pages_in_use_including_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    assert h.sqlite_bytes(path) == 0
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # keep what follows in the log
    writer.execute("CREATE TABLE t (v BLOB)")
    writer.commit()
    empty = h.sqlite_bytes(path)
    writer.execute("INSERT INTO t VALUES (?)", (b"x" * 200_000,))
    writer.commit()
    # the main file has not grown: the rows sit in the write-ahead log, and count
    assert path.stat().st_size < 100_000
    grown = h.sqlite_bytes(path)
    assert grown - empty >= 190_000
    writer.execute("DELETE FROM t")
    writer.commit()
    assert h.sqlite_bytes(path) < grown  # freed pages hold no data
    writer.close()
    assert h.Store(path, sqlite=True).size() == h.sqlite_bytes(path)


def test_settle_waits_for_the_store_to_stop_changing(tmp_path: Path) -> None:
    sizes = iter([10, 20, 30])
    samples = iter(range(100))

    class Growing:
        def size(self) -> int:
            return next(sizes, 30)

    size, sampled = h.settle(Growing(), lambda: float(next(samples)), quiet=0.05, poll=0.01)
    assert size == 30
    assert sampled == 2.0  # the sample taken with the last change, not the quiet wait's


def test_cpu_seconds_and_descendants_from_proc() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc here")
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
         "while time.process_time() < end: pass\ntime.sleep(30)"]
    )  # fmt: skip
    try:
        assert child.pid in h.descendants(os.getpid())
        deadline = time.monotonic() + 30
        used = h.cpu_seconds([child.pid])
        while (used or 0) < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
            used = h.cpu_seconds([child.pid])
        assert used is not None and used >= 0.2
    finally:
        child.kill()
        child.wait()
    assert h.cpu_seconds([child.pid]) is None  # gone: nothing to read


def test_measure_times_the_run_and_the_store_growth(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "old").write_bytes(b"o" * 50)

    def run() -> None:
        (store / "new").write_bytes(b"n" * 120)
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    measured = h.measure(run, nodes=4, version="v", store=h.Store(store))
    assert measured.store == 120  # what the run added, not what was there
    assert measured.cpu >= 0.02 and measured.wall >= measured.cpu * 0.5
    assert measured.server_cpu is None
    assert measured.nodes == 4 and measured.version == "v"
