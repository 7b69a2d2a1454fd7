"""The loader: YAML 1.2 core schema, positions, and hostile input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osop.errors import LoadError, OsopError
from osop.format.loader import detect_kind, load_document, load_path, parse_text


def _load(text: str | bytes, name: str = "t.osop.yaml") -> dict[str, object]:
    return load_document(text, name).data


def test_yaml_12_core_schema() -> None:
    data = _load(
        "a: yes\nb: no\nc: on\nd: off\ne: 0o17\nf: 0x1F\ng: 2026-03-31\nh: ~\ni: 1.5\n"
        "j: '.inf'\nk: true\nl: '1'\nm: !!str 12\nn: 017\n"
    )
    assert data["a"] == "yes" and data["b"] == "no" and data["c"] == "on" and data["d"] == "off"
    assert data["e"] == 15 and data["f"] == 31
    assert data["g"] == "2026-03-31"
    assert data["h"] is None and data["i"] == 1.5 and data["j"] == ".inf"
    assert data["k"] is True and data["l"] == "1" and data["m"] == "12"
    assert data["n"] == 17  # YAML 1.2: a leading zero is not octal


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("x: .inf\n", "a.osop.yaml"),
        ("x: -.Inf\n", "a.osop.yaml"),
        ("x: .nan\n", "a.osop.yaml"),
        ("x: 1e999\n", "a.osop.yaml"),
        ("x: !!float 1e400\n", "a.osop.yaml"),
        ("x: " + "9" * 5000 + "\n", "a.osop.yaml"),
        ("x: " + "9" * 400 + "\n", "a.osop.yaml"),
        ('{"x": NaN}', "a.json"),
        ('{"x": -Infinity}', "a.json"),
        ('{"x": 1e999}', "a.json"),
        ('{"x": ' + "9" * 5000 + "}", "a.json"),
        ('{"x": ' + "9" * 400 + "}", "a.json"),
    ],
)
def test_numbers_no_json_number_can_hold_are_bad_number(text: str, name: str) -> None:
    with pytest.raises(LoadError) as info:
        parse_text(text, name)
    assert info.value.rule == "document/bad-number"


def test_duplicate_json_keys_keep_their_own_rule() -> None:
    with pytest.raises(LoadError) as info:
        parse_text('{"a": 1, "a": 2}', "a.json")
    assert info.value.rule == "document/duplicate-key"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"x": "a\\ud800"}', "a.json"),
        ('{"a\\udfff": 1}', "a.json"),
    ],
)
def test_lone_surrogates_are_bad_string(text: str, name: str) -> None:
    with pytest.raises(LoadError) as info:
        parse_text(text, name)
    assert info.value.rule == "document/bad-string"
    assert str(info.value).encode("utf-8")  # the message itself is printable


def test_positions_per_pointer() -> None:
    doc = load_document("id: x\nnodes:\n  - id: a\n    type: cli\n", "t.osop")
    assert doc.positions["/nodes/0/type"] == (4, 11)
    assert doc.key_positions["/nodes/0/type"] == (4, 5)
    assert doc.locate("/nodes/0/missing/deeper") == doc.positions["/nodes/0"]


def test_json_positions_and_data() -> None:
    doc = load_document('{\n  "id": "x",\n  "nodes": [{"id": "a"}]\n}', "t.osop.json")
    assert doc.syntax == "json" and doc.data["nodes"] == [{"id": "a"}]
    assert doc.positions_pending  # computed only when an issue needs locating
    assert doc.locate("/nodes/0/id") == (3, 20)
    assert doc.locate_key("/nodes/0/id") == (3, 14)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (b"a: 1\na: 2\n", "document/duplicate-key"),
        (b'{"a": 1, "a": 2}', "document/duplicate-key"),
        (b"- 1\n- 2\n", "document/not-a-mapping"),
        (b"", "document/empty"),
        (b"a: [\x00]", "document/not-text"),
        (b"\xff\xfeabc", "document/not-utf8"),
        (b"a: !!python/object/apply:os.system ['true']", "document/forbidden-tag"),
        (b"a: &x [*x]", "document/recursive-alias"),
        (b"a: 'unterminated", "document/yaml-syntax"),
        (b"a: 1\n---\nb: 2\n", "document/multiple-documents"),
        (b"<<: {a: 1}\nb: 2\n", "document/merge-key"),
        (b"? [a, b]\n: c\n", "document/complex-key"),
        (b"a: !!int abc", "document/bad-scalar"),
        (b"[" * 5000, "document/yaml-syntax"),
    ],
)
def test_hostile_or_broken_input(text: bytes, rule: str) -> None:
    with pytest.raises(LoadError) as info:
        load_document(text, "t.osop")
    assert info.value.rule in (rule, "document/too-deep")


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(LoadError) as info:
        load_document("\n".join(lines), "bomb.osop")
    assert info.value.rule == "document/alias-expansion"


def test_json_nesting_limit_matches_yaml() -> None:
    with pytest.raises(LoadError) as info:
        load_document('{"a": ' + "[" * 200 + "]" * 200 + "}", "deep.osop.json")
    assert info.value.rule == "document/too-deep"


def test_deep_nesting() -> None:
    text = "a:\n" + "".join("  " * (i + 1) + "- \n" for i in range(400))
    with pytest.raises(LoadError) as info:
        load_document(text, "deep.osop")
    assert info.value.rule == "document/too-deep"
    with pytest.raises(LoadError):
        load_document("[" * 100_000 + "]" * 100_000, "deep.json")


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 100_000 + "]" * 100_000,  # flow YAML: libyaml's composer recursed in C
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "- " * 100_000 + "x",
    ],
)
def test_very_deep_nesting_is_refused_not_a_crash(text: str) -> None:
    with pytest.raises(LoadError) as info:
        load_document(text, "deep.osop.yaml", max_bytes=None)
    assert info.value.rule == "document/too-deep"
    assert info.value.line == 1


def test_size_limit() -> None:
    text = "a: " + "x" * 2000
    with pytest.raises(LoadError) as info:
        load_document(text, "big.osop", max_bytes=1000)
    assert info.value.rule == "document/too-large"
    assert load_document(text, "big.osop", max_bytes=None).data["a"] == "x" * 2000


def test_kind_detection() -> None:
    assert detect_kind("a.osoplog.json") == "log"
    assert detect_kind("a.OSOP.YML") == "workflow"
    assert detect_kind("x.sop") == "sop"
    assert detect_kind("stdin", {"node_records": []}) == "log"
    assert detect_kind("stdin", {"sections": []}) == "sop"
    assert detect_kind("stdin", {"nodes": []}) == "workflow"
    assert detect_kind("stdin", {"other": 1}) is None
    with pytest.raises(LoadError) as info:
        load_document("other: 1\n", "stdin")
    assert info.value.rule == "document/unknown-kind"


def test_error_carries_location() -> None:
    with pytest.raises(LoadError) as info:
        load_document("id: x\nnodes:\n  - id: a\n    id: b\n", "dup.osop")
    assert (info.value.line, info.value.column) == (4, 5)
    assert "dup.osop:4:5" in str(info.value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_osop_errors(raw: bytes) -> None:
    with contextlib.suppress(OsopError):
        load_document(raw, "fuzz.osop")


_yaml_chars = st.sampled_from(list("abc:-[]{}&*!|>'\"#?,%@` \n\t0123456789.~"))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(_yaml_chars, max_size=200))
def test_arbitrary_yaml_like_text_raises_only_osop_errors(text: str) -> None:
    with contextlib.suppress(OsopError):
        load_document(text, "fuzz.osop")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), _json_values, min_size=1, max_size=5))
def test_json_round_trips_through_the_yaml_path(data: dict[str, object]) -> None:
    data = {"nodes": [], **data}
    text = json.dumps(data)
    assert load_document(text, "x.osop.json").data == data
    assert load_document(text, "x.osop").data == data  # sniffed as JSON


def test_json_syntax_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        load_document('{"id": "x",}', "t.osop.json")
    assert info.value.rule == "document/json-syntax" and info.value.line == 1
    with pytest.raises(LoadError) as info:
        load_path(tmp_path)
    assert info.value.rule == "document/unreadable"
    with pytest.raises(LoadError) as info:
        load_path(tmp_path / "missing.osop.yaml")
    assert info.value.rule == "document/unreadable"


def test_a_second_document_is_located() -> None:
    with pytest.raises(LoadError) as info:
        load_document("a: 1\n---\nb: 2\n", "t.osop")
    assert info.value.rule == "document/multiple-documents" and info.value.line == 3


def test_tab_indentation_gets_a_hint() -> None:
    with pytest.raises(LoadError) as info:
        load_document("id: t\nnodes:\n\t- id: a\n", "t.osop.yaml")
    assert info.value.rule == "document/yaml-syntax" and info.value.line == 3
    assert "spaces, not tabs" in info.value.message
