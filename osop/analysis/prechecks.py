"""What a synthesized pre-check runs: a command derived from the failures, or a person.

A step that keeps failing with the same error gets a check before it.  When the
error says what was missing — a file or folder, a command, an environment
variable — the check is a ``cli`` node that tests exactly that, read-only, and
fails early with the error's own words.  When nothing can be derived (an HTTP
error, a message in prose), the check is a ``human`` checklist step: a person
confirms the condition before the step runs.  Either way the insight says which
and why.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

__all__ = ["Precheck", "derive_precheck"]

# `cat: config.yaml: No such file or directory`, `can't open 'x': No such file…`,
# `[Errno 2] No such file or directory: 'x'`, `stat x: no such file or directory`
_MISSING_PATH = (
    re.compile(r"(?:^|[\s:])['\"]?([\w./~@+-]+?)['\"]?: [Nn]o such file or directory"),
    re.compile(r"[Nn]o such file or directory: ['\"]([^'\"]+)['\"]"),
    re.compile(r"(?:stat|open|read|cannot access|can't open|cannot open) ['\"]?([\w./~@+-]+)"),
)
# `sh: 1: kubectl: not found`, `bash: kubectl: command not found`, `kubectl: command not found`
_MISSING_COMMAND = (
    re.compile(r"([\w.+-]+): (?:command )?not found"),
    re.compile(r"command not found: ([\w.+-]+)"),
    re.compile(r"executable file not found in \$PATH.*?['\"]([\w.+-]+)['\"]"),
)
# `DEPLOY_TOKEN: unbound variable`, `DEPLOY_TOKEN: parameter null or not set`, `KeyError: 'TOKEN'`
_MISSING_ENV = (
    re.compile(r"\b([A-Z][A-Z0-9_]{2,}): (?:unbound variable|parameter null or not set)"),
    re.compile(r"environment variable ['\"]?([A-Z][A-Z0-9_]{2,})['\"]? (?:is )?not set"),
    re.compile(r"KeyError: ['\"]([A-Z][A-Z0-9_]{2,})['\"]"),
)
_SHELL_WORDS = frozenset({"sh", "bash", "zsh", "line", "1", "2"})


@dataclass(frozen=True)
class Precheck:
    """The node to insert, and what the insight says about it."""

    node: dict[str, Any]
    #: ``when`` on the edge to the checked step (a person's checklist must say approved)
    when: str | None
    kind: str  # "command" or "checklist"
    why: str


def _quote_message(text: str) -> str:
    return shlex.quote(text[:200])


def _command_check(error: str) -> tuple[str, str] | None:
    """``(shell command, what it checks)`` for an error that names what was missing."""
    for pattern in _MISSING_ENV:
        match = pattern.search(error)
        if match:
            var = match.group(1)
            # `$${` is OSOP's escape for a literal `${` (the shell's own expansion)
            return f'test -n "$${{{var}:-}}"', f"the environment variable {var} is set"
    for pattern in _MISSING_COMMAND:
        match = pattern.search(error)
        if match and match.group(1) not in _SHELL_WORDS:
            name = match.group(1)
            return f"command -v {shlex.quote(name)}", f"the command {name} is installed"
    for pattern in _MISSING_PATH:
        match = pattern.search(error)
        if match:
            path = match.group(1).rstrip(".,;")
            if path and path not in _SHELL_WORDS and not path.isdigit():
                return f"test -e {shlex.quote(path)}", f"{path} exists"
    return None


def derive_precheck(node_id: str, label: str, node_type: str, error: str) -> Precheck:
    """The pre-check for a step whose failures repeat ``error``."""
    new_id = f"{node_id}_precheck"
    found = _command_check(error) if node_type in ("cli", "system", "git", "docker") else None
    if found is not None:
        command, checks = found
        message = f"pre-check failed before {node_id}: {checks} is required ({error[:160]})"
        return Precheck(
            node={
                "id": new_id,
                "type": "cli",
                "name": f"Pre-check before {label}",
                "purpose": f"Check that {checks} before {node_id} runs, and stop early "
                "with a clear message.",
                "runtime": {
                    "command": f"{command} || {{ echo {_quote_message(message)} >&2; exit 1; }}"
                },
                "x-osop-synthesized": {"rule": "add_precheck", "error": error, "checks": checks},
            },
            when=None,
            kind="command",
            why=f"the error names what was missing, so a command checks that {checks}",
        )
    return Precheck(
        node={
            "id": new_id,
            "type": "human",
            "subtype": "approval",
            "name": f"Checklist before {label}",
            "purpose": f"Before {node_id} runs, confirm that the cause of its repeated "
            f"failure is dealt with: “{error[:200]}”. Answer approved to go on, rejected "
            f"to stop before {node_id}.",
            "x-osop-synthesized": {"rule": "add_precheck", "error": error},
        },
        when="decision == 'approved'",
        kind="checklist",
        why="no command can be derived from the error text, so a person checks it",
    )
