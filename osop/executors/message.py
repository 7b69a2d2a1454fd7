"""The ``company`` and ``department`` executors: structured messages between parties.

The message is ``runtime.message`` (resolved by the engine), else what a
``message`` edge delivered (``inputs.message``), else the node's inputs; the recipient is ``runtime.recipient``/``runtime.to``, else the node's
``role``, else its label.  Outputs: ``{message, recipient, delivered}``.

Delivery is *recorded, not sent*: nothing leaves the machine unless the
engine provides ``services["message_transport"]``, an async callable
``(recipient, message, node_type)`` whose returned mapping is merged into the
outputs (and ``delivered`` becomes true).
"""

from __future__ import annotations

from typing import Any

from osop.executors.base import NodeContext, NodeResult

__all__ = ["CompanyExecutor", "DepartmentExecutor", "MessageExecutor"]


class MessageExecutor:
    node_type = "company"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        message: Any = rt.get("message", ctx.inputs.get("message", dict(ctx.inputs)))
        recipient = str(rt.get("recipient") or rt.get("to") or ctx.node.role or ctx.node.label)
        outputs: dict[str, Any] = {"message": message, "recipient": recipient, "delivered": False}
        transport = ctx.services.get("message_transport")
        if transport is None:
            return NodeResult(outputs=outputs, log=[f"message to {recipient} recorded (not sent)"])
        receipt = await transport(recipient, message, ctx.node.type)
        outputs["delivered"] = True
        if isinstance(receipt, dict):
            outputs.update(receipt)
        return NodeResult(outputs=outputs, log=[f"message sent to {recipient}"])


class CompanyExecutor(MessageExecutor):
    node_type = "company"


class DepartmentExecutor(MessageExecutor):
    node_type = "department"
