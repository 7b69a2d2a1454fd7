"""Apply proposed changes (binding §7.3 ``proposed_changes``) to a workflow's data.

One function turns a change as it stands in an iteration record — ``type``,
``target``, ``config`` — into an edit of the workflow.  ``osop synthesize`` builds
its output through it, and ``osop iteration apply`` replays approved changes
through it onto the base file loaded with ruamel's round trip, so comments, key
order and untouched lines of the base survive.  Works on plain dicts and lists
as well as on ruamel's commented maps and sequences (their subclasses).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from osop.analysis.graph_edit import WorkflowData, add_bypass, add_precheck, node_data, parallelize

__all__ = ["DETERMINISTIC_TYPES", "apply_proposal", "change_id"]

DETERMINISTIC_TYPES = (
    "add_retry",
    "add_timeout",
    "add_approval_gate",
    "parallelize",
    "add_conditional_bypass",
    "add_precheck",
)


def change_id(change: Mapping[str, Any]) -> str:
    """A stable id for a change: its type and target (``add_retry:deploy``)."""
    target = change.get("target")
    text = "+".join(map(str, target)) if isinstance(target, list) else str(target)
    return f"{change.get('type')}:{text}"


def _node(data: WorkflowData, node_id: str) -> dict[str, Any]:
    try:
        return node_data(data, node_id)
    except KeyError:
        raise ValueError(f"the workflow has no node {node_id!r}") from None


def apply_proposal(data: WorkflowData, change: Mapping[str, Any]) -> None:
    """Apply one change in place; ``ValueError`` says why it cannot apply."""
    kind = str(change.get("type"))
    target = change.get("target")
    config = change.get("config") or {}
    if not isinstance(config, Mapping):
        raise ValueError(f"{change_id(change)}: config is not a mapping")
    if kind == "add_retry":
        _node(data, str(target))["retry_policy"] = copy.deepcopy(dict(config))
    elif kind == "add_timeout":
        _node(data, str(target))["timeout_sec"] = config["timeout_sec"]
    elif kind == "add_approval_gate":
        _node(data, str(target))["approval_gate"] = copy.deepcopy(dict(config["approval_gate"]))
    elif kind == "parallelize":
        if not isinstance(target, list) or len(target) != 2:
            raise ValueError(f"{change_id(change)}: parallelize targets two nodes")
        first, second = (str(t) for t in target)
        _node(data, first), _node(data, second)
        try:
            parallelize(data, first, second)
        except StopIteration:
            raise ValueError(f"no edge {first} -> {second} to turn parallel") from None
    elif kind == "add_conditional_bypass":
        _node(data, str(target))
        targets = [str(t) for t in config["bypass_to"]]
        add_bypass(data, str(config["from"]), str(target), targets, config["key"], config["value"])
    elif kind == "add_precheck":
        node = copy.deepcopy(dict(config["node"]))
        if any(isinstance(n, Mapping) and n.get("id") == node["id"] for n in data["nodes"]):
            raise ValueError(f"the workflow already has a node {node['id']!r}")
        add_precheck(data, str(target), node, when=config.get("when"))
    else:
        # changes a language model proposed (set_node_field, add_edge, remove_edge, add_node)
        from osop.analysis.llm_proposals import CHANGE_TYPES, apply_change

        if kind not in CHANGE_TYPES:
            raise ValueError(f"unknown change type {kind!r}")
        apply_change(data, {"type": kind, **copy.deepcopy(dict(config))})
