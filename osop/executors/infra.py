"""The ``infra`` executor: terraform, kubectl, helm, pulumi, ansible, argocd.

``runtime.command`` runs as a shell command.  Otherwise ``tool`` plus
``action`` and ``args`` build the command line: ``<tool> <action> <args...>``,
with conveniences: kubectl/helm get ``-n <namespace>``, kubectl gets
``-f <manifest>`` per ``manifests`` entry, terraform gets ``-auto-approve``
only when ``auto_approve: true``, argocd runs ``argocd app <action>
<app_name>``.  Destructive actions (``terraform destroy``, ``kubectl
delete``, ``helm uninstall``) are classified dangerous and need an approval.
A missing tool fails with ``NO_TOOL`` naming what to install.
"""

from __future__ import annotations

from typing import Final

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.toolrun import run_tool, string_list

__all__ = ["INSTALL_HINTS", "InfraExecutor"]

INSTALL_HINTS: Final = {
    "terraform": "Terraform (https://developer.hashicorp.com/terraform/install)",
    "tofu": "OpenTofu (https://opentofu.org/docs/intro/install/)",
    "kubectl": "kubectl (https://kubernetes.io/docs/tasks/tools/)",
    "helm": "Helm (https://helm.sh/docs/intro/install/)",
    "pulumi": "Pulumi (https://www.pulumi.com/docs/install/)",
    "ansible-playbook": "Ansible (https://docs.ansible.com)",
    "argocd": "the Argo CD CLI (https://argo-cd.readthedocs.io/en/stable/cli_installation/)",
}


class InfraExecutor:
    node_type = "infra"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        if rt.get("command") is not None:
            return await run_tool(ctx, "", "", None, what="infra command")
        tool = str(rt.get("tool") or "")
        if tool not in INSTALL_HINTS:
            raise NodeFailure(
                "NO_OPERATION",
                f"infra node {ctx.node.id!r}: runtime.tool {tool or '(none)'!r} is not one of "
                f"{', '.join(INSTALL_HINTS)}; give runtime.command instead",
                retryable=False,
            )
        action = string_list(rt.get("action"))
        args = string_list(rt.get("args"))
        if tool == "argocd":
            argv = ["app", *action, *string_list(rt.get("app_name")), *args]
        else:
            argv = [*action, *args]
            if tool in ("kubectl", "helm") and rt.get("namespace"):
                argv += ["-n", str(rt["namespace"])]
            if tool == "kubectl":
                for manifest in string_list(rt.get("manifests")):
                    argv += ["-f", manifest]
            if tool in ("terraform", "tofu") and rt.get("auto_approve") is True:
                argv.append("-auto-approve")
        return await run_tool(ctx, tool, INSTALL_HINTS[tool], argv, what=f"{tool} command")
