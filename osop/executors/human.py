"""The ``human`` executor: an answer already given, a terminal prompt, or a durable pause.

1. An answer delivered for the node (answers file, ``osop approve``) becomes
   the outputs; ``human_metadata`` records ``actor``, ``decision``, ``notes``
   and ``response_time_ms`` (taken from the answer when it carries them).
2. Otherwise, on an interactive terminal, the person is asked: a choice among
   the options (see :func:`decision_options`), or one value per declared
   output, then notes.  Answering ``later`` (or just Enter at a choice) defers:
   the node waits as in 3 and the run pauses.
3. Otherwise the node asks the engine to wait (``WaitRequest(kind="human")``)
   and is re-run with the answer once it arrives — hours or days later.

A decision that is not one of the options fails with ``INVALID_ANSWER``
(``osop approve`` refuses it before it is ever recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import click

from osop.executors.base import NodeContext, NodeFailure, NodeResult, WaitRequest
from osop.format.workflow import Node

__all__ = ["APPROVAL_OPTIONS", "DEFER_WORDS", "HumanExecutor", "decision_options", "options_for"]

T = TypeVar("T")

APPROVAL_OPTIONS: Final = ("approved", "rejected")
_APPROVAL_SUBTYPES: Final = frozenset({"approval", "review", "approve", "sign-off", "signoff"})
_META_KEYS: Final = frozenset({"actor", "response_time_ms", "answered_at"})
#: What a person types at the terminal prompt to leave the question for later.
DEFER_WORDS: Final = frozenset({"later", "defer"})


def decision_options(node: Node, runtime: Mapping[str, Any] | None = None) -> list[str]:
    """The decisions ``node`` accepts (empty: free-form input, any decision).

    In order: ``runtime.options``; the alternatives of a declared ``decision``
    output (``schema: "approve | request_changes"`` or an ``enum``);
    ``approved``/``rejected`` for approval/review subtypes and approval gates.
    """
    options = (node.runtime if runtime is None else runtime).get("options")
    if isinstance(options, list) and options:
        return [str(o) for o in options]
    declared = _declared_alternatives(_output_spec(node.outputs, "decision"))
    if declared:
        return declared
    if (node.subtype or "").lower() in _APPROVAL_SUBTYPES or node.requires_approval:
        return list(APPROVAL_OPTIONS)
    return []


def options_for(ctx: NodeContext) -> list[str]:
    """The choices offered to the person (empty: free-form input)."""
    return decision_options(ctx.node, ctx.runtime)


def _output_spec(outputs: Any, name: str) -> Any:
    """The declaration of output ``name`` in any of the real-world ``outputs`` shapes."""
    if isinstance(outputs, Mapping):
        props = outputs.get("properties")
        if outputs.get("type") == "object" and isinstance(props, Mapping):
            return props.get(name)
        return outputs.get(name)
    if isinstance(outputs, list):
        for item in outputs:
            if isinstance(item, Mapping) and item.get("name") == name:
                return item
    return None


def _declared_alternatives(spec: Any) -> list[str]:
    """``"a | b"`` or an ``enum`` (also under ``schema``) as a list; else empty."""
    if isinstance(spec, str) and "|" in spec:
        return [c.strip().strip("'\"") for c in spec.split("|") if c.strip()]
    if isinstance(spec, Mapping):
        enum = spec.get("enum")
        if isinstance(enum, list) and enum:
            return [str(v) for v in enum]
        if "schema" in spec:
            return _declared_alternatives(spec["schema"])
    return []


def _prompt_text(ctx: NodeContext) -> str:
    text = ctx.runtime.get("prompt") or ctx.runtime.get("message") or ctx.node.purpose
    return str(text or ctx.node.label)


def _metadata(answer: Mapping[str, Any], decision: Any, elapsed_ms: int | None) -> dict[str, Any]:
    response_time = answer.get("response_time_ms", elapsed_ms)
    return {
        "actor": str(answer.get("actor") or "unknown"),
        "decision": decision,
        "notes": answer.get("notes", ""),
        "response_time_ms": response_time if isinstance(response_time, int) else None,
    }


async def _in_daemon_thread(func: Callable[[], T]) -> T:
    """``func()`` in a daemon thread.

    Not ``asyncio.to_thread``: when the run is cancelled (Ctrl-C) while a person
    is being asked, the thread stays blocked reading the terminal, and
    ``asyncio.run`` would wait for it at shutdown — the process would hang until
    Enter is pressed. A daemon thread is simply left behind.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, failed: bool) -> None:
        if future.done():  # cancelled meanwhile
            return
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)

    def work() -> None:
        try:
            outcome: Any = func()
            failed = False
        except BaseException as exc:  # handed to the awaiting task, as to_thread does
            outcome, failed = exc, True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome, failed)

    threading.Thread(target=work, name="osop-human-prompt", daemon=True).start()
    return await future


