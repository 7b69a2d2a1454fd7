"""What a host tells the engine core (events) and what the core asks of it (commands).

Plain data with JSON-able fields, so that a host in another process (a Temporal
worker) can carry them: ``to_dict()`` and :func:`event_from_dict` /
:func:`command_from_dict`.  Time comes in with each event (``at``, ISO 8601 UTC);
the core reads no clock.  See ``docs/architecture.md``.

Nothing changes an event or a command once it is made.  They are not frozen
dataclasses all the same: building a frozen one sets each field through
``object.__setattr__`` (about 2 µs more for an attempt's start or end, two of
which every node costs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

__all__ = [
    "Abort",
    "AnswerArrived",
    "ApprovalUsed",
    "AttemptFinished",
    "Begin",
    "CancelTimer",
    "ChildStarted",
    "Command",
    "ContinueAttempt",
    "EngineEvent",
    "Finish",
    "Pause",
    "ProcessStarted",
    "ReportArrived",
    "SignalDelivered",
    "StartAttempt",
    "StartTimer",
    "TimerFired",
    "WaitFor",
    "WaitRequested",
    "command_from_dict",
    "event_from_dict",
]


class _Message:
    NAME: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"type": self.NAME}
        for f in fields(self):  # type: ignore[arg-type]
            if f.metadata.get("local"):
                continue
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


_LOCAL = {"local": True}

# -- events: host → core ----------------------------------------------------------------


class EngineEvent(_Message):
    """Something happened that the core must decide on."""


@dataclass(kw_only=True, slots=True)
class Begin(EngineEvent):
    """A session starts (fresh run or resume): seed the frontier.

    ``stale``: node → what stopping the processes of its interrupted attempt found.
    """

    NAME = "begin"
    at: str
    stale: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class AttemptFinished(EngineEvent):
    """An attempt's executor returned, failed, timed out, or was cancelled by an abort."""

    NAME = "attempt_finished"
    node: str
    attempt: int
    iteration: int | None
    at: str
    status: str
    duration_ms: float
    outputs: dict[str, Any] | None = None
    #: ``{code, message, details?}``; ``_retryable: False`` when it must not be retried.
    error: dict[str, Any] | None = None
    ai_metadata: dict[str, Any] | None = None
    human_metadata: dict[str, Any] | None = None
    tools_used: list[Any] | None = None
    cost_usd: float | None = None
    children: list[dict[str, Any]] | None = None
    child_run_id: str | None = None
    #: The executor returned normally (success criteria and contracts are checked).
    returned: bool = False
    #: An approval needed mid-attempt was refused.
    rejected: bool = False
    #: Cancelled because the run is being aborted (see :class:`Abort`).
    aborted: bool = False


@dataclass(kw_only=True, slots=True)
class WaitRequested(EngineEvent):
    """The executor asked to wait (for a person, an event/signal, or a child run).

    With ``settle`` the core first looks for what was asked (an answer, a buffered
    event) and, found, answers :class:`ContinueAttempt`; else the attempt waits.
    """

    NAME = "wait_requested"
    node: str
    attempt: int
    iteration: int | None
    at: str
    kind: str
    name: str
    prompt: str | None = None
    details: list[dict[str, Any]] | dict[str, Any] | None = None
    settle: bool = True


@dataclass(kw_only=True, slots=True)
class ApprovalUsed(EngineEvent):
    NAME = "approval_used"
    node: str
    subject: str


@dataclass(kw_only=True, slots=True)
class ProcessStarted(EngineEvent):
    NAME = "process_started"
    node: str
    attempt: int
    iteration: int | None
    pgid: int
    started: Any = None
    boot_id: str | None = None
    token: str | None = None


@dataclass(kw_only=True, slots=True)
class ChildStarted(EngineEvent):
    NAME = "child_started"
    node: str
    run_id: str


@dataclass(kw_only=True, slots=True)
class AnswerArrived(EngineEvent):
    """A person's answer or approval (``answer`` as it may be journaled: masked)."""

    NAME = "answer_arrived"
    node: str
    answer: dict[str, Any]
    at: str | None = None
    inbox: str | None = None
    #: The answer unmasked, kept in memory only (preset answers of a fresh run).
    plain: dict[str, Any] | None = field(default=None, metadata=_LOCAL)


