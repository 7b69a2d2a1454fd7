"""The ``docker`` executor: the real ``docker`` CLI.

``runtime.command``, ``runtime.args`` (``docker <args>``) or ``runtime.action``:
``build`` (``dockerfile``, ``context`` (default ``.``), ``tags``,
``build_args``), ``push``/``pull`` (``image`` or ``tags``), ``run``
(``image``, ``run_command``; ``--rm`` always), ``compose_up``/``compose_down``
(``compose_file``).  A missing ``docker`` fails with ``NO_TOOL``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.toolrun import run_tool, string_list

__all__ = ["DockerExecutor", "docker_args"]


def docker_args(rt: Mapping[str, Any]) -> list[str] | None:
    if rt.get("args") is not None:
        return string_list(rt["args"])
    action = rt.get("action")
    if action is None:
        return None
    images = string_list(rt.get("image")) or string_list(rt.get("tags"))
    if action == "build":
        args = ["build"]
        if rt.get("dockerfile"):
            args += ["-f", str(rt["dockerfile"])]
        for tag in string_list(rt.get("tags")) or string_list(rt.get("image")):
            args += ["-t", tag]
        build_args = rt.get("build_args")
        if isinstance(build_args, Mapping):
            for key, value in build_args.items():
                args += ["--build-arg", f"{key}={value}"]
        return [*args, str(rt.get("context") or ".")]
    if action in ("push", "pull") and images:
        return [str(action), images[0]]
    if action == "run" and images:
        return ["run", "--rm", images[0], *string_list(rt.get("run_command"))]
    compose = ["compose", *(["-f", str(rt["compose_file"])] if rt.get("compose_file") else [])]
    if action == "compose_up":
        return [*compose, "up", "-d"]
    if action == "compose_down":
        return [*compose, "down"]
    raise NodeFailure(
        "NO_OPERATION",
        f"docker action {action!r} is not supported here (build, push, pull, run, compose_up, "
        "compose_down; push/pull/run need runtime.image); use runtime.args or runtime.command",
        retryable=False,
    )


class DockerExecutor:
    node_type = "docker"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        args = docker_args(ctx.runtime) if ctx.runtime.get("command") is None else None
        return await run_tool(
            ctx,
            "docker",
            "Docker (https://docs.docker.com/get-docker/)",
            args,
            what="docker command",
        )
