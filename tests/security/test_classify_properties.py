"""Properties of the classifier on arbitrary input."""

from __future__ import annotations

import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from osop.security import LEVELS, classify_command, classify_sql

from .test_classify import COMMANDS

_RANK = {level: i for i, level in enumerate(LEVELS)}
#: Table commands, minus those ending in a comment (which swallows what follows)
#: and those with an unclosed quote (two of them close each other).
_known = st.sampled_from(
    [c for c, _, _ in COMMANDS if "#" not in c and c.count("'") % 2 == 0 and c.count('"') % 2 == 0]
)
_shellish = st.text(st.sampled_from("abrmf -|;&()$`'\"\\<>/~*\n=cd"), max_size=60)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), _shellish))
def test_any_text_is_classified_without_error(text: str) -> None:
    assert classify_command(text).level in LEVELS
    assert classify_sql(text).level in LEVELS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=6))
def test_any_argv_is_classified_without_error(argv: list[str]) -> None:
    assert classify_command(argv).level in LEVELS


@settings(max_examples=200, deadline=None)
@given(_known, _known, st.sampled_from([";", "&&", "||", "\n", " & "]))
def test_a_sequence_is_as_risky_as_its_riskiest_part(a: str, b: str, sep: str) -> None:
    combined = classify_command(f"{a}{sep}{b}").level
    expected = max(classify_command(a).level, classify_command(b).level, key=_RANK.__getitem__)
    assert _RANK[combined] >= _RANK[expected]


_WRAPPERS = [
    "sudo {}",
    "FOO=1 {}",
    "env X=1 {}",
    "nohup {}",
    "time {}",
    "timeout 5 {}",
    "bash -c {quoted}",
    "sh -c {quoted}",
    "ls; {}",
]


@settings(max_examples=150, deadline=None)
@given(_known, st.sampled_from(_WRAPPERS))
def test_wrappers_never_lower_the_level(command: str, wrapper: str) -> None:
    wrapped = wrapper.format(command, quoted=shlex.quote(command))
    assert _RANK[classify_command(wrapped).level] >= _RANK[classify_command(command).level]
