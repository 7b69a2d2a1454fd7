"""Which executor runs a node of a given type in a given mode.

* ``simulated``: always the simulator (:mod:`osop.executors.simulator`).
* ``dry_run``: the engine executes nothing; asking anyway gets an executor
  that does nothing and says so.
* ``live``: in order of precedence, an executor registered with
  :func:`register_executor`, a plug-in from the ``osop.executors`` entry-point
  group, the built-in executor for the type.  A type with none of these gets
  an executor that fails with ``NO_EXECUTOR`` — never a silent skip.

Plug-ins: a distribution declares, e.g. in ``pyproject.toml``::

    [project.entry-points."osop.executors"]
    mcp = "my_package.mcp:McpExecutor"

The entry point's name should be the node type; the object it loads is an
executor class or factory (called with no arguments) or a ready executor
instance, and must have ``node_type`` and ``async execute(ctx)``.  A plug-in
that fails to load is reported as ``PLUGIN_ERROR`` when a node of its type
runs, not when OSOP starts.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, Final

from osop.executors.base import Executor, NodeContext, NodeFailure, NodeResult, RunMode
from osop.format.vocabulary import NODE_TYPES

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_executors",
    "get_executor",
    "register_executor",
    "reset_registry",
]

ENTRY_POINT_GROUP: Final = "osop.executors"

#: Built-in live executors: node type → "module:Class" (imported on first use).
_BUILTIN: Final[dict[str, str]] = {
    "cli": "osop.executors.cli:CliExecutor",
    "api": "osop.executors.api:ApiExecutor",
    "human": "osop.executors.human:HumanExecutor",
    "data": "osop.executors.data:DataExecutor",
    "system": "osop.executors.system:SystemExecutor",
    "gateway": "osop.executors.gateway:GatewayExecutor",
    "event": "osop.executors.event:EventExecutor",
    "company": "osop.executors.message:CompanyExecutor",
    "department": "osop.executors.message:DepartmentExecutor",
    "agent": "osop.executors.agent:AgentExecutor",
    "db": "osop.executors.db:DbExecutor",
    "mcp": "osop.executors.mcp:McpExecutor",
    "git": "osop.executors.git:GitExecutor",
    "docker": "osop.executors.docker:DockerExecutor",
    "cicd": "osop.executors.cicd:CicdExecutor",
    "infra": "osop.executors.infra:InfraExecutor",
}


def entry_points(**selection: str) -> Any:
    """``importlib.metadata.entry_points``, imported on first use (it is slow to import)."""
    from importlib.metadata import entry_points as _entry_points

    return _entry_points(**selection)


class MissingExecutor:
    """Stands in for a type nothing can run live: fails loudly and is not retried."""

    def __init__(self, node_type: str, code: str = "NO_EXECUTOR", message: str | None = None):
        self.node_type = node_type
        self.code = code
        self.message = message or (
            f"no executor for node type {node_type!r} in live mode; run with --mode simulated "
            "or install a plug-in that provides it"
        )

    async def execute(self, ctx: NodeContext) -> NodeResult:
        raise NodeFailure(self.code, self.message, retryable=False)


class DryRunExecutor:
    """``dry_run`` executes nothing (the engine normally never asks for an executor)."""

    node_type = "*"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(log=[f"dry run: {ctx.node.type} node {ctx.node.id!r} not executed"])


class _Registry:
    def __init__(self) -> None:
        self.registered: dict[str, Executor] = {}
        self.plugins: dict[str, Executor] | None = None
        self.plugin_sources: dict[str, str] = {}
        self.builtin: dict[str, Executor] = {}
        self.simulator: Executor | None = None


_registry = _Registry()


def reset_registry() -> None:
    """Forget registered executors and loaded plug-ins (tests; re-reads entry points)."""
    global _registry
    _registry = _Registry()


def register_executor(executor: Executor, node_type: str | None = None) -> None:
    """Use ``executor`` for live runs of ``node_type`` (default: ``executor.node_type``)."""
    _check(executor, "register_executor")
    _registry.registered[node_type or executor.node_type] = executor


def _check(executor: Any, source: str) -> None:
    if not isinstance(getattr(executor, "node_type", None), str):
        raise TypeError(f"{source}: executor has no string attribute node_type")
    if not inspect.iscoroutinefunction(getattr(executor, "execute", None)):
        raise TypeError(f"{source}: executor has no `async def execute(self, ctx)`")


def _instantiate(obj: Any) -> Executor:
    if (
        callable(obj) and not inspect.iscoroutinefunction(getattr(obj, "execute", None))
    ) or inspect.isclass(obj):
        obj = obj()
    return obj  # type: ignore[no-any-return]


def _load_plugins() -> dict[str, Executor]:
    if _registry.plugins is not None:
        return _registry.plugins
    plugins: dict[str, Executor] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        source = f"{ep.value} (entry point {ep.name!r})"
        try:
            executor = _instantiate(ep.load())
            _check(executor, source)
        except Exception as exc:  # a broken plug-in must not break other node types
            plugins[ep.name] = MissingExecutor(
                ep.name, "PLUGIN_ERROR", f"plug-in {source} failed to load: {exc}"
            )
            _registry.plugin_sources[ep.name] = f"plug-in {ep.value} (broken: {exc})"
            continue
        for name in dict.fromkeys([executor.node_type, ep.name]):
            plugins[name] = executor
            _registry.plugin_sources[name] = f"plug-in {ep.value}"
    _registry.plugins = plugins
    return plugins


def _builtin(node_type: str) -> Executor | None:
    if node_type in _registry.builtin:
        return _registry.builtin[node_type]
    target = _BUILTIN.get(node_type)
    if target is None:
        return None
    module_name, _, attribute = target.partition(":")
    factory: Callable[[], Executor] = getattr(importlib.import_module(module_name), attribute)
    executor = factory()
    _registry.builtin[node_type] = executor
    return executor


def _simulator() -> Executor:
    if _registry.simulator is None:
        from osop.executors.simulator import SimulatedExecutor

        _registry.simulator = SimulatedExecutor()
    return _registry.simulator


def get_executor(node_type: str, mode: RunMode) -> Executor:
    """The executor for ``node_type`` in ``mode`` (see the module doc for the order)."""
    if mode == "simulated":
        return _simulator()
    if mode == "dry_run":
        return DryRunExecutor()
    if node_type in _registry.registered:
        return _registry.registered[node_type]
    plugin = _load_plugins().get(node_type)
    if plugin is not None:
        return plugin
    builtin = _builtin(node_type)
    return builtin if builtin is not None else MissingExecutor(node_type)


def available_executors() -> dict[str, str]:
    """Node type → what runs it live (for ``--help`` and the docs)."""
    plugins = _load_plugins()
    out: dict[str, str] = {}
    for node_type in dict.fromkeys([*NODE_TYPES, *_BUILTIN, *plugins, *_registry.registered]):
        if node_type in _registry.registered:
            executor = _registry.registered[node_type]
            out[node_type] = f"registered {type(executor).__module__}.{type(executor).__name__}"
        elif node_type in plugins:
            out[node_type] = _registry.plugin_sources.get(node_type, "plug-in")
        elif node_type in _BUILTIN:
            out[node_type] = "built-in " + _BUILTIN[node_type].replace(":", ".")
        else:
            out[node_type] = "none (simulated mode only)"
    return out
