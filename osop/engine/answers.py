"""Answering a person's question: who may be answered, with what, and the verb that does it.

:func:`approve` is what ``osop approve``, the MCP tool ``osop_approve`` and
Python callers share.  Every delivery goes through :func:`check_answer`, so a
typo (``--decision aproved``), an answer for a node that does not wait for a
person, or a second, different answer to the same question is refused at once
— with the reason and the allowed values — instead of failing the run later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from osop.engine.clock import Clock, SystemClock, iso
from osop.engine.state import FINAL_STATUSES, RunState
from osop.engine.store import RunHandle, RunStore
from osop.errors import ExecutionError, RunRefusedError
from osop.executors.human import APPROVAL_OPTIONS, decision_options
from osop.format.workflow import Node, Workflow

__all__ = [
    "allowed_decisions",
    "answer_of",
    "approve",
    "check_answer",
    "check_preset_answers",
    "pending_answer",
    "stamp_answer",
]

#: Answer fields that say who answered and when, not what: they never make two answers differ.
_ABOUT_THE_ANSWER: Final = frozenset({"actor", "answered_at", "notes", "response_time_ms"})
_PERSON_WAITS: Final = frozenset({"human", "approval"})


def allowed_decisions(node: Node, wait_kind: str | None) -> list[str]:
    """The decisions an answer for ``node`` may carry (empty: any, a free-form human node).

    A pause for an approval (a gate, a dangerous command) takes ``approved`` or
    ``rejected``; a human node takes its own options (see
    :func:`osop.executors.human.decision_options`).
    """
    if wait_kind == "approval" or (wait_kind is None and node.type != "human"):
        return list(APPROVAL_OPTIONS)
    options = decision_options(node)
    if any("${" in option for option in options):
        return []  # options computed at run time: only the node itself can check them
    return options


def _decision(answer: Mapping[str, Any]) -> Any:
    if "decision" not in answer and isinstance(answer.get("approved"), bool):
        return "approved" if answer["approved"] else "rejected"
    return answer.get("decision")


def _substance(answer: Mapping[str, Any]) -> dict[str, Any]:
    """What an answer says (its decision and fields), without who gave it and when."""
    out = {k: v for k, v in answer.items() if k not in _ABOUT_THE_ANSWER}
    decision = _decision(answer)
    out.pop("approved", None)
    if decision is not None:
        out["decision"] = str(decision)
    return out


def pending_answer(handle: RunHandle, state: RunState, node_id: str) -> dict[str, Any] | None:
    """The answer already given to the node's current question (journaled or still in the inbox)."""
    latest: dict[str, Any] | None = None
    for item in handle.read_inbox():
        fresh = item["id"] not in state.inbox_seen
        if fresh and item.get("kind") == "answer" and item.get("node") == node_id:
            answer = item.get("answer")
            latest = dict(answer) if isinstance(answer, Mapping) else {}
    if latest is not None:
        return latest
    journaled = state.answers.get(node_id)
    if journaled is None or node_id in state.approved_subjects:
        return None  # none, or spent: it approved an earlier command, what waits now is new
    return dict(journaled)


def _waiting_list(state: RunState) -> str:
    people = [nid for nid, w in state.waits.items() if w.get("kind") in _PERSON_WAITS]
    return ", ".join(sorted(people)) if people else "none"


