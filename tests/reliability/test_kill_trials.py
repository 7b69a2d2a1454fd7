"""Reliability trials: kill -9 at random instants (mid-write and during resume too).

Seeded: the seed is printed (``pytest -s``) and in every failure message; rerun a
failure with ``OSOP_RELIABILITY_SEED=<seed>``.  ``OSOP_RELIABILITY_TRIALS`` sets
the number of trials of each test (default 100).
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from crash_harness import (
    EXIT_CRASH,
    TRIALS,
    Trial,
    fork,
    kill_after_trace,
    kill_at,
    reap,
    seed,
    summary,
    tear_last_entry,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork, /proc, flock"),
]


def full_duration(tmp_path: Path) -> float:
    """How long one uninterrupted run takes here (kill instants are drawn within it)."""
    trial = Trial(tmp_path / "calibrate")
    trial.run_id = str(uuid.uuid4())
    began = time.monotonic()
    code = reap(fork(trial.start, tmp_path / "errors.txt"))
    assert code == 0, (tmp_path / "errors.txt").read_text() if code == EXIT_CRASH else code
    return time.monotonic() - began


def test_kill_9_at_random_instants(tmp_path: Path) -> None:
    base = seed()
    rng = random.Random(base)
    errors = tmp_path / "errors.txt"
    span = full_duration(tmp_path) * 1.2
    counts: Counter[str] = Counter()
    problems: list[str] = []
    number = 0
    while counts["trials with a kill"] < TRIALS and number < 3 * TRIALS:
        number += 1
        mid_write = number % 4 == 0
        size = 4 * 1024 * 1024 if mid_write else rng.choice([64 * 1024, 1024 * 1024])
        # Every 3rd trial rewrites its record at every step: more records on disk to check.
        trial = Trial(tmp_path / f"t{number}", big=size, record_interval=2.0 * (number % 3 > 0))
        trial.run_id = str(uuid.uuid4())
        journal = trial.store.runs / trial.run_id / "journal.jsonl"
        where = f"seed {base} trial {number}"
        # 1. the run, killed at a random instant; every 4th right as it writes a large
        #    entry (if the kill misses the write, the tear it would leave is made by hand)
        pid = fork(trial.start, errors)
        if mid_write:
            code = kill_after_trace(pid, trial.trace, "done big", rng.uniform(0, 0.004), span * 3)
            if code == -9:
                if journal.read_bytes()[-1:] != b"\n":
                    counts["torn by the kill"] += 1
                elif tear_last_entry(journal, rng):
                    counts["torn by hand after the kill"] += 1
        else:
            code = kill_at(pid, rng.uniform(0, span))
        counts["run killed" if code == -9 else "run ended before the kill"] += 1
        if not journal.exists() or not journal.read_bytes().startswith(b'{"t":"run"'):
            # Killed before the run's first entry: nothing ran, there is nothing to resume.
            counts["killed before the run existed"] += 1
            if trial.trace_lines():
                problems.append(f"{where}: a node ran before the run was journaled")
            continue
        sessions = [("run", code)]
        # 2. a resume, itself killed at a random instant a third of the time
        for attempt in range(2):
            entries = trial.journal(f"{where} after {sessions[-1][0]}")
            trial.check_record_file(f"{where} after {sessions[-1][0]}")
            if entries is None:
                break
            completed = trial.completed_nodes(entries)
            seen = len(trial.trace_lines())
            if attempt == 1:
                trial.check_rebuilt_record(f"{where} before the final resume")
            pid = fork(trial.resume, errors)
            if attempt == 0 and rng.random() < 1 / 3:
                code = kill_at(pid, rng.uniform(0, span))
                counts["resume killed" if code == -9 else "resume ended before the kill"] += 1
            else:
                code = reap(pid)
                if code == -9:
                    problems.append(f"{where}: the final resume was killed")
            sessions.append(("resume", code))
            trial.check_not_rerun(completed, seen, f"{where} resume {attempt + 1}")
        counts["trials"] += 1
        codes = [c for _, c in sessions]
        counts["trials with a kill"] += -9 in codes
        if EXIT_CRASH in codes:
            problems.append(f"{where}: a session crashed (see {errors})")
        entries = trial.journal(f"{where} at the end")
        trial.check_record_file(f"{where} at the end")
        status = trial.finished_status() if entries else None
        if status != "COMPLETED":
            problems.append(f"{where}: ended {status} (sessions {sessions})")
        if trial.stray_processes():
            problems.append(f"{where}: processes of the run still alive")
        if any(e.get("t") == "recovered" for e in entries or ()):
            counts["torn tail recovered"] += 1
        if any(e.get("t") == "interrupted" and e.get("processes") for e in entries or ()):
            counts["stale process group handled"] += 1
        problems.extend(trial.problems)
    counts["corrupt journals"] = sum("corrupt journal" in p for p in problems)
    counts["invalid records"] = sum("invalid record" in p for p in problems)
    counts["completed nodes re-run"] = sum("ran again" in p for p in problems)
    print(f"kill -9 trials (seed {base}): {summary(counts)}")
    assert not problems, "\n".join(problems[:20]) + (
        f"\n{errors.read_text()}" if errors.exists() else ""
    )
    assert counts["trials with a kill"] >= TRIALS
