"""The typed model of an ``.osop`` document, with legacy forms normalised.

The model is built from plain data (see :mod:`osop.format.loader`).  Everything
the spec names has a typed attribute; everything else — ``x-`` extensions and
keys the spec does not know — stays reachable through ``raw`` and
``extensions`` so a round trip loses nothing.  Normalising a legacy form
(``condition:``, ``retry_policy``, ``purpose`` without ``name`` …) records a
warning in :attr:`Workflow.notes`; the validator reports them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import FrozenInstanceError, dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

from osop.diagnostics import Issue, join_pointer
from osop.format.durations import parse_duration
from osop.format.error_codes import matches_any
from osop.format.limits import (
    MAX_ATTEMPTS,
    MAX_ITERATIONS,
    MAX_MULTIPLIER,
    MAX_RETRY_DELAY_SEC,
    MAX_TIMEOUT_SEC,
    MAX_WEIGHT,
    clamp,
)
from osop.format.vocabulary import SUPPORTED_OSOP_VERSIONS

__all__ = [
    "Edge",
    "Node",
    "RetryPolicy",
    "SwitchCase",
    "Workflow",
    "declared_names",
    "derived_id",
    "extensions_of",
    "workflow_from_dict",
]

BackoffType = Literal["fixed", "linear", "exponential"]


def derived_id(name: str) -> str:
    """The kebab-case id a workflow without ``id`` gets from its name (legacy files)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workflow"


def extensions_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``x-`` keys of a mapping (extensions never change standard semantics)."""
    return {k: v for k, v in data.items() if isinstance(k, str) and k.startswith("x-")}


def declared_names(spec: Any) -> tuple[str, ...]:
    """Names declared by an ``inputs``/``outputs`` block in any of its real-world shapes.

    ``{name: schema}``, ``[{name: ...}]``, ``["name"]`` and a JSON Schema object
    (``{type: object, properties: {...}}``) are all seen in real files.
    """
    if isinstance(spec, Mapping):
        props = spec.get("properties")
        if spec.get("type") == "object" and isinstance(props, Mapping):
            return tuple(str(k) for k in props)
        return tuple(str(k) for k in spec if not str(k).startswith("x-"))
    if isinstance(spec, list):
        names: list[str] = []
        for item in spec:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                names.append(item["name"])
        return tuple(names)
    return ()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """One retry policy, whichever of the spec's two shapes it was written in.

    ``max_attempts`` counts the first try: ``retry_policy.max_retries: 2`` is 3 attempts.
    """

    max_attempts: int = 1
    backoff: BackoffType = "fixed"
    initial_delay: float = 1.0
    max_delay: float | None = None
    multiplier: float = 2.0
    retryable_errors: tuple[str, ...] = ()

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2 = the first retry)."""
        if attempt <= 1:
            return 0.0
        n = min(attempt, MAX_ATTEMPTS) - 1
        try:
            if self.backoff == "exponential":
                delay = self.initial_delay * self.multiplier ** (n - 1)
            elif self.backoff == "linear":
                delay = self.initial_delay * n
            else:
                delay = self.initial_delay
        except OverflowError:
            delay = MAX_RETRY_DELAY_SEC
        delay = clamp(delay, MAX_RETRY_DELAY_SEC)
        return min(delay, self.max_delay) if self.max_delay is not None else delay

    def __post_init__(self) -> None:
        # Bounded whatever the document said (osop.format.limits).
        object.__setattr__(self, "max_attempts", int(clamp(self.max_attempts, MAX_ATTEMPTS, 1)))
        object.__setattr__(self, "initial_delay", clamp(self.initial_delay, MAX_RETRY_DELAY_SEC))
        if self.max_delay is not None:
            object.__setattr__(self, "max_delay", clamp(self.max_delay, MAX_RETRY_DELAY_SEC))
        object.__setattr__(self, "multiplier", clamp(self.multiplier, MAX_MULTIPLIER))

    def retries(self, error_code: str | None) -> bool:
        """Whether an error with this code may be retried (``5xx`` matches ``HTTP_503``).

        No ``retryable_errors`` means every error may be; the matching rules are
        :func:`osop.format.error_codes.error_code_matches` (docs/semantics.md).
        """
        if not self.retryable_errors:
            return True
        return matches_any(self.retryable_errors, error_code)


_STRATEGIES: dict[str, BackoffType] = {
    "fixed": "fixed",
    "constant": "fixed",
    "fixed_delay": "fixed",
    "none": "fixed",
    "linear": "linear",
    "linear_backoff": "linear",
    "exponential": "exponential",
    "exponential_backoff": "exponential",
    "exp": "exponential",
}


