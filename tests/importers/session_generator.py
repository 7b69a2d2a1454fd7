"""Agent sessions that follow a known, hidden process — with noise.

The hidden process of a code change:

    explore src/ | explore tests/ | explore docs/   (any order: independent)
    plan                                           (most sessions)
    edit -> verify, again while the checks fail    (1..max_rounds rounds)
    commit
    ship                                           (git push)

Noise: exploration in varying order and amount, a web search now and then, a
re-read during the fix loop, a flaky command re-run, sessions that skip planning,
sessions that commit before checking (and fail more), thinking-only messages.
Each session is written as a Claude Code transcript, so the whole path
(import → synthesis) is exercised.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HIDDEN_STEPS = frozenset(
    {"explore_src", "explore_tests", "explore_docs", "plan", "edit", "verify", "commit", "ship"}
)
HIDDEN_PARALLEL = frozenset({"explore_src", "explore_tests", "explore_docs"})
HIDDEN_LOOP = ("edit", "verify")
CWD = "/home/dev/proj"


@dataclass
class Generated:
    paths: list[Path]
    #: The most edit → verify rounds any session took.
    max_rounds: int


class _Transcript:
    def __init__(self, session_id: str, start: datetime, rng: random.Random) -> None:
        self.sid = session_id
        self.t = start
        self.rng = rng
        self.lines: list[str] = []
        self.n = 0

    def _line(self, kind: str, message: dict[str, Any], **extra: Any) -> None:
        self.n += 1
        self.t += timedelta(seconds=self.rng.uniform(0.5, 4))
        self.lines.append(
            json.dumps(
                {
                    "parentUuid": None,
                    "isSidechain": False,
                    "userType": "external",
                    "cwd": CWD,
                    "sessionId": self.sid,
                    "version": "2.0.30",
                    "type": kind,
                    "uuid": f"{self.sid}-{self.n}",
                    "timestamp": self.t.isoformat().replace("+00:00", "Z"),
                    "message": message,
                    **extra,
                }
            )
        )

    def prompt(self, text: str) -> None:
        self._line("user", {"role": "user", "content": text})

    def call(self, name: str, tool_input: dict[str, Any], *, fail: bool = False) -> None:
        self.n += 1
        cid = f"toolu_{self.sid[:6]}_{self.n}"
        usage = {
            "input_tokens": self.rng.randint(2, 20),
            "output_tokens": self.rng.randint(20, 200),
            "cache_creation_input_tokens": self.rng.randint(0, 800),
            "cache_read_input_tokens": self.rng.randint(5000, 20000),
        }
        blocks = [{"type": "tool_use", "id": cid, "name": name, "input": tool_input}]
        if self.rng.random() < 0.3:
            blocks.insert(0, {"type": "text", "text": "Next step."})
        mid = f"msg_{cid}"
        for i, block in enumerate(blocks):  # streamed: one line per block
            self._line(
                "assistant",
                {
                    "id": mid,
                    "model": "claude-sonnet-4-5-20250929",
                    "role": "assistant",
                    "content": [block],
                    "usage": usage if i == len(blocks) - 1 else {**usage, "output_tokens": 1},
                },
            )
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": cid, "content": "ok"}
        if fail:
            result["is_error"] = True
            result["content"] = "Exit code 1\nFAILED"
        self._line("user", {"role": "user", "content": [result]})

    def say(self, text: str) -> None:
        self.n += 1
        self._line(
            "assistant",
            {
                "id": f"msg_say_{self.sid[:6]}_{self.n}",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "content": [{"type": "text", "text": text}],
                "usage": {"input_tokens": 3, "output_tokens": 15, "cache_read_input_tokens": 9000},
            },
        )


def _explore(t: _Transcript, area: str, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["Read", "Grep", "Glob", "Bash"])
        if kind == "Read":
            t.call("Read", {"file_path": f"{CWD}/{area}/file{rng.randint(1, 9)}.py"})
        elif kind == "Grep":
            t.call("Grep", {"pattern": "def main", "path": f"{CWD}/{area}"})
        elif kind == "Glob":
            t.call("Glob", {"pattern": f"{area}/**/*.py"})
        else:
            t.call("Bash", {"command": f"ls {area}/", "description": "List"})


def generate_sessions(
    folder: Path, count: int = 30, *, seed: int = 7, max_rounds: int = 3
) -> Generated:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    most = 1
    for index in range(count):
        sid = f"{index:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        t = _Transcript(sid, datetime(2025, 11, 1, 9, tzinfo=UTC) + timedelta(hours=index), rng)
        t.prompt("Fix the bug in the report generator and ship it.")
        areas = ["src", "tests"] + (["docs"] if rng.random() < 0.85 else [])
        rng.shuffle(areas)
        for area in areas:
            _explore(t, area, rng)
            if rng.random() < 0.15:
                t.call("WebSearch", {"query": "python csv quoting"})
        if rng.random() < 0.8:
            t.call("TodoWrite", {"todos": [{"content": "fix", "status": "pending"}]})
        rounds = rng.randint(1, max_rounds)
        careless = rng.random() < 0.25
        most = max(most, rounds + careless)  # a careless session goes round once more
        for r in range(rounds):
            for _ in range(rng.randint(1, 2)):
                t.call(
                    "Edit",
                    {"file_path": f"{CWD}/src/report.py", "old_string": "a", "new_string": "b"},
                )
            if r > 0 and rng.random() < 0.2:
                t.call("Read", {"file_path": f"{CWD}/src/report.py"})
            last = r == rounds - 1
            if careless and last:
                t.call("Bash", {"command": "git commit -am 'Fix report'", "description": "Commit"})
                t.call("Bash", {"command": "pytest -q"}, fail=True)
                t.call(
                    "Edit",
                    {"file_path": f"{CWD}/src/report.py", "old_string": "b", "new_string": "c"},
                )
                t.call("Bash", {"command": "pytest -q"}, fail=rng.random() < 0.5)
                t.call("Bash", {"command": "git commit -am 'Fix again'"})
            else:
                if rng.random() < 0.15:  # flaky: the same command fails, then passes as is
                    t.call("Bash", {"command": "pytest -q"}, fail=True)
                t.call("Bash", {"command": "pytest -q"}, fail=not last)
        if not careless:
            t.call("Bash", {"command": "git commit -am 'Fix report'", "description": "Commit"})
        if rng.random() < 0.3:
            t.say("Committed; pushing now.")
        t.call("Bash", {"command": "git push origin main", "description": "Push"})
        t.say("Done.")
        path = folder / f"{sid}.jsonl"
        path.write_text("\n".join(t.lines) + "\n", encoding="utf-8")
        paths.append(path)
    return Generated(paths, most)
