"""Node executors: the contract (:mod:`.base`), the registry and one module per node type.

Executor modules are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from osop.executors.base import (
    Executor,
    NodeContext,
    NodeFailure,
    NodeResult,
    ProgressSink,
    RunMode,
    WaitRequest,
)
from osop.executors.registry import (
    ENTRY_POINT_GROUP,
    available_executors,
    get_executor,
    register_executor,
    reset_registry,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Executor",
    "NodeContext",
    "NodeFailure",
    "NodeResult",
    "ProgressSink",
    "RunMode",
    "WaitRequest",
    "available_executors",
    "get_executor",
    "register_executor",
    "reset_registry",
]
