"""The ``git`` executor: real ``git`` commands.

``runtime.command`` (run as a shell command), ``runtime.args`` (``git <args>``)
or ``runtime.action``:

=========== ============================================================
action      runs
=========== ============================================================
status      ``git status --porcelain``
clone       ``git clone [--branch <branch>] <repo|repository> [<directory>]``
checkout    ``git checkout [-b] <branch>`` (``create: true`` adds ``-b``)
commit      ``git commit [--all] -m <message>``
push        ``git push [--force] [<remote>] [<branch>]``
pull/fetch  ``git pull|fetch [<remote>] [<branch>]``
tag         ``git tag [-m <message>] <tag_name>``
=========== ============================================================

Outputs as for a ``cli`` node.  A missing ``git`` fails with ``NO_TOOL``;
``git push --force`` and ``reset --hard`` need an approval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.toolrun import run_tool, string_list

__all__ = ["GitExecutor", "git_args"]


def _need(rt: Mapping[str, Any], *names: str) -> str:
    for name in names:
        if rt.get(name):
            return str(rt[name])
    raise NodeFailure("BAD_RUNTIME", f"runtime.{names[0]} is required", retryable=False)


def git_args(rt: Mapping[str, Any]) -> list[str] | None:
    """The arguments for ``runtime.args``/``runtime.action`` (None: nothing given)."""
    if rt.get("args") is not None:
        return string_list(rt["args"])
    action = rt.get("action")
    if action is None:
        return None
    remote_branch = string_list(rt.get("remote")) + string_list(rt.get("branch"))
    if action == "status":
        return ["status", "--porcelain"]
    if action == "clone":
        branch = ["--branch", str(rt["branch"])] if rt.get("branch") else []
        return [
            "clone",
            *branch,
            _need(rt, "repo", "repository"),
            *string_list(rt.get("directory")),
        ]
    if action == "checkout":
        return ["checkout", *(["-b"] if rt.get("create") else []), _need(rt, "branch")]
    if action == "commit":
        return ["commit", *(["--all"] if rt.get("all") else []), "-m", _need(rt, "message")]
    if action == "push":
        return ["push", *(["--force"] if rt.get("force") else []), *remote_branch]
    if action in ("pull", "fetch"):
        return [str(action), *remote_branch]
    if action == "tag":
        message = ["-m", str(rt["message"])] if rt.get("message") else []
        return ["tag", *message, _need(rt, "tag_name", "tag")]
    raise NodeFailure(
        "NO_OPERATION",
        f"git action {action!r} is not supported (status, clone, checkout, commit, push, "
        "pull, fetch, tag); use runtime.args or runtime.command",
        retryable=False,
    )


class GitExecutor:
    node_type = "git"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        args = git_args(ctx.runtime) if ctx.runtime.get("command") is None else None
        return await run_tool(ctx, "git", "git (https://git-scm.com)", args, what="git command")
