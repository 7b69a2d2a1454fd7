"""git, docker, cicd and infra executors (real git; fake docker/gh/terraform on PATH)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure, NodeResult
from osop.executors.cicd import CicdExecutor
from osop.executors.docker import DockerExecutor, docker_args
from osop.executors.git import GitExecutor, git_args
from osop.executors.infra import InfraExecutor

from .helpers import make_ctx, run


def fake_tools(tmp_path: Path, *names: str) -> dict[str, str]:
    """A PATH holding scripts that print their argv as JSON ({"tool":..., "args": [...]})."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        script = bin_dir / name
        script.write_text(
            "#!/bin/sh\n"
            f'printf \'{{"tool": "{name}", "args": [\'\n'
            'sep=""; for a in "$@"; do printf \'%s"%s"\' "$sep" "$a"; sep=", "; done\n'
            "printf ']}'\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


def execute(executor: Any, node: dict[str, Any], tmp_path: Path, **kw: Any) -> NodeResult:
    return run(executor.execute(make_ctx(node, tmp_path, **kw)))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_real_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }

    def git(runtime: dict[str, Any], **kw: Any) -> NodeResult:
        node = {"id": "g", "type": "git", "runtime": {"working_dir": "repo", **runtime}}
        return execute(GitExecutor(), node, tmp_path, env=env, **kw)

    git({"args": ["init", "-q", "-b", "main"]})
    (repo / "a.txt").write_text("a")
    assert git({"action": "status"}).outputs["stdout"] == "?? a.txt"
    git({"args": ["add", "a.txt"]})
    git({"action": "commit", "message": "first"})
    assert git({"args": ["log", "--format=%s"]}).outputs["stdout"] == "first"
    with pytest.raises(NodeFailure) as info:
        git({"args": ["reset", "--hard", "HEAD"]})
    assert info.value.code == "NEEDS_APPROVAL"
    with pytest.raises(NodeFailure) as info:
        git({"args": ["checkout", "no-such-branch"]})
    assert info.value.code == "EXIT_1"


def test_git_args_for_actions() -> None:
    assert git_args({"action": "clone", "repo": "https://x/r.git", "branch": "dev"}) == [
        "clone",
        "--branch",
        "dev",
        "https://x/r.git",
    ]
    assert git_args({"action": "push", "remote": "origin", "branch": "main", "force": True}) == [
        "push",
        "--force",
        "origin",
        "main",
    ]
    assert git_args({"action": "tag", "tag_name": "v1", "message": "m"}) == ["tag", "-m", "m", "v1"]
    assert git_args({}) is None
    with pytest.raises(NodeFailure) as info:
        git_args({"action": "push_event"})
    assert info.value.code == "NO_OPERATION"


def test_git_force_push_needs_approval(tmp_path: Path) -> None:
    node = {"id": "g", "type": "git", "runtime": {"action": "push", "force": True}}
    with pytest.raises(NodeFailure) as info:
        execute(GitExecutor(), node, tmp_path, env=fake_tools(tmp_path, "git"))
    assert info.value.code == "NEEDS_APPROVAL"


