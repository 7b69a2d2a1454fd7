"""Typed journal entries: one class per kind of transition, each versioned.

A journal line is ``entry.to_dict()`` (``"t"`` first, then the fields that are set);
:func:`entry_from_dict` reads one back.  The wire names are the ones journals have
always used, so runs journaled before these classes existed still resume.

Every class says whether it is written at all (``JOURNALED``: a ``ready`` node is
re-derived on resume, never written) and whether losing it could repeat a side
effect (``DURABLE``: on disk before the engine goes on; the others ride along with
the next such write).  ``VERSION`` is the shape a class writes: a line carrying a
higher ``v`` was written by a newer osop and is refused rather than misread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from osop.errors import RunStoreError

__all__ = [
    "ENTRY_KINDS",
    "Answer",
    "Approved",
    "CancelRequest",
    "Child",
    "Compensate",
    "Consumed",
    "Decide",
    "Done",
    "End",
    "Entry",
    "Event",
    "Failing",
    "Finished",
    "Interrupted",
    "Items",
    "Paused",
    "Proc",
    "Ready",
    "Recovered",
    "Report",
    "Resumed",
    "Run",
    "RunWarning",
    "Skip",
    "Start",
    "Wait",
    "entry_from_dict",
]

#: Wire names that differ from the attribute (Python keywords).
_WIRE = {"not_": "not", "for_": "for"}


@dataclass(kw_only=True, eq=True, slots=True)
class Entry:
    """One transition of a run.  ``seq`` is its number in the journal (set on apply)."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    JOURNALED: ClassVar[bool] = True
    DURABLE: ClassVar[bool] = False
    #: (attribute, wire name) of every field but ``seq``, computed once per class.
    _SPEC: ClassVar[tuple[tuple[str, str], ...]] = ()

    seq: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The journal line (without ``seq``: the journal numbers it)."""
        out: dict[str, Any] = {"t": self.KIND}
        if self.VERSION != 1:
            out["v"] = self.VERSION
        for attr, key in self._SPEC:
            value = getattr(self, attr)
            if value is not None:
                out[key] = value
        return out

    def _put_fields(self, out: dict[str, Any]) -> None:
        """The fields that are set, into ``out`` (generated per class by ``_spec``)."""
        for attr, key in self._SPEC:
            value = getattr(self, attr)
            if value is not None:
                out[key] = value

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        kwargs = {attr: data.get(key) for attr, key in cls._SPEC if key in data}
        entry = cls(**kwargs)
        seq = data.get("seq")
        entry.seq = int(seq) if seq is not None else None
        return entry


def _spec(cls: type[Entry]) -> type[Entry]:
    cls._SPEC = tuple(
        (f.name, _WIRE.get(f.name, f.name))
        for f in fields(cls)
        if f.name != "seq" and f.metadata.get("wire", True)
    )
    # The journal line is encoded a few times per node: one function per class that
    # reads each field by name (what :meth:`Entry.to_dict` does with a loop of getattr).
    cls._put_fields = _field_writer(cls._SPEC)  # type: ignore[method-assign,assignment]
    if "to_dict" not in cls.__dict__:
        cls.to_dict = _line_writer(cls)  # type: ignore[method-assign,assignment]
    return cls


def _field_writer(spec: tuple[tuple[str, str], ...]) -> Callable[[Entry, dict[str, Any]], None]:
    """``put(entry, out)``: the set fields of ``entry`` into ``out``, in ``spec`` order."""
    return _compiled(["def put(self, out):", *_field_lines(spec), "    return None"], "put")  # type: ignore[no-any-return]


def _line_writer(cls: type[Entry]) -> Callable[[Entry], dict[str, Any]]:
    """``to_dict`` of ``cls``: ``"t"`` (and ``"v"`` above version 1), then the set fields."""
    head = {"t": cls.KIND} if cls.VERSION == 1 else {"t": cls.KIND, "v": cls.VERSION}
    lines = [
        "def to_dict(self):",
        f"    out = {head!r}",
        *_field_lines(cls._SPEC),
        "    return out",
    ]
    function = _compiled(lines, "to_dict")
    function.__doc__ = Entry.to_dict.__doc__
    function.__qualname__ = f"{cls.__name__}.to_dict"
    return function  # type: ignore[no-any-return]


def _field_lines(spec: tuple[tuple[str, str], ...]) -> list[str]:
    lines: list[str] = []
    for attr, key in spec:  # attribute and key names come from the dataclass fields
        lines += [f"    v = self.{attr}", "    if v is not None:", f"        out[{key!r}] = v"]
    return lines


def _compiled(lines: list[str], name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), {}, namespace)
    return namespace[name]


#: Fields that live in memory only (never written: e.g. the unredacted inputs).
_MEMORY = {"wire": False}


@dataclass(kw_only=True, eq=True, slots=True)
class _Decisions(Entry):
    """Edge decisions an entry carries: slots ``[edge index, target]`` taken or not."""

    #: Slots ``[edge index, target]`` (a decision the core made keeps the topology's
    #: ``(edge, target)`` tuple: the same JSON).
    taken: list[Any] | None = None
    not_: list[Any] | None = None
    #: ``[loop edge, slot, taken]``: an exit decision held until its loop ends.
    held: list[list[Any]] | None = None
    #: Loop edges whose held exits are decided now.
    released: list[int] | None = None
    #: ``[slot, {name, at}]``: event/signal edges now waiting for their event.
    waiting: list[list[Any]] | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Run(Entry):
    """The run began: its metadata (ids, mode, trigger, inputs redacted, seed ...)."""

    KIND = "run"
    DURABLE = True
    meta: dict[str, Any] = field(default_factory=dict)
    #: The inputs as given (unredacted), for this process only.
    plain_inputs: dict[str, Any] | None = field(default=None, metadata=_MEMORY)

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.KIND, **self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        entry = cls(meta={k: v for k, v in data.items() if k not in ("t", "seq", "v")})
        entry.seq = data.get("seq")
        return entry


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Resumed(Entry):
    KIND = "resumed"
    DURABLE = True
    at: str | None = None
    pid: int | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Recovered(Entry):
    """A torn journal tail was cut off when the run was taken up again."""

    KIND = "recovered"
    at: str | None = None
    offset: int | None = None
    dropped_bytes: int | None = None
    message: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Start(Entry):
    """An attempt starts (its side effects follow: on disk first)."""

    KIND = "start"
    DURABLE = True
    node: str
    node_type: str | None = None
    attempt: int
    iteration: int | None = None
    at: str
    classification: str | None = None
    inputs: dict[str, Any] | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Wait(Entry):
    """An attempt waits for a person, an event or signal, or a child run."""

    KIND = "wait"
    DURABLE = True
    node: str
    attempt: int
    iteration: int | None = None
    kind: str | None = None
    name: str | None = None
    prompt: str | None = None
    at: str | None = None
    #: A child run's own waits (a list), or what a guided run's caller was handed.
    details: list[dict[str, Any]] | dict[str, Any] | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class End(Entry):
    """An attempt ended (the node itself may still retry or loop: see :class:`Done`).

    Version 2: when the attempt also ends its node, the node's :class:`Done` is
    folded into the same line (``"done": {...}``, without the node, and without
    the status and time when they are the end's), so that both are written and
    made durable together.  Such a line says ``"v": 2``; an end without it is
    the version 1 shape, and journals that wrote ``done`` apart still read.
    """

    KIND = "end"
    VERSION = 2
    DURABLE = True
    node: str
    attempt: int
    iteration: int | None = None
    status: str
    at: str | None = None
    ended_at: str | None = None
    duration_ms: float | None = None
    outputs: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    #: False when the failure says it must not be retried (absent: it may be).
    retryable: bool | None = None
    ai_metadata: dict[str, Any] | None = None
    human_metadata: dict[str, Any] | None = None
    tools_used: list[Any] | None = None
    cost_usd: float | None = None
    children: list[dict[str, Any]] | None = None
    child_run_id: str | None = None
    #: Set on the entry that closes one iteration of a forward loop: iterations done.
    iteration_done: int | None = None
    #: The node ended with this attempt: its final status and decisions (folded in).
    done: Done | None = field(default=None, metadata=_MEMORY)

    def to_dict(self) -> dict[str, Any]:
        done = self.done
        out: dict[str, Any] = {"t": "end"} if done is None else {"t": "end", "v": 2}
        self._put_fields(out)
        if done is not None:
            out["done"] = _folded_done(done, self)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        entry = Entry.from_dict.__func__(cls, data)  # type: ignore[attr-defined]
        folded = data.get("done")
        if folded is not None:
            if not isinstance(folded, dict):
                raise ValueError("'done' is not an object")
            done = Done.from_dict(
                {"node": data.get("node"), "status": data.get("status"), "at": data.get("at")}
                | folded
            )
            done.seq = entry.seq
            entry.done = done
        return entry  # type: ignore[no-any-return]


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Done(_Decisions):
    """A node reached its final status; its outgoing decisions come with it."""

    KIND = "done"
    node: str
    status: str
    at: str | None = None
    error: dict[str, Any] | None = None
    #: The failure is handled by no edge: the run fails (same entry: a crash cannot split them).
    unhandled: bool | None = None
    compensation: bool | None = None
    for_: str | None = None
    messages: list[dict[str, Any]] | None = None
    #: The node goes round its loop again (``edge``, ``iteration``, ``body``, ``inner``,
    #: ``reset``, ``target``, ``at``).
    loop: dict[str, Any] | None = None


def _fold_writer() -> Callable[[Done, End], dict[str, Any]]:
    """``fold(done, end)``: the ``"done"`` object of an end that ends its node: the
    set fields of ``done`` but its node, and but its status and time when they are
    the end's.  Written field by field, as :func:`_field_writer`'s, rather than
    all of them and then deleting three (a chain's node: 39 bytecodes less).
    """
    lines = ["def fold(self, end):", "    out = {}"]
    for attr, key in Done._SPEC:
        if attr == "node":
            continue
        lines += [f"    v = self.{attr}"]
        if attr in ("status", "at"):
            lines += [f"    if v is not None and v != end.{attr}:"]
        else:
            lines += ["    if v is not None:"]
        lines += [f"        out[{key!r}] = v"]
    return _compiled([*lines, "    return out"], "fold")  # type: ignore[no-any-return]


_folded_done = _fold_writer()


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Interrupted(Entry):
    """A RUNNING attempt found at resume: recorded as cancelled, to be run again."""

    KIND = "interrupted"
    node: str
    attempt: int
    iteration: int | None = None
    at: str | None = None
    processes: list[dict[str, Any]] | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Proc(Entry):
    """A child process of an attempt is about to run (journaled before it may)."""

    KIND = "proc"
    DURABLE = True
    node: str
    attempt: int
    iteration: int | None = None
    pgid: int | None = None
    started: Any = None
    boot_id: str | None = None
    token: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Child(Entry):
    """A child run (sub-workflow, spawn) is about to be created."""

    KIND = "child"
    DURABLE = True
    node: str
    run_id: str


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Skip(_Decisions):
    KIND = "skip"
    node: str
    node_type: str | None = None
    iteration: int | None = None
    at: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Decide(_Decisions):
    """Decisions on their own (an event/signal edge received its event)."""

    KIND = "decide"
    at: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Items(Entry):
    """A forward loop edge was taken: its target runs per item, or while ``when`` holds."""

    KIND = "items"
    node: str
    edge: int
    var: str | None = None
    max: int | None = None
    base: int | None = None
    items: list[Any] | None = None
    when: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Answer(Entry):
    KIND = "answer"
    DURABLE = True
    node: str
    answer: dict[str, Any] = field(default_factory=dict)
    inbox: str | None = None
    at: str | None = None
    #: The answer as given (unredacted), for this process only.
    plain: dict[str, Any] | None = field(default=None, metadata=_MEMORY)


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Report(Entry):
    """A guided run's caller reported the step it was handed (``osop log``)."""

    KIND = "report"
    DURABLE = True
    node: str
    report: dict[str, Any] = field(default_factory=dict)
    at: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Approved(Entry):
    """What a node's answer approved: one approval covers one command."""

    KIND = "approved"
    node: str
    subject: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Event(Entry):
    KIND = "event"
    DURABLE = True
    id: str | None = None
    name: str | None = None
    data: Any = None
    inbox: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Consumed(Entry):
    KIND = "consumed"
    id: str | None = None
    slot: list[Any] | None = None
    node: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class CancelRequest(Entry):
    KIND = "cancel_request"
    inbox: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class RunWarning(Entry):
    KIND = "warning"
    message: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Failing(Entry):
    """The run fails (a condition could not be evaluated in a live run)."""

    KIND = "failing"
    node: str | None = None
    status: str | None = None
    error: dict[str, Any] | None = None
    at: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Compensate(Entry):
    KIND = "compensate"
    node: str
    for_: str | None = None
    at: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Paused(Entry):
    KIND = "paused"
    DURABLE = True
    at: str | None = None
    waiting: list[dict[str, Any]] | None = None
    active_ms: float | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Finished(Entry):
    KIND = "finished"
    DURABLE = True
    status: str
    at: str | None = None
    active_ms: float | None = None
    by: str | None = None


@_spec
@dataclass(kw_only=True, eq=True, slots=True)
class Ready(Entry):
    """A node's join is met (or its wait can go on): it runs next.  Never written."""

    KIND = "ready"
    JOURNALED = False
    node: str


ENTRY_KINDS: dict[str, type[Entry]] = {
    cls.KIND: cls
    for cls in (
        Run,
        Resumed,
        Recovered,
        Start,
        Wait,
        End,
        Done,
        Interrupted,
        Proc,
        Child,
        Skip,
        Decide,
        Items,
        Answer,
        Report,
        Approved,
        Event,
        Consumed,
        CancelRequest,
        RunWarning,
        Failing,
        Compensate,
        Paused,
        Finished,
        Ready,
    )
}


def entry_from_dict(data: dict[str, Any]) -> Entry | None:
    """The typed entry of a journal line; None for a kind this version does not know."""
    cls = ENTRY_KINDS.get(str(data.get("t")))
    if cls is None or not cls.JOURNALED:
        return None
    version = data.get("v", 1)
    if not isinstance(version, int) or version > cls.VERSION:
        raise RunStoreError(
            f"journal entry {data.get('seq', '?')} ({cls.KIND!r}) has version {version!r}; "
            f"this osop reads up to version {cls.VERSION}: it was written by a newer osop"
        )
    try:
        return cls.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise RunStoreError(
            f"journal entry {data.get('seq', '?')} ({cls.KIND!r}) is malformed: {exc}"
        ) from exc
