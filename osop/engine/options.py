"""What a run is started with, and what it ends with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from osop.engine.clock import Clock, SystemClock
from osop.executors.base import Executor, ProgressSink, RunMode
from osop.security import SecretStore

if TYPE_CHECKING:
    from osop.engine.store import RunHandle
    from osop.record.model import RunRecord

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_PAUSED",
    "ExecutorFactory",
    "RunOptions",
    "RunResult",
]

#: A ``when`` loop stops after this many iterations unless the edge says otherwise.
DEFAULT_MAX_ITERATIONS = 100

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_PAUSED = 3

ExecutorFactory = Callable[[str, RunMode], Executor]


@dataclass
class RunOptions:
    """Everything a run may be given besides the workflow itself."""

    mode: RunMode = "live"
    inputs: dict[str, Any] = field(default_factory=dict)
    #: node id → what the human answered (``{decision: approved, notes: ...}``).
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Events/signals delivered up front: ``{name, data}``.
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Where ``${secrets.NAME}`` comes from; every value is redacted everywhere.
    secrets: SecretStore = field(default_factory=SecretStore)
    #: Environment for ``${env.X}`` and child processes (default: this process's).
    env: Mapping[str, str] | None = None
    workdir: Path = field(default_factory=Path.cwd)
    #: Seed of the weighted-edge generator (recorded; random when not given).
    seed: int | None = None
    progress: ProgressSink | None = None
    interactive: bool = False
    #: Which executor runs a node (default: :func:`osop.executors.registry.get_executor`).
    executors: ExecutorFactory | None = None
    clock: Clock = field(default_factory=SystemClock)
    #: fsync every transition (default: only in live mode; group commit otherwise).
    durable: bool | None = None
    trigger: dict[str, Any] | None = None
    #: Per-node simulation overrides handed to the simulator (``services["simulation"]``).
    simulation: dict[str, Any] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    #: ``--yes``: answer every approval (gates, dangerous commands) with "approved".
    #: Never implied; blocked commands stay refused; human nodes still ask.
    auto_approve: bool = False
    #: Rewrite the materialised record at most this often while running (seconds).
    record_interval: float = 2.0
    #: Run observers (tracing): each factory is called once per run (child runs too)
    #: with ``(run_id, state)`` and returns a function that sees every journal entry
    #: just before it is journaled; it may add keys to the entry (``trace_id``).
    observers: list[Callable[[str, Any], Callable[[dict[str, Any]], None]]] = field(
        default_factory=list
    )
    #: How many sub-workflow runs enclose this one (bounded by MAX_CHILD_DEPTH).
    child_depth: int = 0
    #: A guided run: its caller carries out the steps (see :mod:`osop.engine.guided`).
    guided: bool = False
    #: Who carries out a guided run's steps, for the record's ``runtime``
    #: (``{agent: claude-code, agent_version, model, session_id}``).
    agent: dict[str, Any] | None = None


#: A :class:`RunResult` field made when first read → the field holding its builder.
_BUILT_LATER = {"record": "build_record", "outputs": "build_outputs"}


@dataclass(repr=False)
class RunResult:
    """How a run (or one resumed session of it) ended."""

    run_id: str
    status: str
    record: RunRecord
    paused: bool = False
    #: What the run waits for when paused: ``{kind, name, node, prompt}``.
    waiting: list[dict[str, Any]] = field(default_factory=list)
    handle: RunHandle | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    #: What this session repaired or found on its way in (a torn journal tail ...).
    notes: list[str] = field(default_factory=list)
    #: Builds ``record`` when it is first read (a session leaves it to be built:
    #: a caller that only wants the status never pays for the run's node records).
    build_record: Callable[[], RunRecord] | None = field(default=None, compare=False)
    #: Builds ``outputs`` when first read: made at a run's end, a mapping of every
    #: node was ~57 B/node on top of the run's memory peak (a 100k chain).
    build_outputs: Callable[[], dict[str, Any]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.build_record is not None:
            del self.record  # built by __getattr__ on first use
        if self.build_outputs is not None:
            del self.outputs  # likewise

    def __getattr__(self, name: str) -> Any:
        builder = _BUILT_LATER.get(name)
        build = self.__dict__.get(builder) if builder is not None else None
        if build is not None:
            value = build()
            setattr(self, name, value)
            return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def built_later(
        cls,
        build: Callable[[], RunRecord],
        *,
        outputs: Callable[[], dict[str, Any]] | None = None,
        **fields: Any,
    ) -> RunResult:
        """A result whose ``record`` is ``build()`` (and ``outputs``, ``outputs()``),
        made when first read."""
        return cls(
            record=cast("RunRecord", None), build_record=build, build_outputs=outputs, **fields
        )

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run formats its task's result, and a full record
        # of a 10,000-node run would cost more than running it.
        state = "PAUSED" if self.paused else self.status
        return f"RunResult(run_id={self.run_id!r}, status={state!r})"

    @property
    def exit_code(self) -> int:
        if self.paused:
            return EXIT_PAUSED
        return EXIT_OK if self.status == "COMPLETED" else EXIT_FAILED
