"""The one expression scope: what a ``when``, a CEL mapping or a ``${...}`` sees.

The engine builds a :class:`Scope` for every edge decision and every node
attempt, hands the node's scope to its executor (``ctx.scope``), and the
validator checks references against the same rules (:data:`EXPRESSION_NAMESPACES`,
:data:`INTERPOLATION_NAMESPACES`, :data:`BARE_NAME_ORDER`).  The rules, as
``docs/expressions.md`` states them:

- **Namespaces.** ``inputs``, ``outputs.<node>``, ``variables``, ``loop``,
  ``metadata``, ``env`` everywhere; ``event`` on event/signal edges, ``error``
  on edges out of a failed node; ``secrets`` only in ``${...}``.  A namespace
  name always means the namespace.
- **Bare names** (CEL only), looked up in order: the scope's own values (an
  edge's source outputs; a node's inputs), workflow inputs, workflow
  variables, node ids (``check_ci.ok`` reads node ``check_ci``'s outputs).
- **Missing references** raise :class:`~osop.errors.MissingReferenceError`
  naming the reference, never an empty string.  A rehearsal scope
  (``rehearsal=True``: dry_run and simulated runs) leaves an unresolvable
  ``${...}`` as written instead, and a missing secret reads ``***``.
- **Secrets.** The real value of a secret exists only where ``${secrets.X}``
  is written, for that step: it is handed to ``on_secret`` (the engine's
  redactor) the moment it is resolved.  CEL never reads ``secrets``.  Node
  outputs are read as recorded, so a secret inside an output is ``***`` for
  every later reader — edge conditions, interpolation, executors — alike,
  and the same after a resume.

A scope is a read-only :class:`~collections.abc.Mapping` (the CEL activation):
building one is O(1) and only the names an expression references are looked up.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from osop.errors import ClassificationError, MissingReferenceError
from osop.expr.cel import compile_expression
from osop.expr.interpolate import (
    INTERPOLATION_NAMESPACES,
    PathKey,
    interpolate,
    parse_reference,
)

__all__ = [
    "BARE_NAME_ORDER",
    "EXPRESSION_NAMESPACES",
    "INTERPOLATION_NAMESPACES",
    "METADATA_FIELDS",
    "RESERVED_NAMES",
    "Lazy",
    "NodeOutputs",
    "Scope",
    "for_each_expression",
    "make_scope",
]

#: Namespaces a CEL expression may read (``event``/``error`` only where they apply).
EXPRESSION_NAMESPACES = (
    "inputs",
    "outputs",
    "variables",
    "loop",
    "event",
    "error",
    "metadata",
    "env",
)
#: What ``metadata`` holds (``node_id``: the node or edge source the expression belongs to).
METADATA_FIELDS = ("run_id", "workflow_id", "mode", "started_at", "timestamp", "node_id")
#: Names that never fall through to the bare-name layers.
RESERVED_NAMES = frozenset({*EXPRESSION_NAMESPACES, "secrets"})
#: Where a bare CEL name is looked up, in order.
BARE_NAME_ORDER = ("source output", "input", "variable", "node")

_EMPTY: Mapping[str, Any] = {}


class Lazy(Mapping[str, Any]):
    """A namespace computed only when an expression reads it (``metadata.timestamp``)."""

    __slots__ = ("_compute", "_value")

    def __init__(self, compute: Callable[[], Mapping[str, Any]]) -> None:
        self._compute = compute
        self._value: Mapping[str, Any] | None = None

    def _mapping(self) -> Mapping[str, Any]:
        if self._value is None:
            self._value = self._compute()
        return self._value

    def __getitem__(self, name: str) -> Any:
        return self._mapping()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._mapping()

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


class NodeOutputs(Mapping[str, Mapping[str, Any]]):
    """``outputs``: completed nodes' recorded outputs by id, read on demand.

    ``lookup(id)`` gives a node's outputs or None when it has none recorded;
    ``ids()`` the nodes that have some.  ``guard(id)`` (optional) raises
    :class:`~osop.errors.ClassificationError` when the reader may not see that
    node; unreadable nodes are also left out of iteration.  ``overlay`` shows one
    node's outputs before they are recorded (a node's own success criteria).
    """

    __slots__ = ("_guard", "_ids", "_lookup", "_overlay")

    def __init__(
        self,
        lookup: Callable[[str], Mapping[str, Any] | None],
        ids: Callable[[], Iterable[str]],
        *,
        guard: Callable[[str], None] | None = None,
        overlay: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._lookup = lookup
        self._ids = ids
        self._guard = guard
        self._overlay = overlay

    @classmethod
    def of(cls, outputs: Mapping[str, Mapping[str, Any]]) -> NodeOutputs:
        """A view over a plain ``{node: outputs}`` mapping."""
        return cls(outputs.get, outputs.keys)

    def with_overlay(self, node_id: str, outputs: Mapping[str, Any]) -> NodeOutputs:
        return NodeOutputs(self._lookup, self._ids, guard=self._guard, overlay=(node_id, outputs))

    def __getitem__(self, node_id: str) -> Mapping[str, Any]:
        overlay = self._overlay
        if overlay is not None and overlay[0] == node_id:
            value: Mapping[str, Any] | None = overlay[1]
        else:
            value = self._lookup(node_id)
        if value is None:
            raise KeyError(node_id)
        guard = self._guard
        if guard is not None:
            guard(node_id)
        return value

    def __contains__(self, node_id: object) -> bool:
        if not isinstance(node_id, str):
            return False
        if self._overlay is not None and self._overlay[0] == node_id:
            return True
        return self._lookup(node_id) is not None

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        if self._overlay is not None:
            seen.add(self._overlay[0])
        names = [*seen, *(i for i in self._ids() if i not in seen)]
        for name in names:
            if self._readable(name) and name in self:
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _readable(self, node_id: str) -> bool:
        if self._guard is None:
            return True
        try:
            self._guard(node_id)
        except ClassificationError:
            return False
        return True


class Scope(Mapping[str, Any]):
    """The names one expression or one node configuration can reach.

    As a mapping it is the CEL activation: namespaces first, then the bare-name
    layers in :data:`BARE_NAME_ORDER`; ``secrets`` is never in it.
    :meth:`resolve` / :meth:`interpolate` serve ``${...}``, :meth:`evaluate`
    CEL.  Build one with :func:`make_scope`.
    """

    __slots__ = ("_layers", "_namespaces", "_on_secret", "_secrets", "rehearsal")

    def __init__(
        self,
        namespaces: Mapping[str, Any],
        layers: tuple[Mapping[str, Any], ...] = (),
        secrets: Any = None,
        on_secret: Callable[[str], None] | None = None,
        rehearsal: bool = False,
    ) -> None:
        self._namespaces = namespaces
        self._layers = layers
        self._secrets = secrets
        self._on_secret = on_secret
        self.rehearsal = rehearsal

    # -- the CEL activation ----------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        namespaces = self._namespaces
        if name in namespaces:
            return namespaces[name]
        if name not in RESERVED_NAMES:
            for layer in self._layers:
                if name in layer:
                    return layer[name]
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        if name in self._namespaces:
            return True
        if not isinstance(name, str) or name in RESERVED_NAMES:
            return False
        return any(name in layer for layer in self._layers)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name in self._namespaces:
            seen.add(name)
            yield name
        for layer in self._layers:
            for name in layer:
                if isinstance(name, str) and name not in seen and name not in RESERVED_NAMES:
                    seen.add(name)
                    yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def where(self, name: str) -> str | None:
        """Where a name resolves from: ``"namespace"``, or one of :data:`BARE_NAME_ORDER`."""
        if name in self._namespaces:
            return "namespace"
        if name in RESERVED_NAMES:
            return None
        for label, layer in zip(BARE_NAME_ORDER, self._layers, strict=False):
            if name in layer:
                return label
        return None

    # -- derived scopes --------------------------------------------------------------

    def bind(self, **names: Any) -> Scope:
        """This scope with ``names`` as the first bare-name layer (``item`` in a filter)."""
        return Scope(
            self._namespaces,
            (names, *self._layers),
            secrets=self._secrets,
            on_secret=self._on_secret,
            rehearsal=self.rehearsal,
        )

    def with_namespaces(self, **namespaces: Any) -> Scope:
        """This scope with more (or replaced) namespaces (``loop``, ``event``, ``error``)."""
        namespaces.pop("secrets", None)
        return Scope(
            {**self._namespaces, **namespaces},
            self._layers,
            secrets=self._secrets,
            on_secret=self._on_secret,
            rehearsal=self.rehearsal,
        )

    def with_secrets(self, secrets: Any, on_secret: Callable[[str], None] | None = None) -> Scope:
        """This scope reading ``${secrets.X}`` from ``secrets`` instead (a guided run's
        step shows a caller the reference, never the value)."""
        return Scope(
            self._namespaces,
            self._layers,
            secrets=secrets,
            on_secret=on_secret,
            rehearsal=self.rehearsal,
        )

    # -- CEL -------------------------------------------------------------------------

    def evaluate(
        self, source: str, functions: Mapping[str, Callable[..., Any]] | None = None
    ) -> Any:
        """Evaluate CEL ``source`` here (compiled once per text; word operators accepted)."""
        return compile_expression(source, legacy=True).evaluate(self, functions)

    # -- ${...} ----------------------------------------------------------------------

    def interpolate(self, value: Any, *, pointer: str = "") -> Any:
        """``value`` with every ``${...}`` resolved (deeply; a whole ``${ref}`` keeps its type)."""
        return interpolate(value, self.resolve, pointer=pointer)

    def resolve(self, reference: str) -> Any:
        """The value of one ``${...}`` reference; MissingReferenceError naming it when absent."""
        try:
            return self._resolve(reference.strip())
        except MissingReferenceError:
            if self.rehearsal:
                return "${" + reference + "}"
            raise

    def _resolve(self, reference: str) -> Any:
        path = parse_reference(reference)
        root = path[0]
        if root == "secrets":
            return self._secret(reference, path)
        if not isinstance(root, str) or root not in self._namespaces:
            available = sorted(
                {*(n for n in self._namespaces if n in INTERPOLATION_NAMESPACES), "secrets"}
                if self._secrets is not None
                else {n for n in self._namespaces if n in INTERPOLATION_NAMESPACES}
            )
            if root in INTERPOLATION_NAMESPACES:
                detail = f"the {root!r} namespace is not available here"
            else:
                detail = f"unknown namespace {root!r}" + _did_you_mean(
                    str(root), list(INTERPOLATION_NAMESPACES)
                )
            raise MissingReferenceError(
                reference, f"${{{reference}}}: {detail} (namespaces here: {', '.join(available)})"
            )
        return _walk(reference, path, self[root])

    def _secret(self, reference: str, path: tuple[PathKey, ...]) -> Any:
        if len(path) == 1:
            raise MissingReferenceError(
                reference, "${secrets}: name one secret, e.g. ${secrets.API_TOKEN}"
            )
        if self._secrets is None:
            raise MissingReferenceError(
                reference, f"${{{reference}}}: the 'secrets' namespace is not available here"
            )
        name = str(path[1])
        if name not in self._secrets:
            if self.rehearsal:
                return "***"
            known = sorted(str(n) for n in self._secrets)
            raise MissingReferenceError(
                reference,
                f"${{{reference}}}: no secret named {name!r}" + _did_you_mean(name, known),
            )
        value = self._secrets.get(name)  # a SecretStore remembers what it handed out
        if self._on_secret is not None:
            for text in _leaf_strings(value):
                self._on_secret(text)
        return _walk(reference, path, {name: value})


def make_scope(
    *,
    own: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Mapping[str, Any]] | None = None,
    variables: Mapping[str, Any] | None = None,
    loop: Mapping[str, Any] | None = None,
    event: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | Lazy | None = None,
    env: Mapping[str, Any] | None = None,
    secrets: Any = None,
    on_secret: Callable[[str], None] | None = None,
    rehearsal: bool = False,
) -> Scope:
    """A :class:`Scope`; a namespace passed as None is absent (reading it is an error naming it).

    ``own`` is the first bare-name layer: an edge's source outputs, or a node's
    inputs.  ``secrets`` is anything with ``name in secrets`` and
    ``secrets.get(name)`` (a dict, an :class:`osop.security.SecretStore`);
    ``on_secret`` receives every secret string a ``${secrets.X}`` hands out.
    """
    namespaces: dict[str, Any] = {}
    # Plain ifs, not a loop: the engine builds a scope per edge decision.
    if inputs is not None:
        namespaces["inputs"] = inputs
    if outputs is not None:
        namespaces["outputs"] = outputs
    if variables is not None:
        namespaces["variables"] = variables
    if loop is not None:
        namespaces["loop"] = loop
    if event is not None:
        namespaces["event"] = event
    if error is not None:
        namespaces["error"] = error
    if metadata is not None:
        namespaces["metadata"] = metadata
    if env is not None:
        namespaces["env"] = env
    layers = (
        own if own is not None else _EMPTY,
        inputs if inputs is not None else _EMPTY,
        variables if variables is not None else _EMPTY,
        outputs if outputs is not None else _EMPTY,
    )
    return Scope(namespaces, layers, secrets, on_secret, rehearsal)


def for_each_expression(text: str) -> str:
    """A loop edge's ``for_each`` as CEL: ``${outputs.a.items}`` means ``outputs.a.items``."""
    expression = text.strip()
    if expression.startswith("${") and expression.endswith("}") and "${" not in expression[2:]:
        expression = expression[2:-1]
    return expression


