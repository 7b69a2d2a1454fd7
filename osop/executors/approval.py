"""The security gate before a command or SQL statement runs (binding §9.2).

``blocked`` is refused outright (``BLOCKED``, never retried, no approval can
lift it).  ``dangerous`` needs an approval: the node's own
``security.pre_approved: true``, or an answer delivered for the node that says
approved (``{approved: true}`` or ``{decision: approved}``); without one the
attempt fails with ``NEEDS_APPROVAL`` (the engine turns that into a pause for a
human and re-runs the attempt with the answer).  An answer that says anything
else fails with ``REJECTED``.  ``moderate`` runs and is logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from osop.executors.base import NodeContext, NodeFailure
from osop.security import Classification

__all__ = ["APPROVED_DECISIONS", "APPROVED_SUBJECT", "answer_approves", "enforce", "subject_of"]

APPROVED_DECISIONS = frozenset({"approved", "approve", "yes", "y", "ok", "accept", "accepted"})
#: Key the engine adds to an answer that already approved one command: its fingerprint.
APPROVED_SUBJECT = "x-approved-subject"


def subject_of(what: str, command: object) -> str:
    """A fingerprint of exactly what is about to run (an approval is for that alone)."""
    text = command if isinstance(command, str) else "\x00".join(str(w) for w in command)  # type: ignore[attr-defined]
    return hashlib.sha256(f"{what}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def answer_approves(answer: Mapping[str, Any] | None) -> bool | None:
    """True/False when the answer approves/rejects, None when there is no decision in it."""
    if answer is None:
        return None
    if "approved" in answer and isinstance(answer["approved"], bool):
        return answer["approved"]
    decision = answer.get("decision")
    if decision is None:
        return None
    return str(decision).strip().lower() in APPROVED_DECISIONS


def enforce(
    ctx: NodeContext, classification: Classification, what: str, subject: str | None = None
) -> list[str]:
    """Raise when ``classification`` forbids running now; else the log lines to keep.

    ``subject`` (see :func:`subject_of`) names exactly what runs: an answer that
    already approved a different subject (an earlier ``for_each`` item) does not
    approve this one, which needs its own approval.
    """
    details = classification.to_dict()
    if subject is not None:
        details["subject"] = subject
    if classification.is_blocked:
        raise NodeFailure(
            "BLOCKED",
            f"refused to run {what}: {classification.summary()}",
            details=details,
            retryable=False,
        )
    if classification.needs_approval:
        pre_approved = ctx.node.security.get("pre_approved") is True
        verdict = answer_approves(ctx.answer)
        spent = (ctx.answer or {}).get(APPROVED_SUBJECT)
        if verdict is True and spent is not None and spent != subject:
            verdict = None  # that answer approved something else
        if verdict is True and subject is not None:
            ctx.approved_subject = subject
        if verdict is False:
            raise NodeFailure(
                "REJECTED",
                f"{what} was rejected by the approver ({classification.summary()})",
                details=details,
                retryable=False,
            )
        if not pre_approved and verdict is None:
            raise NodeFailure(
                "NEEDS_APPROVAL",
                f"{what} needs approval: {classification.summary()}",
                details=details,
                retryable=False,
            )
        how = "pre-approved" if pre_approved else "approved"
        return [f"{how} {classification.summary()}"]
    if classification.level == "moderate":
        return [f"classified {classification.summary()}"]
    return []
