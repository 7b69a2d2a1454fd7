"""Reliability trials: resume, cancel, approve and status racing on one run.

Seeded: the seed is printed (``pytest -s``) and in every failure message; rerun a
failure with ``OSOP_RELIABILITY_SEED=<seed>``.  ``OSOP_RELIABILITY_TRIALS`` sets
the number of trials of each test (default 100).
"""

from __future__ import annotations

import random
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from crash_harness import EXIT_CRASH, TRIALS, Trial, fork, kill_at, reap, seed, summary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork, /proc, flock"),
]


RACERS = ("resume", "resume", "cancel", "approve", "status")


def test_racing_resume_cancel_and_approve_never_wedge_a_run(tmp_path: Path) -> None:
    base = seed()
    rng = random.Random(base + 1)
    errors = tmp_path / "errors.txt"
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for number in range(TRIALS):
        trial = Trial(tmp_path / f"r{number}", big=1024, pause=0.005, gated=True, small=True)
        trial.run_id = str(uuid.uuid4())
        where = f"seed {base} race {number}"
        code = reap(fork(trial.start, errors))
        if code != 3:  # paused at the approval
            problems.append(f"{where}: setup run exited {code}")
            continue
        if rng.random() < 0.5:  # sometimes the paused run is first resumed and killed
            kill_at(fork(trial.resume, errors), rng.uniform(0, 0.05))
        chosen = [rng.choice(RACERS) for _ in range(rng.randint(2, 4))]
        pids = []
        for name in chosen:
            target = {
                "resume": trial.resume,
                "cancel": trial.cancel,
                "approve": trial.approve,
                "status": trial.status,
            }[name]
            pids.append(fork(target, errors))
        victim = rng.randrange(len(pids)) if rng.random() < 0.3 else None
        codes = []
        for index, pid in enumerate(pids):
            codes.append(kill_at(pid, rng.uniform(0, 0.05)) if index == victim else reap(pid))
        counts["races"] += 1
        counts["racers"] += len(pids)
        counts["racers killed"] += codes.count(-9)
        counts["refused"] += codes.count(40)
        if EXIT_CRASH in codes:
            problems.append(f"{where}: a racer crashed ({chosen} → {codes}; see {errors})")
        entries = trial.journal(f"{where} after the race")
        if entries is None:
            problems.extend(trial.problems)
            continue
        trial.check_record_file(f"{where} after the race")
        status = trial.finished_status()
        if status is None:
            # Not ended: it must not be wedged — a resume takes it to the end.
            code = reap(fork(trial.resume, errors))
            status = trial.finished_status()
            if status is None:
                problems.append(f"{where}: wedged ({chosen} → {codes}); resume exited {code}")
                continue
            counts["finished by a later resume"] += 1
        trial.check_rebuilt_record(f"{where} at the end")
        record = trial.handle_path / "record.osoplog.json"
        if status not in record.read_text():
            problems.append(f"{where}: journal ended {status}, record disagrees")
        counts[f"ended {status}"] += 1
        problems.extend(trial.problems)
    counts["wedged"] = sum("wedged" in p for p in problems)
    print(f"race trials (seed {base}): {summary(counts)}")
    assert not problems, "\n".join(problems[:20]) + (
        f"\n{errors.read_text()}" if errors.exists() else ""
    )