def test_git_missing_tool(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    node = {"id": "g", "type": "git", "runtime": {"action": "status"}}
    with pytest.raises(NodeFailure) as info:
        execute(GitExecutor(), node, tmp_path, env={"PATH": str(empty)})
    assert info.value.code == "NO_TOOL"
    assert "install git" in info.value.message


def test_docker_build_with_fake_docker(tmp_path: Path) -> None:
    node = {
        "id": "d",
        "type": "docker",
        "runtime": {"action": "build", "dockerfile": "Dockerfile", "tags": ["app:1", "app:latest"]},
    }
    result = execute(DockerExecutor(), node, tmp_path, env=fake_tools(tmp_path, "docker"))
    assert result.outputs["args"] == [
        "build",
        "-f",
        "Dockerfile",
        "-t",
        "app:1",
        "-t",
        "app:latest",
        ".",
    ]


def test_docker_args() -> None:
    assert docker_args({"action": "run", "image": "alpine", "run_command": ["echo", "x"]}) == [
        "run",
        "--rm",
        "alpine",
        "echo",
        "x",
    ]
    assert docker_args({"action": "compose_up", "compose_file": "c.yml"}) == [
        "compose",
        "-f",
        "c.yml",
        "up",
        "-d",
    ]
    with pytest.raises(NodeFailure):
        docker_args({"action": "scan"})


def test_docker_missing_tool_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    node = {"id": "d", "type": "docker", "runtime": {"command": "docker build -t x ."}}
    with pytest.raises(NodeFailure) as info:
        execute(DockerExecutor(), node, tmp_path, env={"PATH": str(empty)})
    assert info.value.code == "NO_TOOL"
    assert "install Docker" in info.value.message


def test_docker_prune_needs_approval(tmp_path: Path) -> None:
    node = {"id": "d", "type": "docker", "runtime": {"args": ["system", "prune", "-af"]}}
    with pytest.raises(NodeFailure) as info:
        execute(DockerExecutor(), node, tmp_path, env=fake_tools(tmp_path, "docker"))
    assert info.value.code == "NEEDS_APPROVAL"


def test_cicd_github_actions(tmp_path: Path) -> None:
    node = {
        "id": "c",
        "type": "cicd",
        "runtime": {
            "provider": "github_actions",
            "workflow": "deploy.yml",
            "ref": "main",
            "inputs": {"env": "staging"},
        },
    }
    result = execute(CicdExecutor(), node, tmp_path, env=fake_tools(tmp_path, "gh"))
    assert result.outputs["args"] == [
        "workflow",
        "run",
        "deploy.yml",
        "--ref",
        "main",
        "-f",
        "env=staging",
    ]


def test_cicd_command_and_unsupported(tmp_path: Path) -> None:
    node = {"id": "c", "type": "cicd", "runtime": {"command": "echo scanned"}}
    assert execute(CicdExecutor(), node, tmp_path).outputs["stdout"] == "scanned"
    node = {"id": "c", "type": "cicd", "runtime": {"provider": "jenkins", "action": "deploy"}}
    with pytest.raises(NodeFailure) as info:
        execute(CicdExecutor(), node, tmp_path)
    assert info.value.code == "NO_OPERATION"


def test_infra_terraform_and_kubectl(tmp_path: Path) -> None:
    env = fake_tools(tmp_path, "terraform", "kubectl", "argocd")
    node = {
        "id": "i",
        "type": "infra",
        "runtime": {"tool": "terraform", "action": "apply", "auto_approve": True},
    }
    assert execute(InfraExecutor(), node, tmp_path, env=env).outputs["args"] == [
        "apply",
        "-auto-approve",
    ]
    node = {
        "id": "i",
        "type": "infra",
        "runtime": {
            "tool": "kubectl",
            "action": "apply",
            "namespace": "prod",
            "manifests": ["k8s/"],
        },
    }
    assert execute(InfraExecutor(), node, tmp_path, env=env).outputs["args"] == [
        "apply",
        "-n",
        "prod",
        "-f",
        "k8s/",
    ]
    node = {
        "id": "i",
        "type": "infra",
        "runtime": {"tool": "argocd", "action": "sync", "app_name": "web"},
    }
    assert execute(InfraExecutor(), node, tmp_path, env=env).outputs["args"] == [
        "app",
        "sync",
        "web",
    ]


def test_infra_destroy_needs_approval(tmp_path: Path) -> None:
    node = {"id": "i", "type": "infra", "runtime": {"tool": "terraform", "action": "destroy"}}
    with pytest.raises(NodeFailure) as info:
        execute(InfraExecutor(), node, tmp_path, env=fake_tools(tmp_path, "terraform"))
    assert info.value.code == "NEEDS_APPROVAL"
    result = execute(
        InfraExecutor(),
        node,
        tmp_path,
        env=fake_tools(tmp_path, "terraform"),
        answer={"approved": True},
    )
    assert json.loads(json.dumps(result.outputs["args"])) == ["destroy"]


def test_infra_unknown_tool(tmp_path: Path) -> None:
    node = {"id": "i", "type": "infra", "runtime": {"tool": "crossplane"}}
    with pytest.raises(NodeFailure) as info:
        execute(InfraExecutor(), node, tmp_path)
    assert info.value.code == "NO_OPERATION"