def _retry_from(
    retry: Any, retry_policy: Any, pointer: str, notes: list[Issue]
) -> RetryPolicy | None:
    if isinstance(retry, Mapping):
        backoff = retry.get("backoff")
        kind: BackoffType = "fixed"
        initial, max_delay, multiplier = 1.0, None, 2.0
        if isinstance(backoff, Mapping):
            kind = _STRATEGIES.get(str(backoff.get("type", "fixed")).lower(), "fixed")
            initial = parse_duration(backoff.get("initial_delay", 1)) or 0.0
            max_delay = parse_duration(backoff.get("max_delay"))
            multiplier = _float(backoff.get("multiplier"), 2.0)
        elif isinstance(backoff, str):
            kind = _STRATEGIES.get(backoff.lower(), "fixed")
        attempts = retry.get("max_attempts")
        if not isinstance(attempts, int) and isinstance(retry.get("max_retries"), int):
            attempts = retry["max_retries"] + 1
        if isinstance(retry.get("backoff_sec"), int | float):
            initial = parse_duration(retry["backoff_sec"]) or 0.0
        errors = retry.get("retryable_errors") or ()
        return RetryPolicy(
            max_attempts=max(1, attempts if isinstance(attempts, int) else 1),
            backoff=kind,
            initial_delay=initial,
            max_delay=max_delay,
            multiplier=multiplier,
            retryable_errors=tuple(str(e) for e in errors) if isinstance(errors, list) else (),
        )
    if isinstance(retry_policy, Mapping):
        retries = retry_policy.get("max_retries", 0)
        strategy = str(retry_policy.get("strategy", "fixed")).lower()
        delay = retry_policy.get("backoff_sec", 1)
        errors = retry_policy.get("retryable_errors") or ()
        return RetryPolicy(
            max_attempts=1 + (retries if isinstance(retries, int) and retries > 0 else 0),
            backoff=_STRATEGIES.get(strategy, "fixed"),
            initial_delay=parse_duration(delay) or 0.0 if isinstance(delay, int | float) else 1.0,
            max_delay=parse_duration(retry_policy.get("max_delay")),
            multiplier=_float(retry_policy.get("multiplier"), 2.0),
            retryable_errors=tuple(str(e) for e in errors) if isinstance(errors, list) else (),
        )
    return None


