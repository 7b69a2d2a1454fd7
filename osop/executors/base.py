"""The contract between the engine and node executors.

The engine resolves a node's ``runtime`` (``${...}`` interpolated), decides the
attempt, enforces timeouts (by cancelling the task: an executor must clean up
— e.g. kill its process — when cancelled) and records the outcome.  An
executor only performs one attempt of one node and says how it went.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from osop.errors import ClassificationError, OsopError
from osop.expr.scope import Scope, make_scope

if TYPE_CHECKING:
    from osop.format.workflow import Node, Workflow

__all__ = [
    "Executor",
    "NodeContext",
    "NodeFailure",
    "NodeResult",
    "ProgressSink",
    "RunMode",
    "WaitRequest",
]

RunMode = Literal["live", "dry_run", "simulated"]
ProgressSink = Callable[[dict[str, Any]], None]


class NodeFailure(OsopError):
    """Raised by an executor when its attempt failed (the engine records and may retry).

    ``code`` is what ``retryable_errors`` and ``error_of()`` match against
    (e.g. ``EXIT_1``, ``HTTP_503``, ``TIMEOUT``, ``BLOCKED``, ``NO_EXECUTOR``);
    ``retryable=False`` stops retries whatever the policy says.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: Any = None,
        retryable: bool = True,
        outputs: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.details = details
        self.retryable = retryable
        self.outputs = dict(outputs or {})
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class WaitRequest:
    """The node cannot finish until something outside the run happens.

    ``kind`` is ``human`` (an answer/approval for this node), ``event`` or
    ``signal`` (delivered by name), or ``caller`` (a guided run's step, carried
    out and reported by the run's caller: :mod:`osop.engine.guided`).  The engine persists the wait, pauses the run
    (exit code 3) and re-runs the attempt once the answer/event is delivered.
    """

    kind: Literal["human", "approval", "event", "signal", "caller"]
    name: str
    prompt: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class NodeResult:
    """The outcome of one attempt that did not raise."""

    outputs: dict[str, Any] = field(default_factory=dict)
    wait: WaitRequest | None = None
    ai_metadata: dict[str, Any] | None = None
    human_metadata: dict[str, Any] | None = None
    tools_used: list[dict[str, Any]] = field(default_factory=list)
    cost_usd: float | None = None
    #: Records of the parts this attempt ran itself (the agents of a multi-agent
    #: node): node-record mappings kept in the run's record after this attempt's.
    children: list[dict[str, Any]] = field(default_factory=list)
    #: Lines worth showing in a live view / log (already free of secrets).
    log: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NodeContext:
    """Everything one attempt may use; built by the engine for each attempt."""

    run_id: str
    workflow: Workflow
    node: Node
    attempt: int
    mode: RunMode
    #: ``node.runtime`` with every ``${...}`` resolved.
    runtime: dict[str, Any]
    #: Data handed to this node (``workflow_inputs``, dataflow, loop item ...).
    inputs: dict[str, Any]
    workdir: Path
    #: Environment for child processes (the run's own; secrets from ``--secrets-file``
    #: are not in it: a node passes one explicitly, ``env: {T: "${secrets.T}"}``).
    env: Mapping[str, str]
    #: Secret values that must never be written anywhere (the engine redacts them).
    secret_values: frozenset[str] = frozenset()
    #: What a human already answered for this node (answers file, ``osop approve``).
    answer: Mapping[str, Any] | None = None
    #: Event/signal payload delivered for this node's wait, if any.
    delivered: Mapping[str, Any] | None = None
    iteration: int | None = None
    timeout_sec: float | None = None
    interactive: bool = False
    progress: ProgressSink | None = None
    #: Shared services (HTTP transport, LLM providers ...), keyed by name.
    services: Mapping[str, Any] = field(default_factory=dict)
    #: Run a whole sub-workflow (used by ``workflow_ref`` and ``spawn``).
    run_child: Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]] | None = None
    #: What this node's expressions and ``${...}`` see (:mod:`osop.expr.scope`):
    #: ``inputs`` (also as bare names), ``outputs.<node>`` as recorded,
    #: ``variables``, ``loop``, ``metadata``, ``env``.  Set by the engine; a
    #: context built by hand gets one over ``inputs`` and the workflow's variables.
    scope: Scope | None = None
    #: Awaited with the pid (= process group) of each child process an executor
    #: starts, before the child may run: the engine journals it there, so that a
    #: resumed run can find and stop what a crash left running.
    on_process: Callable[[int], Awaitable[None]] | None = None
    #: Resolves one ``${...}`` reference the way ``runtime`` was resolved (the cli
    #: executor re-renders its command with each value quoted for the shell).
    resolve: Callable[[str], Any] | None = None
    #: Set by the approval gate when an answer approved a command (its fingerprint):
    #: the engine records it so the same answer approves nothing else.
    approved_subject: str | None = None

    def expressions(self) -> Scope:
        if self.scope is None:
            self.scope = make_scope(
                own=self.inputs, inputs=self.inputs, variables=self.workflow.variables
            )
        return self.scope

    def evaluate(self, source: Any, **names: Any) -> Any:
        """Evaluate CEL ``source`` in this node's scope (``names`` bound first, e.g. ``item``).

        Values that are not strings are data and pass through.  Expression errors
        are ``EXPRESSION_ERROR`` failures, never retried; reading a node of higher
        classification is a ``CLASSIFICATION`` failure.
        """
        if not isinstance(source, str):
            return source
        scope = self.expressions()
        try:
            return (scope.bind(**names) if names else scope).evaluate(source)
        except ClassificationError as exc:
            raise NodeFailure("CLASSIFICATION", str(exc), retryable=False) from exc
        except OsopError as exc:
            raise NodeFailure("EXPRESSION_ERROR", str(exc), retryable=False) from exc


class Executor(Protocol):
    """What a node-type plug-in implements (registered under ``osop.executors``)."""

    #: The node ``type`` this executor runs.
    node_type: str

    async def execute(self, ctx: NodeContext) -> NodeResult:
        """Perform one attempt; raise :class:`NodeFailure` when it failed."""
        ...
