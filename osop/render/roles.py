"""Who does what in a workflow: people, AI agents, automation — with each one's share."""

from __future__ import annotations

from dataclasses import dataclass

from osop.format.workflow import Node, Workflow

__all__ = ["ACTORS", "RoleGroup", "actor_of", "role_groups"]

#: The three kinds of actor, in display order.
ACTORS = ("human", "agent", "automated")

_ACTOR_TITLES = {"human": "People", "agent": "AI agents", "automated": "Automated"}


def actor_of(node: Node) -> str:
    """``human`` (people and organisations: human, company, department), ``agent``,
    or ``automated`` (every tool-driven type, events and gateways included)."""
    if node.type in ("human", "company", "department"):
        return "human"
    if node.type == "agent":
        return "agent"
    return "automated"


@dataclass(frozen=True, slots=True)
class RoleGroup:
    actor: str
    nodes: tuple[Node, ...]
    share: float  # 0..1 of all nodes

    @property
    def title(self) -> str:
        return _ACTOR_TITLES[self.actor]

    @property
    def named_roles(self) -> tuple[str, ...]:
        """Distinct ``role:`` values in this group, in order of first appearance."""
        return tuple(dict.fromkeys(n.role for n in self.nodes if n.role))


def role_groups(workflow: Workflow) -> tuple[RoleGroup, ...]:
    """One group per actor kind (empty groups included, so shares always add up)."""
    total = len(workflow.nodes)
    groups = []
    for actor in ACTORS:
        members = tuple(n for n in workflow.nodes if actor_of(n) == actor)
        groups.append(RoleGroup(actor, members, len(members) / total if total else 0.0))
    return tuple(groups)