def _float(value: Any, default: float) -> float:
    """A finite float from a number (huge integers included), else ``default``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    try:
        number = float(value)
    except OverflowError:
        return default
    return number if math.isfinite(number) else default


def _timeout_from(data: Mapping[str, Any]) -> float | None:
    seconds = None
    if "timeout_sec" in data:
        seconds = parse_duration(data["timeout_sec"])
    elif "timeout" in data:
        seconds = parse_duration(data["timeout"])
    return None if seconds is None else clamp(seconds, MAX_TIMEOUT_SEC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


#: The one empty mapping every absent mapping field of the model shares.  The model
#: is read-only (nothing in OSOP changes a model's mappings); a dict per absent
#: field (eight per node) was a third of the model's memory.
EMPTY_MAPPING: dict[str, Any] = {}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) and value else EMPTY_MAPPING


def _extensions(data: Mapping[str, Any]) -> dict[str, Any]:
    return extensions_of(data) or EMPTY_MAPPING


def _refuse_setattr(self: object, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _repr(part: Node | Edge, names: tuple[str, ...]) -> str:
    shown = ", ".join(f"{name}={getattr(part, name)!r}" for name in names)
    return f"{type(part).__name__}({shown})"


@dataclass(frozen=True, slots=True)
class SwitchCase:
    value: Any
    to: str


#: The fields of :class:`Node` kept in :class:`_NodeMore`, in the order they are shown.
_NODE_MORE_FIELDS = (
    "subtype",
    "purpose",
    "description",
    "explain",
    "role",
    "runtime",
    "inputs",
    "outputs",
    "retry",
    "timeout_sec",
    "security",
    "approval_gate",
    "classification",
    "success_criteria",
    "handoff",
    "preconditions",
    "valid_window",
    "workflow_ref",
    "workflow_inputs",
    "metadata",
    "extensions",
)


class _NodeMore:
    """The fields of a :class:`Node` that most nodes leave unset (one shared instance for those)."""

    __slots__ = _NODE_MORE_FIELDS

    subtype: str | None
    purpose: str | None
    description: str | None
    explain: Any
    role: str | None
    runtime: dict[str, Any]
    inputs: Any
    outputs: Any
    retry: RetryPolicy | None
    timeout_sec: float | None
    security: dict[str, Any]
    approval_gate: dict[str, Any]
    classification: str | None
    success_criteria: tuple[str, ...]
    handoff: dict[str, Any]
    preconditions: tuple[str, ...]
    valid_window: dict[str, Any]
    workflow_ref: str | None
    workflow_inputs: dict[str, Any]
    metadata: dict[str, Any]
    extensions: dict[str, Any]

    def __init__(
        self,
        subtype: str | None,
        purpose: str | None,
        description: str | None,
        explain: Any,
        role: str | None,
        runtime: dict[str, Any],
        inputs: Any,
        outputs: Any,
        retry: RetryPolicy | None,
        timeout_sec: float | None,
        security: dict[str, Any],
        approval_gate: dict[str, Any],
        classification: str | None,
        success_criteria: tuple[str, ...],
        handoff: dict[str, Any],
        preconditions: tuple[str, ...],
        valid_window: dict[str, Any],
        workflow_ref: str | None,
        workflow_inputs: dict[str, Any],
        metadata: dict[str, Any],
        extensions: dict[str, Any],
    ) -> None:
        self.subtype = subtype
        self.purpose = purpose
        self.description = description
        self.explain = explain
        self.role = role
        self.runtime = runtime
        self.inputs = inputs
        self.outputs = outputs
        self.retry = retry
        self.timeout_sec = timeout_sec
        self.security = security
        self.approval_gate = approval_gate
        self.classification = classification
        self.success_criteria = success_criteria
        self.handoff = handoff
        self.preconditions = preconditions
        self.valid_window = valid_window
        self.workflow_ref = workflow_ref
        self.workflow_inputs = workflow_inputs
        self.metadata = metadata
        self.extensions = extensions


#: What every node that sets none of :class:`_NodeMore`'s fields shares.
_NODE_DEFAULTS = _NodeMore(
    None,
    None,
    None,
    None,
    None,
    EMPTY_MAPPING,
    None,
    None,
    None,
    None,
    EMPTY_MAPPING,
    EMPTY_MAPPING,
    None,
    (),
    EMPTY_MAPPING,
    (),
    EMPTY_MAPPING,
    None,
    EMPTY_MAPPING,
    EMPTY_MAPPING,
    EMPTY_MAPPING,
)


@dataclass(slots=True, eq=False, init=False, repr=False)
class Node:
    """One step of a process.

    Only ``id``, ``type``, ``index``, ``name`` and ``raw`` are kept on the node; the
    fields most nodes leave unset are read through properties from one ``_more``
    object, shared by every node that sets none of them: 27 slots per node were
    ~240 bytes (``bench/bench_engine.py --scale``), 6 are ~80.
    """

    id: str
    type: str
    index: int
    name: str | None
    raw: dict[str, Any]
    _more: _NodeMore

    def __init__(
        self,
        id: str,
        type: str,
        index: int,
        name: str | None = None,
        subtype: str | None = None,
        purpose: str | None = None,
        description: str | None = None,
        explain: Any = None,
        role: str | None = None,
        runtime: dict[str, Any] | None = None,
        inputs: Any = None,
        outputs: Any = None,
        retry: RetryPolicy | None = None,
        timeout_sec: float | None = None,
        security: dict[str, Any] | None = None,
        approval_gate: dict[str, Any] | None = None,
        classification: str | None = None,
        success_criteria: tuple[str, ...] = (),
        handoff: dict[str, Any] | None = None,
        preconditions: tuple[str, ...] = (),
        valid_window: dict[str, Any] | None = None,
        workflow_ref: str | None = None,
        workflow_inputs: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        extensions: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
    ) -> None:
        more = (
            _NODE_DEFAULTS
            if subtype is None
            and purpose is None
            and description is None
            and explain is None
            and role is None
            and not runtime
            and inputs is None
            and outputs is None
            and retry is None
            and timeout_sec is None
            and not security
            and not approval_gate
            and classification is None
            and not success_criteria
            and not handoff
            and not preconditions
            and not valid_window
            and workflow_ref is None
            and not workflow_inputs
            and not metadata
            and not extensions
            else _NodeMore(
                subtype,
                purpose,
                description,
                explain,
                role,
                runtime or EMPTY_MAPPING,
                inputs,
                outputs,
                retry,
                timeout_sec,
                security or EMPTY_MAPPING,
                approval_gate or EMPTY_MAPPING,
                classification,
                success_criteria,
                handoff or EMPTY_MAPPING,
                preconditions,
                valid_window or EMPTY_MAPPING,
                workflow_ref,
                workflow_inputs or EMPTY_MAPPING,
                metadata or EMPTY_MAPPING,
                extensions or EMPTY_MAPPING,
            )
        )
        setattr_ = object.__setattr__
        setattr_(self, "id", id)
        setattr_(self, "type", type)
        setattr_(self, "index", index)
        setattr_(self, "name", name)
        setattr_(self, "raw", {} if raw is None else raw)
        setattr_(self, "_more", more)

    @property
    def subtype(self) -> str | None:
        return self._more.subtype

    @property
    def purpose(self) -> str | None:
        return self._more.purpose

    @property
    def description(self) -> str | None:
        return self._more.description

    @property
    def explain(self) -> Any:
        return self._more.explain

    @property
    def role(self) -> str | None:
        return self._more.role

    @property
    def runtime(self) -> dict[str, Any]:
        return self._more.runtime

    @property
    def inputs(self) -> Any:
        return self._more.inputs

    @property
    def outputs(self) -> Any:
        return self._more.outputs

    @property
    def retry(self) -> RetryPolicy | None:
        return self._more.retry

    @property
    def timeout_sec(self) -> float | None:
        return self._more.timeout_sec

    @property
    def security(self) -> dict[str, Any]:
        return self._more.security

    @property
    def approval_gate(self) -> dict[str, Any]:
        return self._more.approval_gate

    @property
    def classification(self) -> str | None:
        return self._more.classification

    @property
    def success_criteria(self) -> tuple[str, ...]:
        return self._more.success_criteria

    @property
    def handoff(self) -> dict[str, Any]:
        return self._more.handoff

    @property
    def preconditions(self) -> tuple[str, ...]:
        return self._more.preconditions

    @property
    def valid_window(self) -> dict[str, Any]:
        return self._more.valid_window

    @property
    def workflow_ref(self) -> str | None:
        return self._more.workflow_ref

    @property
    def workflow_inputs(self) -> dict[str, Any]:
        return self._more.workflow_inputs

    @property
    def metadata(self) -> dict[str, Any]:
        return self._more.metadata

    @property
    def extensions(self) -> dict[str, Any]:
        return self._more.extensions

    # Read-only as a frozen dataclass was; set by hand: a frozen slotted dataclass
    # answers an assignment to a property (``node.retry = ...``) with a TypeError.
    __setattr__ = _refuse_setattr
    __delattr__ = _refuse_delattr

    def __repr__(self) -> str:
        # Every field, in the order of the dataclass it was (what a repr showed).
        return _repr(self, ("id", "type", "index", "name", *_NODE_MORE_FIELDS, "raw"))

    @property
    def pointer(self) -> str:
        """``/nodes/<index>``: made when asked (a string kept per node was ~64 bytes)."""
        return f"/nodes/{self.index}"

    @property
    def label(self) -> str:
        """What to show a person: ``name``, else ``purpose``, else ``id``."""
        return self.name or self.purpose or self.id

    @property
    def declared_outputs(self) -> tuple[str, ...]:
        return declared_names(self.outputs)

    @property
    def declared_inputs(self) -> tuple[str, ...]:
        return declared_names(self.inputs)

    @property
    def requires_approval(self) -> bool:
        return bool(self.approval_gate.get("required"))


#: The fields of :class:`Edge` kept in :class:`_EdgeMore`, in the order they are shown.
_EDGE_MORE_FIELDS = (
    "label",
    "contract",
    "contract_inline",
    "transform",
    "join_mode",
    "join_count",
    "for_each",
    "iterator_var",
    "cases",
    "default_to",
    "weight",
    "max_iterations",
    "metadata",
    "extensions",
    "when_key",
)


class _EdgeMore:
    """The fields of an :class:`Edge` that most edges leave unset (one shared instance for those)."""

    __slots__ = _EDGE_MORE_FIELDS

    label: str | None
    contract: str | None
    contract_inline: dict[str, Any] | None
    transform: Any
    join_mode: str | None
    join_count: int | None
    for_each: str | None
    iterator_var: str | None
    cases: tuple[SwitchCase, ...]
    default_to: str | None
    weight: float | None
    max_iterations: int | None
    metadata: dict[str, Any]
    extensions: dict[str, Any]
    when_key: str

    def __init__(
        self,
        label: str | None,
        contract: str | None,
        contract_inline: dict[str, Any] | None,
        transform: Any,
        join_mode: str | None,
        join_count: int | None,
        for_each: str | None,
        iterator_var: str | None,
        cases: tuple[SwitchCase, ...],
        default_to: str | None,
        weight: float | None,
        max_iterations: int | None,
        metadata: dict[str, Any],
        extensions: dict[str, Any],
        when_key: str,
    ) -> None:
        self.label = label
        self.contract = contract
        self.contract_inline = contract_inline
        self.transform = transform
        self.join_mode = join_mode
        self.join_count = join_count
        self.for_each = for_each
        self.iterator_var = iterator_var
        self.cases = cases
        self.default_to = default_to
        self.weight = weight
        self.max_iterations = max_iterations
        self.metadata = metadata
        self.extensions = extensions
        self.when_key = when_key


#: What every edge that sets none of :class:`_EdgeMore`'s fields shares.
_EDGE_DEFAULTS = _EdgeMore(
    None,
    None,
    None,
    None,
    None,
    None,
    None,
    None,
    (),
    None,
    None,
    None,
    EMPTY_MAPPING,
    EMPTY_MAPPING,
    "when",
)


@dataclass(slots=True, eq=False, init=False, repr=False)
class Edge:
    """One connection; ``mode`` decides how control (or data) flows along it.

    As for :class:`Node`, the fields most edges leave unset live in one shared
    ``_more`` object read through properties: 22 slots per edge were ~200 bytes,
    7 are ~88.
    """

    source: str
    target: str
    index: int
    mode: str
    when: str | None
    raw: dict[str, Any]
    _more: _EdgeMore

    def __init__(
        self,
        source: str,
        target: str,
        index: int,
        mode: str = "sequential",
        when: str | None = None,
        label: str | None = None,
        contract: str | None = None,
        contract_inline: dict[str, Any] | None = None,
        transform: Any = None,
        join_mode: str | None = None,
        join_count: int | None = None,
        for_each: str | None = None,
        iterator_var: str | None = None,
        cases: tuple[SwitchCase, ...] = (),
        default_to: str | None = None,
        weight: float | None = None,
        max_iterations: int | None = None,
        metadata: dict[str, Any] | None = None,
        extensions: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
        #: ``"when"`` or ``"condition"`` (the deprecated alias) — for diagnostics.
        when_key: str = "when",
    ) -> None:
        more = (
            _EDGE_DEFAULTS
            if label is None
            and contract is None
            and contract_inline is None
            and transform is None
            and join_mode is None
            and join_count is None
            and for_each is None
            and iterator_var is None
            and not cases
            and default_to is None
            and weight is None
            and max_iterations is None
            and not metadata
            and not extensions
            and when_key == "when"
            else _EdgeMore(
                label,
                contract,
                contract_inline,
                transform,
                join_mode,
                join_count,
                for_each,
                iterator_var,
                cases,
                default_to,
                weight,
                max_iterations,
                metadata or EMPTY_MAPPING,
                extensions or EMPTY_MAPPING,
                when_key,
            )
        )
        setattr_ = object.__setattr__
        setattr_(self, "source", source)
        setattr_(self, "target", target)
        setattr_(self, "index", index)
        setattr_(self, "mode", mode)
        setattr_(self, "when", when)
        setattr_(self, "raw", {} if raw is None else raw)
        setattr_(self, "_more", more)

    @property
    def label(self) -> str | None:
        return self._more.label

    @property
    def contract(self) -> str | None:
        return self._more.contract

    @property
    def contract_inline(self) -> dict[str, Any] | None:
        return self._more.contract_inline

    @property
    def transform(self) -> Any:
        return self._more.transform

    @property
    def join_mode(self) -> str | None:
        return self._more.join_mode

    @property
    def join_count(self) -> int | None:
        return self._more.join_count

    @property
    def for_each(self) -> str | None:
        return self._more.for_each

    @property
    def iterator_var(self) -> str | None:
        return self._more.iterator_var

    @property
    def cases(self) -> tuple[SwitchCase, ...]:
        return self._more.cases

    @property
    def default_to(self) -> str | None:
        return self._more.default_to

    @property
    def weight(self) -> float | None:
        return self._more.weight

    @property
    def max_iterations(self) -> int | None:
        return self._more.max_iterations

    @property
    def metadata(self) -> dict[str, Any]:
        return self._more.metadata

    @property
    def extensions(self) -> dict[str, Any]:
        return self._more.extensions

    @property
    def when_key(self) -> str:
        return self._more.when_key

    def __repr__(self) -> str:
        return _repr(
            self,
            (
                "source",
                "target",
                "index",
                "mode",
                "when",
                *_EDGE_MORE_FIELDS[:-1],
                "raw",
                "when_key",
            ),
        )

    @property
    def pointer(self) -> str:
        """``/edges/<index>``: made when asked (a string kept per edge was ~64 bytes)."""
        return f"/edges/{self.index}"

    @property
    def targets(self) -> tuple[str, ...]:
        """Every node this edge may lead to (a switch fans out to its cases)."""
        if self.mode == "switch" and (self.cases or self.default_to):
            out = [c.to for c in self.cases]
            if self.default_to:
                out.append(self.default_to)
            return tuple(dict.fromkeys(out))
        return (self.target,)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity used by diffs: from, to, mode (list position does not matter)."""
        return (self.source, self.target, self.mode)


