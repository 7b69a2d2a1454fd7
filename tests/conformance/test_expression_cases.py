"""The expression semantics suite: every case runs through the validator AND the engine.

Each ``expressions/*.yaml`` is a workflow plus what must happen to its references
(docs/expressions.md).  Both sides must agree:

- ``verdict: resolves`` — the validator reports nothing about references
  (no ``cel/`` or ``ref/`` issue besides the notes listed in ``_NOT_VERDICTS``)
  and a live run completes with the expected ``outputs`` / ``nodes``;
- ``verdict: fails`` — the validator reports an issue (``rule``) naming
  ``reference``, and a live run FAILS with an error naming the same reference
  (never an empty string, never a silently untaken edge).

Case keys: ``description``, ``workflow`` (the document without ``osop_version``/
``name``), ``inputs``, ``secrets``, ``expect: {verdict, reference, rule, outputs,
nodes, absent}``.  Adding a case is adding a file.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.engine import RunOptions, RunStore, SystemClock, start_run
from osop.format.validate import validate_text
from osop.format.workflow import workflow_from_dict
from osop.security import SecretStore

CASES = sorted((Path(__file__).parent / "expressions").glob("*.yaml"))
#: Notes that are not a verdict on a reference.
_NOT_VERDICTS = frozenset({"cel/legacy-operator", "ref/not-interpolated"})


def _load(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text())
    assert isinstance(case, dict) and "workflow" in case and "expect" in case, path.name
    return case


def _write_workflow(case: dict[str, Any], folder: Path, name: str) -> Path:
    document = {"osop_version": "1.1", "id": name, "name": name, **case["workflow"]}
    path = folder / f"{name}.osop.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _reference_issues(path: Path) -> list[Any]:
    report = validate_text(path.read_text(), path.name, base_dir=path.parent)
    return [
        issue
        for issue in report.issues
        if issue.rule.split("/")[0] in ("cel", "ref") and issue.rule not in _NOT_VERDICTS
    ]


def _run(case: dict[str, Any], path: Path, folder: Path) -> Any:
    options = RunOptions(
        mode="live",
        inputs=dict(case.get("inputs") or {}),
        secrets=SecretStore(case.get("secrets") or {}, environ={}),
        env={"PATH": "/usr/bin:/bin", **(case.get("env") or {})},
        workdir=folder,
        seed=1,
        clock=SystemClock(),
    )
    store = RunStore(folder / ".osop")
    # Not load_workflow: it refuses what the validator calls an error, and here the
    # engine must reach its own verdict.
    workflow = workflow_from_dict(yaml.safe_load(path.read_text()))
    return asyncio.run(
        start_run(
            workflow, source=path.read_bytes(), workflow_path=path, store=store, options=options
        )
    )


def _needs_shell(case: dict[str, Any]) -> bool:
    return any(n.get("type") == "cli" for n in case["workflow"].get("nodes", []))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_validator_and_engine_agree(path: Path, tmp_path: Path) -> None:
    case = _load(path)
    if _needs_shell(case) and shutil.which("sh") is None:
        pytest.skip("the case runs a shell command")
    expect = case["expect"]
    verdict = expect["verdict"]
    assert verdict in ("resolves", "fails"), path.name
    workflow_path = _write_workflow(case, tmp_path, path.stem)

    issues = _reference_issues(workflow_path)
    result = _run(case, workflow_path, tmp_path)
    record = result.record
    summary = [(r.node_id, r.status, r.error) for r in record.node_records]

    if verdict == "resolves":
        assert issues == [], [i.format(path.name) for i in issues]
        assert record.status == "COMPLETED", summary
        last = {r.node_id: r for r in record.node_records}
        for node, subset in (expect.get("outputs") or {}).items():
            outputs = last[node].outputs or {}
            for key, value in subset.items():
                assert outputs.get(key) == value, f"{node}.{key}: {outputs}"
        for node, status in (expect.get("nodes") or {}).items():
            assert last[node].status == status, summary
    else:
        reference = str(expect["reference"])
        naming = [i for i in issues if reference in i.message]
        assert naming, f"no validator issue names {reference!r}: " + "; ".join(
            i.format(path.name) for i in issues
        )
        if expect.get("rule"):
            assert expect["rule"] in {i.rule for i in naming}, [i.rule for i in naming]
        assert record.status == "FAILED", summary
        errors = [r.error.message for r in record.node_records if r.error is not None]
        failure = record.extra.get("x-failure") or {}  # an edge that could not be decided
        errors.append(str((failure.get("error") or {}).get("message", "")))
        assert any(reference in message for message in errors), (
            f"no run error names {reference!r}: {errors}"
        )
    if expect.get("absent"):
        texts = [json.dumps(record.to_dict(), default=str)]
        assert result.handle is not None
        texts += [
            p.read_text(errors="replace") for p in result.handle.path.iterdir() if p.is_file()
        ]
        for secret in expect["absent"]:
            assert all(secret not in text for text in texts), f"{secret!r} leaked"


def test_the_suite_covers_both_verdicts_and_both_syntaxes() -> None:
    cases = [_load(p) for p in CASES]
    verdicts = {c["expect"]["verdict"] for c in cases}
    assert verdicts == {"resolves", "fails"}
    texts = [json.dumps(c["workflow"]) for c in cases]
    assert any("${" in t for t in texts) and any('"when"' in t for t in texts)
