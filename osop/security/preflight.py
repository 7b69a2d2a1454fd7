"""Commands that are blocked whatever happens, found before anything runs.

A node whose command classifies as ``blocked`` (``curl … | sh``, ``rm -rf /``)
is refused by its executor; finding it only then means the steps before it
have already had their side effects.  This looks at each command as far as it
is static: every ``${...}`` reference is replaced by a neutral word, so
``curl ${inputs.url} | bash`` is found and ``${inputs.tool} --version`` is not
(the executor still classifies the command it finally runs).

Used by ``osop validate`` (rule ``security/blocked-command``) and by a live
run, which refuses to start (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from osop.diagnostics import join_pointer
from osop.errors import ExpressionError
from osop.expr import interpolate
from osop.format.workflow import Node, Workflow
from osop.security.rules import Classification

__all__ = ["BlockedCommand", "blocked_commands"]

#: What a ``${...}`` reference stands for while the command is classified.
_PLACEHOLDER: Final = "osop-value"
#: Node types whose ``runtime.command`` runs in a shell (cli also reads ``script``/``cmd``).
_COMMAND_TYPES: Final = frozenset({"cli", "cicd", "git", "docker", "infra"})


@dataclass(frozen=True, slots=True)
class BlockedCommand:
    node_id: str
    #: JSON pointer of the command in the document.
    pointer: str
    #: ``blocked: download-pipe-shell (...): curl x | sh`` — what the classifier found.
    reason: str

    def __str__(self) -> str:
        return f"node {self.node_id!r} runs a blocked command ({self.reason})"


def _command_of(node: Node) -> tuple[str, Any] | None:
    if node.type not in _COMMAND_TYPES:
        return None
    keys = ("command", "script", "cmd") if node.type == "cli" else ("command",)
    for key in keys:
        value = node.runtime.get(key)
        if value is not None:
            return key, value
    return None


def _static(command: Any) -> str | list[str] | None:
    try:
        value = interpolate(command, lambda _reference: _PLACEHOLDER)
    except ExpressionError:
        return None  # a malformed template: the validator reports it as such
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [str(word) for word in value]
    return None


@lru_cache(maxsize=4096)
def _classify(command: str) -> Classification:
    # Generated and real workflows repeat the same commands (`make test`) many times.
    from osop.security.commands import classify_command

    return classify_command(command)


def blocked_commands(workflow: Workflow) -> Iterator[BlockedCommand]:
    """Every node whose static command classifies as ``blocked``, in document order."""
    for node in workflow.nodes:
        found = _command_of(node)
        if found is None:
            continue
        key, command = found
        static = _static(command)
        if not static:
            continue
        if isinstance(static, str):
            verdict = _classify(static)
        else:
            # The shell parser is loaded only once a node has a command to classify.
            from osop.security.commands import classify_command

            verdict = classify_command(static)
        if verdict.is_blocked:
            pointer = join_pointer(node.pointer, "runtime", key)
            yield BlockedCommand(node.id, pointer, verdict.summary())