@dataclass(frozen=True, eq=False)
class Workflow:
    """A whole ``.osop`` document."""

    id: str
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    osop_version: str = "1.1"
    description: str | None = None
    version: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    triggers: tuple[dict[str, Any], ...] = ()
    inputs: Any = None
    outputs: Any = None
    contracts: dict[str, Any] = field(default_factory=dict)
    security: dict[str, Any] = field(default_factory=dict)
    retry: RetryPolicy | None = None
    timeout_sec: float | None = None
    imports: tuple[Any, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    observability: dict[str, Any] = field(default_factory=dict)
    evolution: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    #: Warnings about legacy forms met while normalising (pointer-located).
    notes: tuple[Issue, ...] = ()

    @cached_property
    def _node_index(self) -> dict[str, Node]:
        index: dict[str, Node] = {}
        for node in self.nodes:
            index.setdefault(node.id, node)
        return index

    @cached_property
    def _outgoing(self) -> dict[str, tuple[Edge, ...]]:
        out: dict[str, list[Edge]] = {n.id: [] for n in self.nodes}
        for edge in self.edges:
            out.setdefault(edge.source, []).append(edge)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def _incoming(self) -> dict[str, tuple[Edge, ...]]:
        inc: dict[str, list[Edge]] = {n.id: [] for n in self.nodes}
        for edge in self.edges:
            for target in edge.targets:
                inc.setdefault(target, []).append(edge)
        return {k: tuple(v) for k, v in inc.items()}

    def node(self, node_id: str) -> Node:
        """The node with this id; ``KeyError`` when there is none."""
        return self._node_index[node_id]

    def has_node(self, node_id: str) -> bool:
        return node_id in self._node_index

    def outgoing(self, node_id: str) -> tuple[Edge, ...]:
        return self._outgoing.get(node_id, ())

    def incoming(self, node_id: str) -> tuple[Edge, ...]:
        return self._incoming.get(node_id, ())

    @cached_property
    def back_edges(self) -> frozenset[int]:
        """Indexes (``Edge.index``) of the edges that close a cycle.

        Loop edges always do.  Real files also close "rework" cycles with
        conditional/fallback/error edges (``run_tests → write_fix`` on failure);
        those are found by a depth-first search that starts from the nodes without
        incoming edges, then from the remaining nodes in document order, so the
        answer is deterministic and follows how the author wrote the process.
        """
        backs = {e.index for e in self.edges if e.mode == "loop"}
        ids = {n.id for n in self.nodes}
        forward: dict[str, list[tuple[str, int]]] = {n.id: [] for n in self.nodes}
        has_incoming: set[str] = set()
        for edge in self.edges:
            if edge.mode == "loop" or edge.source not in ids:
                continue
            for target in edge.targets:
                if target in ids:
                    forward[edge.source].append((target, edge.index))
                    has_incoming.add(target)
        roots = [n.id for n in self.nodes if n.id not in has_incoming]
        roots += [n.id for n in self.nodes if n.id in has_incoming]
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        for root in roots:
            if root in state:
                continue
            state[root] = 1
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                node, i = stack[-1]
                successors = forward[node]
                if i == len(successors):
                    state[node] = 2
                    stack.pop()
                    continue
                stack[-1] = (node, i + 1)
                target, index = successors[i]
                seen = state.get(target)
                if seen == 1:
                    backs.add(index)
                elif seen is None:
                    state[target] = 1
                    stack.append((target, 0))
        return frozenset(backs)

    def entry_nodes(self) -> tuple[Node, ...]:
        """Nodes with no incoming edge other than back edges (binding §3 step 2)."""
        backs = self.back_edges
        # A set of the ids some forward edge leads to, dropped after: not through
        # ``incoming``, whose table (a tuple per node, ~86 bytes a chain node) the
        # validator's call then kept for the model's lifetime, the whole run's.
        led_to = {target for e in self.edges if e.index not in backs for target in e.targets}
        return tuple(n for n in self.nodes if n.id not in led_to)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    @cached_property
    def declared_inputs(self) -> tuple[str, ...]:
        return declared_names(self.inputs)

    @cached_property
    def loop_variables(self) -> tuple[str, ...]:
        """Every ``iterator_var`` a loop edge binds (``${loop.<var>}``)."""
        return tuple(dict.fromkeys(e.iterator_var for e in self.edges if e.iterator_var))

    @property
    def label(self) -> str:
        return self.name or self.id


def _node_from(
    data: Mapping[str, Any], index: int, notes: list[Issue], strings: dict[str, str], adopt: bool
) -> Node:
    pointer = join_pointer("/nodes", index)
    raw = data if adopt and type(data) is dict else dict(data)
    name = _text(data.get("name"))
    purpose = _text(data.get("purpose"))
    criteria = data.get("success_criteria")
    if isinstance(criteria, str):
        criteria = [criteria]
    preconditions = data.get("preconditions")
    if isinstance(preconditions, str):
        preconditions = [preconditions]
    gate = data.get("approval_gate")
    if isinstance(gate, bool):
        gate = {"required": gate}
    if "retry" in data and "retry_policy" in data:
        notes.append(
            Issue(
                "warning",
                "node/retry-both-shapes",
                "node has both `retry` and `retry_policy`; `retry` wins",
                pointer=join_pointer(pointer, "retry_policy"),
            )
        )
    return Node(
        id=_shared(raw, "id", str(raw.get("id", "")), strings),
        type=_shared(raw, "type", str(raw.get("type", "")), strings),
        index=index,
        name=name,
        subtype=_text(data.get("subtype")),
        purpose=purpose,
        description=_text(data.get("description")),
        explain=data.get("explain"),
        role=_text(data.get("role")),
        runtime=_mapping(data.get("runtime")),
        inputs=data.get("inputs"),
        outputs=data.get("outputs"),
        retry=_retry_from(data.get("retry"), data.get("retry_policy"), pointer, notes),
        timeout_sec=_timeout_from(data),
        security=_mapping(data.get("security")),
        approval_gate=_mapping(gate),
        classification=_text(data.get("classification")),
        success_criteria=tuple(str(c) for c in criteria) if isinstance(criteria, list) else (),
        handoff=_mapping(data.get("handoff")),
        preconditions=tuple(str(c) for c in preconditions)
        if isinstance(preconditions, list)
        else (),
        valid_window=_mapping(data.get("valid_window")),
        workflow_ref=_text(data.get("workflow_ref")),
        workflow_inputs=_mapping(data.get("workflow_inputs")),
        metadata=_mapping(data.get("metadata")),
        extensions=_extensions(data),
        raw=raw,
    )


def _shared(raw: dict[str, Any], key: str, text: str, strings: dict[str, str]) -> str:
    """``text`` (the value of ``raw[key]`` as text), as one string per document.

    Node ids, edge ends, node types and edge modes repeat across a document: an
    edge's ends then cost no memory of their own, nor does the ten-thousandth
    ``cli``.  ``raw`` gets the same (equal) string back in place of its duplicate.
    """
    shared = strings.setdefault(text, text)
    value = raw.get(key)
    if value is not shared and type(value) is str and value == shared:
        raw[key] = shared
    return shared


def _edge_from(
    data: Mapping[str, Any], index: int, notes: list[Issue], strings: dict[str, str], adopt: bool
) -> Edge:
    pointer = join_pointer("/edges", index)
    raw = data if adopt and type(data) is dict else dict(data)
    when_key = "when"
    when = data.get("when")
    if when is None and "condition" in data:
        when_key = "condition"
        when = data.get("condition")
    elif "condition" in data:
        notes.append(
            Issue(
                "warning",
                "edge/condition-ignored",
                "edge has both `when` and `condition`; `condition` is ignored",
                pointer=join_pointer(pointer, "condition"),
            )
        )
    if isinstance(when, bool):
        when = "true" if when else "false"
    elif isinstance(when, int | float):
        when = str(when)
    cases = data.get("cases")
    weight = data.get("weight")
    join_count = data.get("join_count")
    max_iterations = data.get("max_iterations")
    return Edge(
        source=_shared(raw, "from", str(raw.get("from", "")), strings),
        target=_shared(raw, "to", str(raw.get("to", "")), strings),
        index=index,
        mode=_shared(raw, "mode", str(raw.get("mode") or "sequential"), strings),
        when=when if isinstance(when, str) else None,
        label=_text(data.get("label")),
        contract=data["contract"] if isinstance(data.get("contract"), str) else None,
        contract_inline=dict(data["contract"])
        if isinstance(data.get("contract"), Mapping)
        else None,
        transform=data.get("transform"),
        join_mode=_text(data.get("join_mode")),
        join_count=join_count if isinstance(join_count, int) else None,
        for_each=_text(data.get("for_each")),
        iterator_var=_text(data.get("iterator_var")),
        cases=tuple(
            SwitchCase(value=c.get("value"), to=str(c.get("to", "")))
            for c in cases
            if isinstance(c, Mapping)
        )
        if isinstance(cases, list)
        else (),
        default_to=_text(data.get("default_to")),
        weight=min(_float(weight, 0.0), MAX_WEIGHT)
        if isinstance(weight, int | float) and not isinstance(weight, bool)
        else None,
        max_iterations=int(clamp(max_iterations, MAX_ITERATIONS))
        if isinstance(max_iterations, int) and not isinstance(max_iterations, bool)
        else None,
        metadata=_mapping(data.get("metadata")),
        extensions=_extensions(data),
        raw=raw,
        when_key=when_key,
    )


def _message_contracts(value: Any) -> dict[str, Any]:
    """``message_contracts`` as one mapping: a list of contracts is keyed by their ``id``."""
    if isinstance(value, list):
        return {
            str(item["id"]): item
            for item in value
            if isinstance(item, Mapping) and isinstance(item.get("id"), str)
        }
    return _mapping(value)


_Part = TypeVar("_Part", Node, Edge)


def _modelled(
    raw: dict[str, Any],
    key: str,
    make: Callable[[Mapping[str, Any], int], _Part],
    numbers: list[int],
) -> tuple[_Part, ...]:
    """The model of each mapping in the list ``raw[key]``; ``raw[key]`` becomes a
    copy of that list holding each model's own ``raw`` in place of its mapping.

    ``numbers[i]`` is the index given to the ``i``-th: the nodes and the edges take
    theirs from the same list, so node ``i`` and edge ``i`` share one ``int`` (an
    ``int`` above 256 is an object of its own, 32 bytes a chain edge).
    """
    items = raw.get(key)
    if not isinstance(items, list):
        return ()
    made: list[_Part] = []
    raw[key] = kept = list(items)
    for i, item in zip(numbers, items, strict=False):
        if isinstance(item, Mapping):
            part = make(item, i)
            made.append(part)
            kept[i] = part.raw
    return tuple(made)


def _length(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def workflow_from_dict(data: Mapping[str, Any], *, adopt: bool = False) -> Workflow:
    """Build the model from plain data; never raises on odd shapes (the validator does).

    ``data`` is not changed, and the model shares none of its node or edge mappings,
    unless ``adopt``: then each node's and edge's mapping (a ``dict``) becomes its
    ``raw`` as it is, its id/type/mode/end strings replaced by equal shared ones. For
    data nobody else keeps or changes, such as a document just parsed: a copy of
    every mapping held next to the original at the load's peak was ~400 bytes a
    chain node (``bench/bench_engine.py --scale ... --from-yaml``).
    """
    notes: list[Issue] = []
    version = data.get("osop_version")
    if version is None and "osop" in data:
        version = data.get("osop")
        notes.append(
            Issue(
                "warning",
                "workflow/legacy-version-key",
                "`osop:` is a legacy key; write `osop_version:` (osop migrate does it)",
                pointer="/osop",
            )
        )
    version_text = _text(version) or "1.1"
    if version is not None and version_text not in SUPPORTED_OSOP_VERSIONS:
        notes.append(
            Issue(
                "warning",
                "workflow/unknown-version",
                f"osop_version {version_text!r} is not one of "
                f"{', '.join(SUPPORTED_OSOP_VERSIONS)}; treated as 1.1",
                pointer="/osop_version" if "osop_version" in data else "/osop",
            )
        )
    # Each node and edge keeps its own copy of its mapping (``raw``, or the mapping
    # itself with ``adopt``); the workflow's ``raw`` lists those same mappings rather
    # than holding on to the input's, so a big document is not kept twice (the input
    # is usually dropped once modelled).
    raw = dict(data)
    strings: dict[str, str] = {}
    numbers = list(range(max(_length(raw.get("nodes")), _length(raw.get("edges")))))
    nodes = _modelled(
        raw, "nodes", lambda item, i: _node_from(item, i, notes, strings, adopt), numbers
    )
    edges = _modelled(
        raw, "edges", lambda item, i: _edge_from(item, i, notes, strings, adopt), numbers
    )
    del numbers
    contracts = dict(_mapping(data.get("contracts")))  # its own: filled in below
    for cname, cvalue in _message_contracts(data.get("message_contracts")).items():
        contracts.setdefault(cname, cvalue)
    tags = data.get("tags")
    triggers = data.get("triggers")
    imports = data.get("imports")
    name = str(data.get("name") or "")
    return Workflow(
        # Legacy files have no id: derive it from the name, as the validator warns.
        id=str(data.get("id") or "") or (derived_id(name) if name else ""),
        name=name,
        nodes=nodes,
        edges=edges,
        osop_version=version_text if version_text in SUPPORTED_OSOP_VERSIONS else "1.1",
        description=_text(data.get("description")),
        version=_text(data.get("version")),
        owner=_text(data.get("owner")),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        metadata=_mapping(data.get("metadata")),
        triggers=tuple(dict(t) for t in triggers if isinstance(t, Mapping))
        if isinstance(triggers, list)
        else (),
        inputs=data.get("inputs"),
        outputs=data.get("outputs"),
        contracts=contracts,
        security=_mapping(data.get("security")),
        retry=_retry_from(data.get("retry"), data.get("retry_policy"), "", notes),
        timeout_sec=_timeout_from(data),
        imports=tuple(imports) if isinstance(imports, list) else (),
        variables=_mapping(data.get("variables")),
        ledger=_mapping(data.get("ledger")),
        observability=_mapping(data.get("observability")),
        evolution=_mapping(data.get("evolution")),
        extensions=_extensions(data),
        raw=raw,
        notes=tuple(notes),
    )
