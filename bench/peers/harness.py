"""The pieces of the peer comparison that are ours: measuring and reporting.

Standard library only: the OSOP side imports this from the project's environment,
each peer's side from `.venv-peers`, where OSOP is not installed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: the two workloads, in the order the table shows them
WORKLOADS = ("chain", "fan")


# -- measuring (inside a peer's subprocess) ------------------------------------------


def store_bytes(*paths: Path) -> int:
    """Bytes held by the files at ``paths`` (a file, or every file under a folder).

    Apparent sizes (``st_size``); a path that does not exist holds nothing. A
    SQLite database is better measured by ``sqlite_bytes``: its write-ahead log is
    reused in place, so file sizes miss what is written into it.
    """
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            for root, _dirs, files in os.walk(path):
                for name in files:
                    try:
                        total += (Path(root) / name).stat().st_size
                    except FileNotFoundError:  # removed while we walked
                        continue
    return total


def sqlite_bytes(path: Path) -> int:
    """The pages a SQLite database holds data in: (page_count − freelist_count) × page_size.

    Read through a read-only connection, so what sits in the write-ahead log counts
    (a reader sees it) and free pages do not; 0 for a database not created yet.
    """
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    return int((pages - free) * page_size)


@dataclass(frozen=True)
class Store:
    """Where a system keeps what makes its runs durable: files, or a SQLite database."""

    path: Path
    sqlite: bool = False

    def size(self) -> int:
        return sqlite_bytes(self.path) if self.sqlite else store_bytes(self.path)


def settle(
    store: Store,
    sample: Callable[[], float | None] = lambda: None,
    *,
    quiet: float = 1.0,
    timeout: float = 120.0,
    poll: float = 0.2,
) -> tuple[int, float | None]:
    """``store.size()`` once it has not changed for ``quiet`` seconds, and ``sample()``
    as it was at the store's last change.

    A server may still be writing what a run it has already answered produced
    (Prefect records task states from events, after the flow has returned); its CPU
    is counted up to its last write for the run, not through the quiet wait.
    """
    last, at_last = store.size(), sample()
    changed = time.monotonic()
    deadline = changed + timeout
    while time.monotonic() < deadline:
        time.sleep(poll)
        now, sampled = store.size(), sample()
        if now != last:
            last, at_last, changed = now, sampled, time.monotonic()
        elif time.monotonic() - changed >= quiet:
            break
    return last, at_last


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (Linux ``/proc``); empty where there is none."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: Iterable[int]) -> float | None:
    """User + system CPU seconds the live processes ``pids`` have used so far.

    ``None`` where ``/proc`` cannot tell (not Linux).
    """
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    seen = False
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is None:
            continue
        seen = True
        # Fields 14 and 15 of /proc/PID/stat (utime, stime) are 11 and 12 after the name.
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total if seen else None


@dataclass
class Measured:
    """One round of one workload on one system, as its subprocess reports it."""

    nodes: int
    cpu: float  # CPU seconds of the process doing the work (all its threads)
    wall: float
    server_cpu: float | None = None  # CPU seconds of the server processes, where there are
    store: int | None = None  # bytes the durable store grew by during the run
    version: str = ""

    @property
    def total_cpu(self) -> float:
        return self.cpu + (self.server_cpu or 0.0)


def measure(
    run: Callable[[], object],
    *,
    nodes: int,
    version: str,
    store: Store | None = None,
    server_pids: Callable[[], Iterable[int]] | None = None,
    settle_store: bool = False,
) -> Measured:
    """Time ``run()``: this process's CPU and wall time, the servers' CPU, the store's growth.

    Everything that sets a system up (imports, the graph or workflow built, the
    server started, one warm-up run) happens before; only the run is timed. With
    ``settle_store`` the store and the servers' CPU are read once the store stops
    changing (see ``settle``), else right after the run.
    """
    pids = list(server_pids()) if server_pids else []

    def server_cpu() -> float | None:
        return cpu_seconds(pids) if pids else None

    before_store = store.size() if store else None
    before_server = server_cpu()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    after_store, after_server = None, server_cpu()
    if store is not None:
        after_store = store.size()
        if settle_store:
            after_store, settled_server = settle(store, server_cpu)
            after_server = settled_server if settled_server is not None else after_server
    return Measured(
        nodes=nodes,
        cpu=cpu,
        wall=wall,
        server_cpu=None
        if before_server is None or after_server is None
        else after_server - before_server,
        store=None if after_store is None or before_store is None else after_store - before_store,
        version=version,
    )


def emit(measured: Measured) -> None:
    """The subprocess's answer: one JSON line on stdout, read by run.py."""
    print(json.dumps(measured.__dict__), flush=True)