@dataclass(kw_only=True, slots=True)
class ReportArrived(EngineEvent):
    """A guided run's caller reported the step it was handed (checked already)."""

    NAME = "report_arrived"
    node: str
    report: dict[str, Any]
    at: str | None = None


@dataclass(kw_only=True, slots=True)
class SignalDelivered(EngineEvent):
    NAME = "signal_delivered"
    id: str
    name: str | None
    data: Any = None
    at: str | None = None
    inbox: str | None = None


@dataclass(kw_only=True, slots=True)
class TimerFired(EngineEvent):
    NAME = "timer_fired"
    timer_id: str
    at: str


@dataclass(kw_only=True, slots=True)
class Abort(EngineEvent):
    """Stop the run: ``CANCELLED`` or ``TIMED_OUT``; the core concludes it.

    The host has cancelled its running attempts and reported each one
    (``AttemptFinished(aborted=True)``) first.  ``processes``: node → what stopping
    a crashed attempt's processes found (``osop cancel`` of a run nobody runs).
    """

    NAME = "abort"
    status: str
    at: str
    processes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


# -- commands: core → host ---------------------------------------------------------------


class Command(_Message):
    """Something the host must carry out."""


@dataclass(kw_only=True, slots=True)
class StartAttempt(Command):
    """Run the node's executor once (its ``start`` entry is in the same decision)."""

    NAME = "start_attempt"
    node: str
    attempt: int
    iteration: int | None
    loop_vars: dict[str, Any]
    inputs: dict[str, Any]
    runtime: dict[str, Any]
    answer: dict[str, Any] | None = None
    #: What a NEEDS_APPROVAL failure means now: ``ok``, ``wait`` or ``rejected``.
    approval: str = "ok"
    #: A spent answer may be replaced by an automatic approval (``--yes``, rehearsals).
    rehearsal_approves: bool = False
    #: The child run (sub-workflow, spawn) to resume instead of starting a new one.
    resume_child: str | None = None
    timeout_sec: float | None = None
    #: The wait this attempt takes up again (``state.waits``), if any.
    waiting: dict[str, Any] | None = None
    #: The run failed and is compensating (a guided run executes compensations).
    compensating: bool = False
    #: The expression scope of the attempt (local hosts only; never serialised).
    scope: Any = field(default=None, compare=False, repr=False, metadata=_LOCAL)


@dataclass(kw_only=True, slots=True)
class ContinueAttempt(Command):
    """Go on with the same attempt: what it waited for is here."""

    NAME = "continue_attempt"
    node: str
    attempt: int
    iteration: int | None
    answer: dict[str, Any] | None = None
    delivered: dict[str, Any] | None = None


@dataclass(kw_only=True, slots=True)
class StartTimer(Command):
    NAME = "start_timer"
    timer_id: str
    seconds: float


@dataclass(kw_only=True, slots=True)
class CancelTimer(Command):
    NAME = "cancel_timer"
    timer_id: str


@dataclass(kw_only=True, slots=True)
class WaitFor(Command):
    """The node waits for a person, an event or signal, or a child run."""

    NAME = "wait_for"
    node: str
    kind: str
    name: str
    prompt: str | None = None


@dataclass(kw_only=True, slots=True)
class Pause(Command):
    """Nothing can move until something is delivered: the session ends, the run waits."""

    NAME = "pause"


@dataclass(kw_only=True, slots=True)
class Finish(Command):
    NAME = "finish"
    status: str


_EVENTS: dict[str, type[Any]] = {
    cls.NAME: cls
    for cls in (
        Begin,
        AttemptFinished,
        WaitRequested,
        ApprovalUsed,
        ProcessStarted,
        ChildStarted,
        AnswerArrived,
        ReportArrived,
        SignalDelivered,
        TimerFired,
        Abort,
    )
}
_COMMANDS: dict[str, type[Any]] = {
    cls.NAME: cls
    for cls in (
        StartAttempt,
        ContinueAttempt,
        StartTimer,
        CancelTimer,
        WaitFor,
        Pause,
        Finish,
    )
}


def _build(table: dict[str, type[Any]], data: dict[str, Any], what: str) -> Any:
    cls = table.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown {what} type {data.get('type')!r}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def event_from_dict(data: dict[str, Any]) -> EngineEvent:
    event: EngineEvent = _build(_EVENTS, data, "event")
    return event


def command_from_dict(data: dict[str, Any]) -> Command:
    command: Command = _build(_COMMANDS, data, "command")
    return command
