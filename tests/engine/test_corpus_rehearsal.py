"""Every valid real-world workflow can be rehearsed (simulated) and dry-run without a hitch."""

from __future__ import annotations

import asyncio

import pytest
from corpus_dir import CORPUS

from osop.engine import RunOptions, VirtualClock, start_run
from osop.errors import OsopError
from osop.format.api import load_workflow

FILES = sorted(p for p in CORPUS.glob("*") if p.name != "MANIFEST.tsv") if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="the corpus is not available")
@pytest.mark.parametrize("mode", ["simulated", "dry_run"])
def test_corpus_workflows_run_to_an_end(mode: str) -> None:
    ran = 0
    for path in FILES:
        try:
            workflow = load_workflow(path)
        except OsopError:
            continue  # invalid files are the validator's business
        result = asyncio.run(
            asyncio.wait_for(
                start_run(
                    workflow,
                    source=path.read_bytes(),
                    workflow_path=path,
                    options=RunOptions(mode=mode, clock=VirtualClock(), seed=1),  # type: ignore[arg-type]
                ),
                timeout=60,
            )
        )
        ran += 1
        assert not result.paused, path.name
        assert result.status == "COMPLETED", (path.name, result.record.result_summary)
        engine_errors = [
            r.error.message
            for r in result.record.node_records
            if r.error is not None and r.error.code == "ENGINE_ERROR"
        ]
        assert not engine_errors, (path.name, engine_errors)
    assert ran > 150