class HumanExecutor:
    node_type = "human"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        options = options_for(ctx)
        if ctx.answer is not None:
            return self._answered(ctx, dict(ctx.answer), options, None)
        if ctx.interactive:
            started = time.monotonic()
            answer = await _in_daemon_thread(lambda: self._ask(ctx, options))
            if answer is not None:
                elapsed = int((time.monotonic() - started) * 1000)
                return self._answered(ctx, answer, options, elapsed)
            # Deferred at the prompt: wait like a run without a terminal.
        return NodeResult(
            wait=WaitRequest(
                "human",
                ctx.node.id,
                prompt=_prompt_text(ctx),
                details={"options": options, "outputs": list(ctx.node.declared_outputs)},
            )
        )

    def _answered(
        self,
        ctx: NodeContext,
        answer: dict[str, Any],
        options: list[str],
        elapsed_ms: int | None,
    ) -> NodeResult:
        if "decision" not in answer and isinstance(answer.get("approved"), bool):
            answer["decision"] = "approved" if answer["approved"] else "rejected"
        decision = answer.get("decision")
        if options and decision is not None and str(decision) not in options:
            raise NodeFailure(
                "INVALID_ANSWER",
                f"decision {decision!r} is not one of {', '.join(options)}",
                retryable=False,
            )
        outputs = {k: v for k, v in answer.items() if k not in _META_KEYS}
        return NodeResult(
            outputs=outputs,
            human_metadata=_metadata(answer, decision, elapsed_ms),
            log=[f"answered by {answer.get('actor') or 'unknown'}: {decision!r}"],
        )

    def _ask(self, ctx: NodeContext, options: list[str]) -> dict[str, Any] | None:
        """The person's answer, or None when they defer it (the run then pauses)."""
        click.echo(f"\n[{ctx.node.id}] {_prompt_text(ctx)}")
        answer: dict[str, Any] = {}
        if options:
            click.echo(
                f"  (Enter or 'later' leaves the run paused; answer it with "
                f"`osop approve {ctx.run_id[:8]} {ctx.node.id} --decision ...`)"
            )
            label = "Decision [" + "/".join(options) + "]"
            while True:
                reply = str(click.prompt(label, default="", show_default=False)).strip()
                if not reply or reply.lower() in DEFER_WORDS:
                    return None
                if reply in options:
                    break
                click.echo(f"  {reply!r} is not one of: {', '.join(options)}")
            answer["decision"] = reply
        else:
            click.echo("  ('later' as the first answer leaves the run paused)")
            for index, name in enumerate(ctx.node.declared_outputs or ("response",)):
                value = click.prompt(name)
                if index == 0 and str(value).strip().lower() in DEFER_WORDS:
                    return None
                answer[name] = value
        answer["notes"] = click.prompt("Notes", default="", show_default=False)
        answer["actor"] = ctx.env.get("USER") or "terminal"
        return answer
