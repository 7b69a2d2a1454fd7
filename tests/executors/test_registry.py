from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from osop.executors import registry
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.cli import CliExecutor
from osop.executors.simulator import SimulatedExecutor
from osop.format.vocabulary import NODE_TYPES

from .helpers import make_ctx, run


class FakeMcp:
    node_type = "mcp"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs={"from": "plugin"})


def fake_factory() -> FakeMcp:
    return FakeMcp()


class NotAnExecutor:
    node_type = "broken"

    def execute(self, ctx: NodeContext) -> NodeResult:  # not async
        return NodeResult()


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    registry.reset_registry()
    yield
    registry.reset_registry()


def _entry_points(monkeypatch: pytest.MonkeyPatch, *eps: EntryPoint) -> None:
    def fake(**kwargs: Any) -> list[EntryPoint]:
        assert kwargs == {"group": "osop.executors"}
        return list(eps)

    monkeypatch.setattr(registry, "entry_points", fake)


def _ep(name: str, target: str) -> EntryPoint:
    return EntryPoint(name=name, value=target, group="osop.executors")


def test_simulated_mode_always_uses_the_simulator() -> None:
    for node_type in NODE_TYPES:
        assert isinstance(registry.get_executor(node_type, "simulated"), SimulatedExecutor)


def test_live_mode_uses_the_builtin() -> None:
    assert isinstance(registry.get_executor("cli", "live"), CliExecutor)


def test_live_mode_without_executor_fails_loudly(tmp_path: Path) -> None:
    executor = registry.get_executor("not-a-type", "live")
    ctx = make_ctx({"id": "n", "type": "not-a-type"}, tmp_path)
    with pytest.raises(NodeFailure) as info:
        run(executor.execute(ctx))
    assert info.value.code == "NO_EXECUTOR"
    assert info.value.retryable is False
    assert "--mode simulated" in info.value.message


def test_dry_run_executes_nothing(tmp_path: Path) -> None:
    executor = registry.get_executor("cli", "dry_run")
    ctx = make_ctx({"id": "n", "type": "cli", "runtime": {"command": "touch x"}}, tmp_path)
    assert run(executor.execute(ctx)).outputs == {}
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "target",
    ["FakeMcp", "fake_factory"],
)
def test_entry_point_plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str) -> None:
    _entry_points(monkeypatch, _ep("mcp", f"{__package__}.test_registry:{target}"))
    executor = registry.get_executor("mcp", "live")
    assert isinstance(executor, FakeMcp)
    ctx = make_ctx({"id": "n", "type": "mcp"}, tmp_path)
    assert run(executor.execute(ctx)).outputs == {"from": "plugin"}
    assert registry.available_executors()["mcp"].startswith("plug-in ")


def test_plugin_overrides_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    _entry_points(monkeypatch, _ep("cli", f"{__package__}.test_registry:FakeMcp"))
    assert isinstance(registry.get_executor("cli", "live"), FakeMcp)


def test_broken_plugin_fails_when_its_type_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _entry_points(
        monkeypatch,
        _ep("broken", f"{__package__}.test_registry:NotAnExecutor"),
        _ep("gone", "no_such_module_xyz:Thing"),
    )
    for name in ("broken", "gone"):
        executor = registry.get_executor(name, "live")
        with pytest.raises(NodeFailure) as info:
            run(executor.execute(make_ctx({"id": "n", "type": name}, tmp_path)))
        assert info.value.code == "PLUGIN_ERROR"
        assert "failed to load" in info.value.message
    # Other types are unaffected.
    assert isinstance(registry.get_executor("cli", "live"), CliExecutor)


def test_register_executor_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    _entry_points(monkeypatch)
    registry.register_executor(FakeMcp(), "cli")
    assert isinstance(registry.get_executor("cli", "live"), FakeMcp)
    registry.register_executor(FakeMcp())
    assert isinstance(registry.get_executor("mcp", "live"), FakeMcp)
    assert registry.available_executors()["cli"].startswith("registered ")


def test_register_executor_checks_the_contract() -> None:
    with pytest.raises(TypeError):
        registry.register_executor(NotAnExecutor())  # type: ignore[arg-type]


def test_available_executors_lists_every_node_type(monkeypatch: pytest.MonkeyPatch) -> None:
    _entry_points(monkeypatch)
    listing = registry.available_executors()
    assert set(NODE_TYPES) <= set(listing)
    assert listing["cli"] == "built-in osop.executors.cli.CliExecutor"
    for node_type, source in listing.items():
        if source.startswith("built-in"):
            # Every advertised built-in really imports.
            assert registry.get_executor(node_type, "live").node_type == node_type


def test_docs_describe_every_node_type() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "executors.md").read_text()
    headings = [line for line in docs.splitlines() if line.startswith("### ")]
    for node_type in NODE_TYPES:
        assert any(node_type in heading for heading in headings), node_type