def check_answer(
    handle: RunHandle,
    state: RunState,
    node: Node,
    answer: Mapping[str, Any],
    *,
    replace: bool = False,
) -> None:
    """Raise :class:`ExecutionError` (saying why) unless ``answer`` may be delivered to ``node``."""
    run = handle.run_id
    nid = node.id
    st = state.nodes.get(nid)
    wait = state.waits.get(nid)
    if wait is None and st is not None and st.status in FINAL_STATUSES:
        # An answer nobody will read would look like it did something.
        raise ExecutionError(
            f"node {nid!r} of run {run} is not waiting for an answer: it ended {st.status}"
        )
    for paused in (state.paused or {}).get("waiting") or ():
        if paused.get("node") == nid and paused.get("kind") in ("event", "signal"):
            raise ExecutionError(
                f"node {nid!r} waits for {paused.get('kind')} {paused.get('name')!r}, not an "
                f"answer: deliver it with `osop signal {run[:8]} {paused.get('name')}`"
            )
    kind = str(wait.get("kind")) if wait is not None else None
    if wait is not None and kind not in _PERSON_WAITS:
        name = wait.get("name")
        what = f"its sub-run {name}" if kind == "child" else f"{kind} {name!r}"
        raise ExecutionError(
            f"node {nid!r} of run {run} waits for {what}, not for a person "
            f"(nodes waiting for a person: {_waiting_list(state)})"
        )
    if kind is None:
        if st is not None and st.status == "RUNNING":
            raise ExecutionError(f"node {nid!r} of run {run} is running, not waiting for an answer")
        if node.type != "human" and not node.requires_approval:
            # A node the run has not reached may be answered ahead of time only when
            # it will ask a person; anything else would never read the answer.
            raise ExecutionError(
                f"node {nid!r} of run {run} is a {node.type} node that does not wait for a "
                f"person (nodes waiting for a person: {_waiting_list(state)})"
            )
    decision = _decision(answer)
    allowed = allowed_decisions(node, kind)
    if decision is not None and allowed and str(decision) not in allowed:
        raise ExecutionError(
            f"decision {str(decision)!r} is not allowed for node {nid!r}: "
            f"use one of {', '.join(allowed)}"
        )
    previous = pending_answer(handle, state, nid)
    if previous is not None and not replace and _substance(previous) != _substance(answer):
        given = _decision(previous)
        said = f" {str(given)!r}" if given is not None else ""
        by = previous.get("actor") or "someone"
        raise ExecutionError(
            f"node {nid!r} of run {run} was already answered{said} by {by}; "
            "give --replace (replace=True) to change the answer"
        )


def check_preset_answers(workflow: Workflow, answers: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse answers given up front (``--answers``) whose decision the node does not allow.

    Checked before the run starts: a typo would otherwise fail the run when the
    node is reached.  Answers for ids the workflow does not have are left alone.
    """
    problems: list[str] = []
    for node_id, answer in answers.items():
        if not workflow.has_node(node_id):
            continue
        decision = _decision(answer)
        allowed = allowed_decisions(workflow.node(node_id), None)
        if decision is not None and allowed and str(decision) not in allowed:
            problems.append(
                f"node {node_id!r}: decision {str(decision)!r} is not allowed "
                f"(use one of {', '.join(allowed)}); nothing was run"
            )
    if problems:
        raise RunRefusedError("an answer given up front is not one its node allows", problems)


def stamp_answer(answer: Mapping[str, Any], clock: Clock | None = None) -> dict[str, Any]:
    """``answer`` with ``answered_at`` (when it arrived) set, unless it says so already."""
    out = dict(answer)
    if not isinstance(out.get("answered_at"), str):
        out["answered_at"] = iso((clock or SystemClock()).now())
    return out


def answer_of(
    decision: str,
    *,
    notes: str | None = None,
    actor: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The answer ``osop approve`` delivers: ``data``'s fields, the decision, notes, who."""
    answer: dict[str, Any] = dict(data or {})
    answer["decision"] = decision
    if notes is not None:
        answer["notes"] = notes
    answer["actor"] = actor or _user()
    return answer


def approve(
    run_id: str,
    node_id: str,
    decision: str = "approved",
    *,
    notes: str | None = None,
    actor: str | None = None,
    data: Mapping[str, Any] | None = None,
    replace: bool = False,
    store: RunStore | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Answer the question ``node_id`` of a paused run asks; returns the answer recorded.

    ``decision`` must be one the node allows (``approved``/``rejected``, or the
    node's declared options); ``data`` adds answer fields (a form's values).
    Raises :class:`~osop.errors.ExecutionError` saying why when the answer is
    refused.  The run goes on with :func:`osop.engine.resume_run` (``osop resume``).
    """
    from osop.engine.runner import deliver_answer

    answer = stamp_answer(answer_of(decision, notes=notes, actor=actor, data=data), clock)
    deliver_answer(store or RunStore(), run_id, node_id, answer, replace=replace)
    return answer


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
