"""Claiming a run: several processes resuming at once, exactly one wins."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

from osop.engine.store import RunStore
from osop.errors import RunStoreError


def _claim(root: str, run_id: str, results: mp.Queue[str], done: Any) -> None:
    handle = RunStore(Path(root)).get(run_id)
    try:
        handle.acquire()
    except RunStoreError:
        results.put("lost")
        return
    results.put("won")
    done.wait(60)  # hold it until every other claimant has tried


def test_one_winner_when_a_dead_owner_is_taken_over(tmp_path: Path) -> None:
    for trial in range(5):
        store = RunStore(tmp_path / str(trial))
        handle = store.create()
        handle.write_meta({"run_id": handle.run_id})
        handle.owner_path.write_text("999999999")  # a process that does not exist
        results: mp.Queue[str] = mp.Queue()
        done = mp.Event()
        procs = [
            mp.Process(target=_claim, args=(str(store.root), handle.run_id, results, done))
            for _ in range(4)
        ]
        for proc in procs:
            proc.start()
        outcome = sorted(results.get(timeout=60) for _ in procs)
        done.set()
        for proc in procs:
            proc.join(timeout=30)
        assert outcome == ["lost", "lost", "lost", "won"]


def test_the_owner_can_claim_again_and_release(tmp_path: Path) -> None:
    handle = RunStore(tmp_path).create()
    handle.acquire()
    handle.acquire()  # idempotent for the owner
    assert handle.owner_path.read_text() != ""
    handle.release()
    assert not handle.owner_path.exists()
