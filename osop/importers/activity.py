"""What a tool call did, in words a workflow can use.

Two classifications of one call:

* its **phase kind** — what sort of tool it is (``explore``, ``edit``, ``run``,
  ``web``, ``mcp``, ``delegate``, ``plan``), which decides the node type of the
  phase it belongs to (binding node types: ``system`` for file work, ``cli`` for
  shell commands, ``api`` for the web, ``mcp`` for MCP tools, ``agent`` for the rest);
* its **activity** — what it achieved (``explore``, ``edit``, ``verify``, ``build``,
  ``vcs``, ``ship``, ``run``, ``web``, ``delegate``, ``plan``, ``mcp``): a shell
  command that runs the tests is verification, ``git push`` ships.  Synthesis
  names its steps by activity.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Final

from osop.security.redact import mask_secret_like

__all__ = [
    "IRREVERSIBLE_ACTIVITIES",
    "NODE_TYPE_OF_KIND",
    "activity_of",
    "call_key",
    "command_text",
    "phase_kind",
    "target_of",
]

NODE_TYPE_OF_KIND: Final = {
    "explore": "system",
    "edit": "system",
    "run": "cli",
    "web": "api",
    "mcp": "mcp",
    "delegate": "agent",
    "plan": "agent",
    "reason": "agent",
    "other": "agent",
}

_KIND_OF_TOOL: Final = {
    # Claude Code
    "read": "explore",
    "grep": "explore",
    "glob": "explore",
    "ls": "explore",
    "notebookread": "explore",
    "edit": "edit",
    "multiedit": "edit",
    "write": "edit",
    "notebookedit": "edit",
    "bash": "run",
    "bashoutput": "run",
    "killbash": "run",
    "killshell": "run",
    "webfetch": "web",
    "websearch": "web",
    "task": "delegate",
    "agent": "delegate",
    "todowrite": "plan",
    "todoread": "plan",
    "exitplanmode": "plan",
    "enterplanmode": "plan",
    # Codex CLI
    "shell": "run",
    "local_shell": "run",
    "local_shell_call": "run",
    "exec_command": "run",
    "write_stdin": "run",
    "container.exec": "run",
    "unified_exec": "run",
    "apply_patch": "edit",
    "update_plan": "plan",
    "view_image": "explore",
    "read_file": "explore",
    "list_dir": "explore",
    "grep_files": "explore",
    "web_search": "web",
    "web_search_call": "web",
}

_FILE_KEYS: Final = ("file_path", "path", "notebook_path", "filePath")

_EXPLORE_COMMANDS: Final = frozenset(
    {
        "cat", "head", "tail", "less", "more", "ls", "tree", "find", "fd", "grep", "rg",
        "ag", "ack", "wc", "file", "stat", "pwd", "which", "du", "nl", "bat", "sed",
        "awk", "diff", "jq",
    }
)  # fmt: skip
_VERIFY: Final = re.compile(
    r"(?:^|\s|/)(?:pytest|py\.test|tox|nox|jest|vitest|mocha|rspec|phpunit|ctest|"
    r"mypy|ruff|flake8|pylint|eslint|tsc|clippy|golangci-lint|shellcheck)\b"
    r"|\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?(?:test|lint|typecheck|check)\b"
    r"|\b(?:cargo|go|mvn|gradle|dotnet|swift|mix|deno)\s+(?:test|check|vet)\b"
    r"|\bmake\s+(?:test|check|lint)\b|\bunittest\b|\btasks\.py\s+test\b"
)
_BUILD: Final = re.compile(
    r"\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?build\b|\b(?:cargo|go|mvn|gradle|dotnet)\s+build\b"
    r"|^\s*make\b|\b(?:pip|uv|npm|pnpm|yarn|cargo|poetry)\s+(?:install|add|sync)\b"
)
_SHIP: Final = re.compile(
    r"\bgit\s+push\b|\bgh\s+(?:pr\s+(?:create|merge)|release\s+create)\b"
    r"|\b(?:npm|yarn|pnpm)\s+publish\b|\btwine\s+upload\b|\bcargo\s+publish\b"
    r"|\bkubectl\s+(?:apply|delete|rollout|scale)\b|\bhelm\s+(?:install|upgrade|uninstall)\b"
    r"|\bterraform\s+(?:apply|destroy)\b|\bdeploy\b"
    r"|\b(?:alembic\s+upgrade|flyway\s+migrate|rails\s+db:migrate|manage\.py\s+migrate)\b"
    r"|\bmigrate\b|\bdocker\s+push\b"
)
_VCS: Final = re.compile(r"\bgit\s+(?:add|commit|checkout|switch|branch|merge|rebase|stash|tag)\b")

#: Activities that change the world outside the working copy: put a review before them.
IRREVERSIBLE_ACTIVITIES: Final = frozenset({"ship"})


def phase_kind(tool: str) -> str:
    name = tool.strip()
    lower = name.lower()
    if lower.startswith("mcp__") or (lower.count("__") >= 1 and "." not in lower):
        return "mcp"
    return _KIND_OF_TOOL.get(lower, "other")


def command_text(tool_input: Any) -> str | None:
    """The shell command of a Bash/shell call, as one string (``bash -lc`` unwrapped)."""
    if isinstance(tool_input, dict):
        value = tool_input.get("command", tool_input.get("cmd"))
    else:
        value = tool_input
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts: list[str] = list(value)
        shell = len(parts) >= 3 and parts[0].split("/")[-1] in {"bash", "sh", "zsh"}
        if shell and parts[1] in {"-lc", "-c"}:
            return parts[2]
        return shlex.join(parts)
    return value if isinstance(value, str) else None


def _first_word(command: str) -> str:
    for token in re.split(r"[\s;&|()]+", command.strip()):
        if token and "=" not in token and token not in {"cd", "sudo", "time", "env"}:
            return token.split("/")[-1]
    return ""


def activity_of(tool: str, tool_input: Any) -> str:
    kind = phase_kind(tool)
    if kind != "run":
        return "other" if kind == "other" else kind
    command = command_text(tool_input) or ""
    if _SHIP.search(command):
        return "ship"
    if _VERIFY.search(command):
        return "verify"
    if _BUILD.search(command):
        return "build"
    if _VCS.search(command):
        return "vcs"
    first = _first_word(command)
    if first in _EXPLORE_COMMANDS or re.match(r"^git\s+(?:status|log|diff|show|blame)\b", command):
        if first == "sed" and re.search(r"\s-i\b", command):
            return "edit"
        return "explore"
    if "apply_patch" in command:
        return "edit"
    return "run"


def _short(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    more = len(text.strip().splitlines()) > 1
    if len(line) > limit:
        return line[: limit - 1] + "…"
    return line + (" …" if more else "")


def _relative(path: str, cwd: str | None) -> str:
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1 :]
    return path


_PATCH_FILE: Final = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+)$", re.MULTILINE)


def target_of(tool: str, tool_input: Any, cwd: str | None = None) -> str | None:
    """What a call worked on: the file, the command (first line), the URL, the query.

    Secret-looking values are masked; file contents are never part of it.
    """
    kind = phase_kind(tool)
    text: str | None = None
    if kind == "run":
        text = command_text(tool_input)
        if text is None and isinstance(tool_input, dict):
            text = tool_input.get("bash_id") or tool_input.get("shell_id")
    elif isinstance(tool_input, dict):
        for key in _FILE_KEYS:
            if isinstance(tool_input.get(key), str):
                text = _relative(tool_input[key], cwd)
                break
        else:
            for key in ("pattern", "url", "query", "description", "subagent_type"):
                if isinstance(tool_input.get(key), str):
                    text = tool_input[key]
                    break
            else:
                if isinstance(tool_input.get("todos"), list):
                    text = f"{len(tool_input['todos'])} items"
                elif isinstance(tool_input.get("plan"), list):
                    text = f"{len(tool_input['plan'])} steps"
    elif isinstance(tool_input, str) and kind == "edit":
        files = _PATCH_FILE.findall(tool_input)
        text = ", ".join(_relative(f.strip(), cwd) for f in files) or None
    if text is None:
        return None
    return mask_secret_like(_short(str(text)))


_NOT_IDENTITY: Final = frozenset({"description", "timeout", "run_in_background", "justification"})


def call_key(tool: str, tool_input: Any) -> str:
    """Identity of a call for retry detection: the same tool with the same input."""
    if isinstance(tool_input, dict):
        # Words about the call are not the call: a re-run often says "again".
        tool_input = {k: v for k, v in tool_input.items() if k not in _NOT_IDENTITY}
    try:
        body = json.dumps(tool_input, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(tool_input)
    return f"{tool}\x00{body}"
