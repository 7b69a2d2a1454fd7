"""The names an expression sees: namespaces first, then the bare-name rule.

In an edge's ``when``, ``decision == 'approved'`` reads the source node's output
``decision``. A bare name is looked up, in order, among: the source node's
outputs, the workflow inputs, the workflow variables, and finally node ids
(``check_ci.all_passed`` reads node ``check_ci``'s outputs). The namespace names
(``inputs``, ``outputs``, ``variables``, ``loop``, ``event``, ``metadata``,
``env``) always mean the namespace, even when some output has the same name;
such an output stays reachable as ``outputs.<source>.<name>``. ``secrets`` is
never visible to an expression.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["NAMESPACES", "RESERVED_NAMES", "EdgeActivation", "build_edge_activation"]

NAMESPACES = ("inputs", "outputs", "variables", "loop", "event", "metadata", "env")
# Names that never fall through to the bare-name layers.
RESERVED_NAMES = frozenset({*NAMESPACES, "secrets"})

_EMPTY: Mapping[str, Any] = {}


class EdgeActivation(Mapping[str, Any]):
    """A read-only, lazily merged view: namespaces, then bare-name layers in order.

    Building it is O(1); only the names an expression references are looked up.
    """

    __slots__ = ("_labels", "_layers", "_namespaces")

    def __init__(
        self,
        namespaces: Mapping[str, Any],
        layers: tuple[Mapping[str, Any], ...] = (),
        labels: tuple[str, ...] = (),
    ) -> None:
        self._namespaces = namespaces
        self._layers = layers
        self._labels = labels

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
        """Which layer a name resolves from (``"namespace"``, ``"source output"``...)."""
        if name in self._namespaces:
            return "namespace"
        if name in RESERVED_NAMES:
            return None
        for label, layer in zip(self._labels, self._layers, strict=False):
            if name in layer:
                return label
        return None


_EDGE_LAYER_LABELS = ("source output", "input", "variable", "node")


def build_edge_activation(
    source_outputs: Mapping[str, Any] | None,
    *,
    inputs: Mapping[str, Any] | None = None,
    outputs_by_node: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    loop: Mapping[str, Any] | None = None,
    event: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    env: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> EdgeActivation:
    """The variables mapping for an edge condition (or any node-bound expression).

    Namespaces passed as None are absent (an expression reading them gets a
    MissingReferenceError). ``extra`` adds more namespaces; they win like the
    standard ones (``secrets`` is dropped). Pass ``env`` only where conditions
    may read the environment, and never with secret values in it.
    """
    namespaces: dict[str, Any] = {}
    # Plain ifs, not a loop: this runs once per edge evaluation.
    if inputs is not None:
        namespaces["inputs"] = inputs
    if outputs_by_node is not None:
        namespaces["outputs"] = outputs_by_node
    if variables is not None:
        namespaces["variables"] = variables
    if loop is not None:
        namespaces["loop"] = loop
    if event is not None:
        namespaces["event"] = event
    if metadata is not None:
        namespaces["metadata"] = metadata
    if env is not None:
        namespaces["env"] = env
    if extra:
        namespaces.update(extra)
        namespaces.pop("secrets", None)
    layers = (
        source_outputs if source_outputs is not None else _EMPTY,
        inputs if inputs is not None else _EMPTY,
        variables if variables is not None else _EMPTY,
        outputs_by_node if outputs_by_node is not None else _EMPTY,
    )
    return EdgeActivation(namespaces, layers, _EDGE_LAYER_LABELS)
