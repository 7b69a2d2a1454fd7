"""Text with characters above U+1FFFF never reaches tree-sitter-bash's lexer.

The grammar's lexer can crash the whole process on such characters (a segmentation
fault, at random, depending on what was parsed before): the parser reads a stand-in
of the same UTF-8 length instead.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from osop.security import classify_command
from osop.security.shell import parse

ROOT = Path(__file__).resolve().parents[2]


def test_the_parser_never_sees_a_code_point_above_the_first_two_planes() -> None:
    text = "echo \U00020000 > /tmp/\U0010fffd && rm -rf \U000e0001x"
    tree_text = (parse(text).text or b"").decode("utf-8")
    assert not any(ord(ch) > 0x1FFFF for ch in tree_text)
    # Same length in bytes: byte offsets in the tree are those of the text as written.
    assert len(tree_text.encode()) == len(text.encode())


def test_words_made_of_high_plane_characters_are_classified_as_before() -> None:
    assert classify_command("rm -rf /\U00020000").level == classify_command("rm -rf /x").level
    assert classify_command("echo \U00030000").level == classify_command("echo x").level


@pytest.mark.slow
def test_many_texts_with_high_plane_characters_do_not_crash_the_process() -> None:
    # In a child process: before the stand-in, about every other run of this loop
    # ended in a segmentation fault.
    code = (
        "import random, sys\n"
        "from osop.security.shell import parse\n"
        "r = random.Random(int(sys.argv[1]))\n"
        "shell = 'abrmf -|;&()$`\\'\"\\\\<>/~*\\n=cd{}[]!#'\n"
        "for _ in range(20000):\n"
        "    text = ''.join(chr(r.randint(0x20000, 0x10FFFF)) if r.random() < 0.2 "
        "else r.choice(shell) for _ in range(r.randint(0, 80)))\n"
        "    parse(text)\n"
    )
    for seed in random.Random(7).sample(range(1000), 3):
        done = subprocess.run(
            [sys.executable, "-X", "faulthandler", "-c", code, str(seed)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