# -- walking a ${...} path, with messages that say what is there -------------------------


def _walk(reference: str, path: tuple[PathKey, ...], value: Any) -> Any:
    for depth in range(1, len(path)):
        key = path[depth]
        where = _format_path(path[:depth])
        if isinstance(key, int):
            if not isinstance(value, list | tuple):
                raise MissingReferenceError(
                    reference,
                    f"${{{reference}}}: {where} is {_kind(value)}, not a list, so it has no [{key}]",
                )
            if key >= len(value):
                raise MissingReferenceError(
                    reference,
                    f"${{{reference}}}: {where} has {len(value)} items, so it has no [{key}]",
                )
            value = value[key]
            continue
        if not isinstance(value, Mapping):
            raise MissingReferenceError(
                reference,
                f"${{{reference}}}: {where} is {_kind(value)}, so it has no field {key!r}",
            )
        if key not in value:
            available = sorted(str(k) for k in value)
            raise MissingReferenceError(
                reference, _missing_key_message(reference, path, depth, available)
            )
        value = value[key]
    return value


def _missing_key_message(
    reference: str, path: tuple[PathKey, ...], depth: int, available: list[str]
) -> str:
    key = str(path[depth])
    where = _format_path(path[:depth])
    if path[0] == "outputs" and depth == 1:
        detail = f"no outputs recorded for node {key!r}"
    elif path[0] == "env" and depth == 1:
        detail = f"environment variable {key!r} is not set"
        return f"${{{reference}}}: {detail}" + _did_you_mean(key, available)
    else:
        detail = f"{where} has no field {key!r}"
    suffix = _did_you_mean(key, available)
    if not suffix and available:
        shown = ", ".join(available[:10]) + (", ..." if len(available) > 10 else "")
        suffix = f" (available: {shown})"
    elif not available:
        suffix = f" ({where} is empty)"
    return f"${{{reference}}}: {detail}{suffix}"


def _did_you_mean(name: str, available: list[str]) -> str:
    close = difflib.get_close_matches(name, available, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _format_path(path: tuple[PathKey, ...]) -> str:
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        elif text:
            text += f".{key}"
        else:
            text = key
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _leaf_strings(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaf_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaf_strings(item)
    elif value is not None and not isinstance(value, bool):
        text = str(value)
        if text:
            yield text
