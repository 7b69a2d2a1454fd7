"""An independent count of what a Claude Code transcript holds (the tests' oracle).

Deliberately naive: file order, the last line of each ``message.id`` carries the
final usage, a line repeated with the same ``uuid`` counts once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def lines_of(path: Path) -> list[dict[str, Any]]:
    out = []
    for raw in path.read_bytes().splitlines():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict):
            out.append(data)
    return out


def expected(path: Path, *, sidechain: bool = False) -> dict[str, int]:
    seen_uuid: set[str] = set()
    usage_by_message: dict[str, dict[str, Any]] = {}
    tool_ids: set[str] = set()
    for data in lines_of(path):
        uid = data.get("uuid")
        if isinstance(uid, str):
            if uid in seen_uuid:
                continue
            seen_uuid.add(uid)
        if data.get("type") != "assistant" or bool(data.get("isSidechain")) != sidechain:
            continue
        message = data.get("message")
        if not isinstance(message, dict):
            continue
        usage_by_message[str(message.get("id"))] = message.get("usage") or {}
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                tool_ids.add(block["id"])
    totals = {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    for usage in usage_by_message.values():
        for key in totals:
            totals[key] += int(usage.get(key) or 0)
    totals["tool_calls"] = len(tool_ids)
    totals["messages"] = len(usage_by_message)
    return totals