def parse_output(stdout: str) -> Measured:
    """The last JSON line a peer's subprocess printed (libraries may print before it)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return Measured(**json.loads(line))
    raise ValueError("the subprocess printed no measurement")


def worker_args(argv: Sequence[str]) -> tuple[str, int, Path]:
    """``WORKLOAD SIZE FOLDER`` of a peer's subprocess."""
    if len(argv) != 3 or argv[0] not in WORKLOADS:
        sys.exit(f"usage: {{{','.join(WORKLOADS)}}} SIZE FOLDER (got {' '.join(argv)})")
    return argv[0], int(argv[1]), Path(argv[2])


# -- reporting ---------------------------------------------------------------------


@dataclass
class Outcome:
    """All rounds of one workload on one system, or why it did not run."""

    system: str
    workload: str
    rounds: list[Measured] = field(default_factory=list)
    problem: str | None = None  # "not installed: ..." or "failed: ..."

    def median(self, value: Callable[[Measured], float | None]) -> float | None:
        values = [v for v in (value(m) for m in self.rounds) if v is not None]
        return statistics.median(values) if values else None

    @property
    def nodes(self) -> int:
        return self.rounds[0].nodes if self.rounds else 0

    def per_node(self, value: Callable[[Measured], float | None]) -> float | None:
        found = self.median(value)
        return None if found is None or not self.nodes else found / self.nodes


def ratio(value: float | None, baseline: float | None) -> str:
    """``value / baseline`` as ``4.20×``; ``—`` where either is missing or the baseline 0."""
    if value is None or baseline is None or baseline <= 0:
        return "—"
    return f"{value / baseline:.2f}×"


def per_node_time(seconds: float | None) -> str:
    """Seconds per node in the unit that reads best: ``666 µs``, ``4.10 ms``, ``1.20 s``."""
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def size(count: float | None) -> str:
    """Bytes as ``512 B``, ``6.2 MB``, ``6.9 GB`` (powers of 1,000)."""
    if count is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count:.0f} B"


HEADERS = (
    "system",
    "CPU/node",
    "× OSOP",
    "of which server",
    "wall/node",
    "× OSOP",
    "store",
    "× OSOP",
)


def table_rows(
    outcomes: Sequence[Outcome], workload: str, baseline: str, labels: Mapping[str, str]
) -> list[tuple[str, ...]]:
    """One row per system for ``workload``; ratios against the ``baseline`` system's medians.

    CPU is the process doing the work plus any server it needs (the "of which
    server" column says how much of it the server took); the store column is the
    durable store's growth during the run.
    """
    mine = [o for o in outcomes if o.workload == workload]
    base = next((o for o in mine if o.system == baseline and not o.problem), None)

    def cpu(m: Measured) -> float:
        return m.total_cpu

    def wall(m: Measured) -> float:
        return m.wall

    def store(m: Measured) -> float | None:
        return None if m.store is None else float(m.store)

    def server(m: Measured) -> float | None:
        return m.server_cpu

    rows: list[tuple[str, ...]] = []
    for outcome in mine:
        name = labels.get(outcome.system, outcome.system)
        if outcome.problem:
            rows.append((name, outcome.problem, *[""] * (len(HEADERS) - 2)))
            continue
        base_cpu = base.per_node(cpu) if base else None
        base_wall = base.per_node(wall) if base else None
        base_store = base.median(store) if base else None
        rows.append(
            (
                name,
                per_node_time(outcome.per_node(cpu)),
                ratio(outcome.per_node(cpu), base_cpu),
                per_node_time(outcome.per_node(server)),
                per_node_time(outcome.per_node(wall)),
                ratio(outcome.per_node(wall), base_wall),
                size(outcome.median(store)),
                ratio(outcome.median(store), base_store),
            )
        )
    return rows


def render(rows: Sequence[Sequence[str]], *, markdown: bool = False) -> str:
    """Rows under HEADERS, as aligned text or as a Markdown table.

    A row whose second cell is a problem (the rest empty) spans the line in text.
    """
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    full = [r for r in rows if any(r[2:])]
    widths = [max(len(h), *(len(r[i]) for r in full)) for i, h in enumerate(HEADERS)]
    widths[0] = max([widths[0], *(len(r[0]) for r in rows)])

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    out = [line(HEADERS)]
    for row in rows:
        out.append(line(row) if any(row[2:]) else f"{row[0].ljust(widths[0])}  {row[1]}")
    return "\n".join(out)
