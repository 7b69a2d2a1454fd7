"""What a live run hands to the shell is what the classifier judged and the approver saw."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from engine_helpers import Runner, statuses

from osop.engine import (
    RunOptions,
    RunStore,
    VirtualClock,
    deliver_answer,
    resume_run,
    start_run,
)
from osop.executors.cli import _fill_slots
from osop.format.api import load_workflow
from osop.format.workflow import workflow_from_dict

_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "release-check.osop.yaml"
_HOSTILE = '"; touch PWNED; echo "'


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("echo \x00osop-slot-0\x00", "a b; rm x", "echo 'a b; rm x'"),
        ('echo "v=\x00osop-slot-0\x00"', '"$(rm x)`y`\\', 'echo "v=\\"\\$(rm x)\\`y\\`\\\\"'),
        ("echo 'v=\x00osop-slot-0\x00'", "it's", "echo 'v=it'\\''s'"),
        ('echo "$(cat \x00osop-slot-0\x00)"', "a;b", "echo \"$(cat 'a;b')\""),
        ("echo $'\x00osop-slot-0\x00'", "a'\\", "echo $'a\\'\\\\'"),
        ('echo "a\\"\x00osop-slot-0\x00"', "$x", 'echo "a\\"\\$x"'),
    ],
)
def test_values_are_quoted_for_where_they_stand(template: str, value: str, expected: str) -> None:
    assert _fill_slots(template, [value]) == expected


def _run_live(tmp_path: Path, path: Path, **options: object) -> object:
    workflow = load_workflow(path)
    return asyncio.run(
        start_run(
            workflow,
            source=path.read_bytes(),
            workflow_path=path,
            store=RunStore(tmp_path / ".osop"),
            options=RunOptions(mode="live", workdir=tmp_path, seed=1, **options),  # type: ignore[arg-type]
        )
    )


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_bundled_example_is_not_injectable(tmp_path: Path) -> None:
    copy = tmp_path / "release-check.osop.yaml"
    copy.write_text(_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = _run_live(tmp_path, copy, inputs={"release": _HOSTILE})
    assert not (tmp_path / "PWNED").exists()
    gathered = next(r for r in result.record.node_records if r.node_id == "gather")  # type: ignore[attr-defined]
    assert _HOSTILE in str(gathered.outputs)  # printed as data, not run


def test_quoting_can_be_turned_off_by_the_author(runner: Runner) -> None:
    result = runner.run(
        {
            "id": "raw",
            "inputs": {"code": {"type": "string"}},
            "nodes": [
                {
                    "id": "a",
                    "type": "cli",
                    "runtime": {"command": "${inputs.code}", "quote_values": False},
                }
            ],
            "edges": [],
        },
        mode="live",
        inputs={"code": "touch made-by-code"},
    )
    assert statuses(result)["a"] == "COMPLETED"
    assert (runner.tmp / "made-by-code").exists()


def test_a_command_passed_through_runtime_env_is_classified(runner: Runner) -> None:
    (runner.tmp / "victim").mkdir()
    result = runner.run(
        {
            "id": "env-cmd",
            "inputs": {"cmd": {"type": "string"}},
            "nodes": [
                {
                    "id": "a",
                    "type": "cli",
                    "runtime": {"command": "$CMD", "env": {"CMD": "${inputs.cmd}"}},
                }
            ],
            "edges": [],
        },
        mode="live",
        inputs={"cmd": "rm -rf victim"},
    )
    assert result.paused, statuses(result)
    assert (runner.tmp / "victim").is_dir()


def _for_each_workflow() -> dict[str, object]:
    return {
        "id": "per-item",
        "nodes": [
            {
                "id": "list",
                "type": "cli",
                "runtime": {"command": 'echo \'{"targets": ["victim/build", "other"]}\''},
            },
            {"id": "clean", "type": "cli", "runtime": {"command": "rm -rf ${loop.item}"}},
        ],
        "edges": [
            {
                "from": "list",
                "to": "clean",
                "mode": "loop",
                "for_each": "outputs.list.targets",
                "iterator_var": "item",
            }
        ],
    }


def test_one_approval_covers_one_for_each_item(runner: Runner) -> None:
    (runner.tmp / "victim" / "build").mkdir(parents=True)
    (runner.tmp / "other").mkdir()
    first = runner.run(_for_each_workflow(), mode="live")
    assert first.paused
    waiting = first.waiting
    assert waiting and "victim/build" in str(waiting)
    deliver_answer(runner.store, first.run_id, "clean", {"approved": True})
    second = asyncio.run(
        resume_run(
            first.run_id, store=runner.store, options=RunOptions(mode="live", workdir=runner.tmp)
        )
    )
    assert not (runner.tmp / "victim" / "build").exists()
    # The approval was for `rm -rf victim/build` only: `rm -rf other` asks again.
    assert second.paused, statuses(second)
    assert (runner.tmp / "other").is_dir()
    assert "other" in str(second.waiting)


def test_child_runs_cannot_nest_without_end(tmp_path: Path) -> None:
    path = tmp_path / "self.osop.yaml"
    path.write_text(
        "osop_version: '1.1'\nid: self\nname: Self\n"
        "imports: [{path: self.osop.yaml, as: me}]\n"
        "nodes: [{id: a, type: system, workflow_ref: me}]\nedges: []\n",
        encoding="utf-8",
    )
    from osop.format.loader import load_path

    # Built without validation (the validator refuses the cycle): the engine must
    # still stop.
    workflow = workflow_from_dict(load_path(path, kind="workflow").data)
    result = asyncio.run(
        start_run(
            workflow,
            source=path.read_bytes(),
            workflow_path=path,
            store=RunStore(tmp_path / ".osop"),
            options=RunOptions(mode="simulated", workdir=tmp_path, clock=VirtualClock()),
        )
    )
    assert result.status == "FAILED"
    runs = list((tmp_path / ".osop").rglob("meta.json"))
    assert len(runs) <= 20
