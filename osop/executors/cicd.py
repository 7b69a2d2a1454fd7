"""The ``cicd`` executor: trigger a pipeline through its platform's CLI.

``runtime.command`` runs as a shell command (``trivy image app:1``,
``npm run deploy`` ...).  Otherwise ``provider``/``platform``
``github_actions``/``github-actions`` with ``workflow`` runs
``gh workflow run <workflow> [--ref <branch|ref>] [-f key=value ...]``
(``inputs`` mapping); ``gitlab``/``gitlab-ci`` runs ``glab ci run
[--branch <branch>]``.  Other platforms need ``runtime.command`` or a plug-in
(``NO_OPERATION``).  A missing ``gh``/``glab`` fails with ``NO_TOOL``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.toolrun import run_tool

__all__ = ["CicdExecutor"]


def _platform(rt: Mapping[str, Any], subtype: str | None) -> str:
    value = rt.get("provider") or rt.get("platform") or subtype or ""
    return str(value).lower().replace("-", "_")


class CicdExecutor:
    node_type = "cicd"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        if rt.get("command") is not None:
            return await run_tool(ctx, "", "", None, what="cicd command")
        platform = _platform(rt, ctx.node.subtype)
        ref = rt.get("ref") or rt.get("branch")
        if platform in ("github_actions", "github") and rt.get("workflow"):
            args = ["workflow", "run", str(rt["workflow"])]
            if ref:
                args += ["--ref", str(ref)]
            inputs = rt.get("inputs")
            if isinstance(inputs, Mapping):
                for key, value in inputs.items():
                    args += ["-f", f"{key}={value}"]
            return await run_tool(
                ctx, "gh", "the GitHub CLI (https://cli.github.com)", args, what="gh"
            )
        if platform in ("gitlab", "gitlab_ci"):
            args = ["ci", "run", *(["--branch", str(ref)] if ref else [])]
            return await run_tool(
                ctx, "glab", "the GitLab CLI (https://gitlab.com/gitlab-org/cli)", args, what="glab"
            )
        raise NodeFailure(
            "NO_OPERATION",
            f"cicd node {ctx.node.id!r}: platform {platform or '(none)'!r} needs runtime.command "
            "(or github_actions + workflow, or gitlab), or a plug-in",
            retryable=False,
        )
