"""Read OSOP documents (YAML 1.2 or JSON) into plain data that remembers where it came from.

Why not ``yaml.safe_load``: PyYAML resolves scalars by YAML 1.1 rules (``on`` is
``True``, ``2026-03-31`` a date, ``0o17`` a string) and silently keeps the last of
duplicate keys.  We compose the node graph with libyaml (fast) and build the values
ourselves with YAML 1.2 *core schema* rules, recording the line/column of every
value (compact :class:`Marks`, looked up by JSON pointer when an issue needs
locating), and rejecting hostile input (alias bombs, deep nesting,
binary junk) with a :class:`~osop.errors.LoadError` instead of a hang or a traceback.
"""

from __future__ import annotations

import json
import math
import re
import sys
from array import array
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from osop.diagnostics import escape_pointer_token
from osop.errors import LoadError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_INT_DIGITS",
    "Document",
    "DocumentKind",
    "check_nesting",
    "check_strings",
    "detect_kind",
    "json_loads_checked",
    "load_document",
    "load_path",
    "nests_too_deep",
    "parse_text",
    "set_size_limit",
    "size_limit",
    "yaml_load_error",
]

DocumentKind = Literal["workflow", "log", "sop"]

#: The spec's recommended maximum file size; larger needs ``max_bytes=`` (or, for
#: every load that uses this default, :func:`size_limit`: the CLI's ``--max-bytes``).
DEFAULT_MAX_BYTES = 1_000_000

# The limit a load with the default ``max_bytes`` applies (None: no limit).
_SIZE_LIMIT: ContextVar[int | None] = ContextVar("osop_size_limit", default=DEFAULT_MAX_BYTES)


def set_size_limit(max_bytes: int | None) -> None:
    """Make ``max_bytes`` the limit of every load that uses the default (this context).

    A command's ``--max-bytes`` calls this once, so every document the command
    reads (a workflow it runs, the ``.sop`` it renders, a workflow a run resumes)
    is held to the limit the user chose. Loads that pass their own ``max_bytes``
    are unaffected.
    """
    _SIZE_LIMIT.set(max_bytes)


@contextmanager
def size_limit(max_bytes: int | None) -> Iterator[None]:
    """:func:`set_size_limit` for the duration of a ``with`` block."""
    token = _SIZE_LIMIT.set(max_bytes)
    try:
        yield
    finally:
        _SIZE_LIMIT.reset(token)


def _limit(max_bytes: int | None) -> int | None:
    return _SIZE_LIMIT.get() if max_bytes == DEFAULT_MAX_BYTES else max_bytes


def _too_large(size: int, max_bytes: int, name: str) -> LoadError:
    return LoadError(
        f"document is {size:,} bytes, over the {max_bytes:,}-byte limit "
        f"(raise it with --max-bytes {_raised(size)} on the command line, "
        "or max_bytes= in Python)",
        rule="document/too-large",
        file=name,
    )


def _raised(size: int) -> int:
    """A round limit above ``size`` to suggest."""
    step = 1_000_000 if size >= 1_000_000 else 100_000
    return (size // step + 1) * step


#: Deeper than this is not a process description but an attack or an accident.
MAX_DEPTH = 128
#: Longest integer literal accepted.  Python refuses to turn longer ones into text
#: (and no float can hold them); no process description needs one.
MAX_INT_DIGITS = 4000
#: Values produced by expanding aliases, beyond the document's own nodes.
MAX_ALIAS_EXPANSION = 100_000

_SUFFIX_KINDS: tuple[tuple[str, DocumentKind], ...] = (
    (".osoplog.yaml", "log"),
    (".osoplog.yml", "log"),
    (".osoplog.json", "log"),
    (".osoplog", "log"),
    (".osop.yaml", "workflow"),
    (".osop.yml", "workflow"),
    (".osop.json", "workflow"),
    (".osop", "workflow"),
    (".sop.yaml", "sop"),
    (".sop.yml", "sop"),
    (".sop.json", "sop"),
    (".sop", "sop"),
)

Position = tuple[int, int]


class _Table:
    """Positions as dictionaries keyed by JSON pointer (what the composing path builds)."""

    __slots__ = ("key_positions", "positions")

    def __init__(self, positions: dict[str, Position], key_positions: dict[str, Position]):
        self.positions = positions
        self.key_positions = key_positions

    def locate(self, pointer: str) -> Position | None:
        probe = pointer
        while True:
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return None
            probe = probe.rsplit("/", 1)[0]

    def locate_key(self, pointer: str) -> Position | None:
        return self.key_positions.get(pointer) or self.locate(pointer)

    def dicts(self) -> tuple[dict[str, Position], dict[str, Position]]:
        return self.positions, self.key_positions


class Marks:
    """Where each value of a document is written, in compact arrays (no pointer strings).

    Values are numbered in document order (a collection before what it holds). A
    pointer-keyed dictionary of positions cost ~1.9 KB per workflow node (a pointer
    string, a tuple and a dict entry per value and per key), more than the data
    itself; these arrays cost 28 bytes per value, and a pointer is found by walking
    down from the root when an issue needs locating. Answers are exactly the
    dictionaries' (:meth:`dicts` rebuilds them; tests compare the two).
    """

    __slots__ = ("_children", "at", "ends", "key_at", "keys")

    def __init__(self) -> None:
        #: line, column (1-based) of value ``i`` at ``2i``, ``2i + 1``
        self.at = array("I")
        #: line, column of the key that holds value ``i`` (0, 0: a list item or the root)
        self.key_at = array("I")
        #: the number of the first value after value ``i`` and all it holds
        self.ends = array("I")
        #: the key that holds value ``i`` (None: a list item or the root)
        self.keys: list[str | None] = []
        # A collection's children, by escaped key or list index: made when first
        # walked through, so many issues under one big list cost one pass over it.
        self._children: dict[int, dict[str, int] | array[int]] = {}

    def _child(self, parent: int, token: str) -> int | None:
        children = self._children.get(parent)
        if children is None:
            ends, keys = self.ends, self.keys
            first, end = parent + 1, ends[parent]
            if first < end and keys[first] is not None:
                by_key: dict[str, int] = {}
                child = first
                while child < end:
                    by_key.setdefault(escape_pointer_token(cast(str, keys[child])), child)
                    child = ends[child]
                children = by_key
            else:
                by_index = array("I")
                child = first
                while child < end:
                    by_index.append(child)
                    child = ends[child]
                children = by_index
            self._children[parent] = children
        if isinstance(children, dict):
            return children.get(token)
        if token.isascii() and token.isdigit() and str(int(token)) == token:
            index = int(token)
            return children[index] if index < len(children) else None
        return None

    def _find(self, pointer: str) -> tuple[int, bool]:
        """The value ``pointer`` names, else its nearest ancestor (and whether exact)."""
        if not self.ends:
            return -1, False
        if not pointer:
            return 0, True
        value = 0
        for token in pointer[1:].split("/") if pointer[0] == "/" else ["\0"]:
            child = self._child(value, token)
            if child is None:
                return value, False
            value = child
        return value, True

    def locate(self, pointer: str) -> Position | None:
        value, _ = self._find(pointer)
        return (self.at[2 * value], self.at[2 * value + 1]) if value >= 0 else None

    def locate_key(self, pointer: str) -> Position | None:
        value, exact = self._find(pointer)
        if exact and self.key_at[2 * value]:
            return (self.key_at[2 * value], self.key_at[2 * value + 1])
        return self.locate(pointer)

    def dicts(self) -> tuple[dict[str, Position], dict[str, Position]]:
        """The same positions as pointer-keyed dictionaries (what :class:`_Table` holds)."""
        positions: dict[str, Position] = {}
        key_positions: dict[str, Position] = {}
        at, key_at, ends, keys = self.at, self.key_at, self.ends, self.keys
        open_: list[list[Any]] = []  # [end, pointer, next list index]
        for value in range(len(ends)):
            while open_ and open_[-1][0] <= value:
                open_.pop()
            if not open_:
                pointer = ""
            else:
                top = open_[-1]
                key = keys[value]
                if key is None:
                    pointer = f"{top[1]}/{top[2]}"
                    top[2] += 1
                else:
                    pointer = f"{top[1]}/{escape_pointer_token(key)}"
                    key_positions[pointer] = (key_at[2 * value], key_at[2 * value + 1])
            positions[pointer] = (at[2 * value], at[2 * value + 1])
            if ends[value] > value + 1:
                open_.append([ends[value], pointer, 0])
        return positions, key_positions


_Where = Marks | _Table


@dataclass(slots=True)
class Document:
    """A parsed document: plain data, and where each value is written (on demand)."""

    data: dict[str, Any]
    kind: DocumentKind
    text: str
    name: str
    syntax: Literal["yaml", "json"]
    path: Path | None = None
    #: Where each value is written; None until an issue needs locating (JSON
    #: documents: the position pass costs far more than ``json.loads`` itself).
    where: _Where | None = None

    @property
    def positions_pending(self) -> bool:
        return self.where is None

    def _located(self) -> _Where:
        if self.where is None:
            self.where = _where_of(self.text, self.name)
        return self.where

    @property
    def positions(self) -> dict[str, Position]:
        """Line/column (1-based) of every value by JSON pointer (built on each call)."""
        return self._located().dicts()[0]

    @property
    def key_positions(self) -> dict[str, Position]:
        """Positions of mapping *keys* (``/nodes/0/id`` → where ``id:`` is written)."""
        return self._located().dicts()[1]

    def locate(self, pointer: str) -> Position | None:
        """Line/column (1-based) of ``pointer``, or of its nearest located ancestor."""
        return self._located().locate(pointer)

    def locate_key(self, pointer: str) -> Position | None:
        """Where the key that holds ``pointer`` is written (falls back to the value)."""
        return self._located().locate_key(pointer)

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


def detect_kind(name: str, data: Mapping[str, Any] | None = None) -> DocumentKind | None:
    """Kind by file name first, then by content; ``None`` when neither tells."""
    lowered = name.lower()
    for suffix, kind in _SUFFIX_KINDS:
        if lowered.endswith(suffix):
            return kind
    if data is not None:
        if "osoplog_version" in data or "node_records" in data:
            return "log"
        if "sop_version" in data or "sections" in data:
            return "sop"
        if "nodes" in data or "osop_version" in data or "edges" in data:
            return "workflow"
    return None


# --- YAML 1.2 core schema -------------------------------------------------------------

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_BOOL_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT_DEC = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")

_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_TAG = "tag:osop,plain"
_ALLOWED_TAGS = {
    _STR_TAG,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class BadNumber(ValueError):
    """A number the formats cannot hold: not finite, or too many digits."""


def _checked_int(text: str, base: int = 10) -> int:
    if len(text.lstrip("+-")) > MAX_INT_DIGITS:
        raise BadNumber(
            f"an integer of {len(text.lstrip('+-')):,} digits (at most {MAX_INT_DIGITS:,} "
            f"are accepted): {text[:20]}..."
        )
    value = int(text, base)
    if abs(value) > sys.float_info.max:
        raise BadNumber(
            f"an integer of {len(text.lstrip('+-')):,} digits is larger than any JSON "
            f"number (a 64-bit float) can hold: {text[:20]}..."
        )
    return value


def _checked_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadNumber(f"{text[:40]} is not a finite number (JSON numbers are finite)")
    return value


def _reject_constant(token: str) -> Any:
    raise BadNumber(f"{token} is not a number JSON allows (numbers are finite)")


def _core_scalar(text: str) -> Any:
    """Resolve a *plain* scalar by the YAML 1.2 core schema."""
    if _NULL.match(text):
        return None
    if _BOOL_TRUE.match(text):
        return True
    if _BOOL_FALSE.match(text):
        return False
    if _INT_DEC.match(text):
        return _checked_int(text)
    if _INT_OCT.match(text):
        return _checked_int(text[2:], 8)
    if _INT_HEX.match(text):
        return _checked_int(text[2:], 16)
    if _FLOAT.match(text):
        return _checked_float(text)
    if _INF.match(text) or _NAN.match(text):
        # Core-schema YAML, but no JSON number: records and renderers could not
        # write it back, and no duration, count or weight is infinite.
        return _reject_constant(text)
    return text


class _ComposeOnlyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml composer; implicit resolution is ours (YAML 1.2), so resolve nothing here."""

    # Every plain scalar gets a private tag; _core_scalar then applies YAML 1.2 rules.
    # (An explicit ``!!str`` keeps the standard tag, so it stays a string.)
    yaml_implicit_resolvers: dict[Any, Any] = {  # noqa: RUF012 - PyYAML's class-level table
        None: [(_PLAIN_TAG, re.compile(r".*", re.DOTALL))]
    }


def _tagged_scalar(node: yaml.ScalarNode, where: str) -> Any:
    tag = node.tag
    value: str = node.value
    try:
        if tag == _PLAIN_TAG:
            return _core_scalar(value)
        if tag == _STR_TAG:
            return value
        return _explicit(tag, value, node, where)
    except BadNumber as exc:
        raise _load_error(str(exc), "document/bad-number", where, node) from None


def _explicit(tag: str, value: str, node: yaml.Node, where: str) -> Any:
    if tag == "!":  # non-specific tag: a string
        return value
    if tag not in _ALLOWED_TAGS:
        raise _load_error(
            f"tag {tag!r} is not allowed: OSOP documents use the YAML 1.2 core schema only",
            "document/forbidden-tag",
            where,
            node,
        )
    resolved = _core_scalar(value)
    kind = tag.rsplit(":", 1)[-1]
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (float, int),
        "bool": (bool,),
        "null": (type(None),),
    }
    if kind in expected and (
        not isinstance(resolved, expected[kind]) or (kind == "int" and isinstance(resolved, bool))
    ):
        raise _load_error(f"{value!r} is not a valid !!{kind}", "document/bad-scalar", where, node)
    return float(resolved) if kind == "float" else resolved


def _load_error(message: str, rule: str, name: str, node: yaml.Node | None) -> LoadError:
    line = node.start_mark.line + 1 if node is not None else None
    column = node.start_mark.column + 1 if node is not None else None
    return LoadError(message, rule=rule, file=name, line=line, column=column)


class _Builder:
    """Turns a composed node graph into plain data, positions and sanity checks."""

    def __init__(self, name: str, text: str | None = None) -> None:
        self.name = name
        self.positions: dict[str, Position] = {}
        self.key_positions: dict[str, Position] = {}
        self.expanded = 0
        self.seen: set[int] = set()
        self.active: set[int] = set()
        # Without an anchor (``&``) no composed node can be reached twice: each is
        # let go once built (the composed graph costs more than the data it becomes,
        # ~4 KB per workflow node), and there is no alias to count or to recurse.
        self.single_use = text is not None and "&" not in text
        # One string per distinct key (every node repeats ``id``, ``type`` ...).
        self.keys: dict[str, str] = {}

    def build(self, node: yaml.Node, pointer: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _load_error(
                f"nesting deeper than {MAX_DEPTH} levels", "document/too-deep", self.name, node
            )
        if self.single_use:
            return self._build(node, pointer, depth)
        ident = id(node)
        if ident in self.active:
            raise _load_error(
                "an alias refers to a node that contains it (recursive structure)",
                "document/recursive-alias",
                self.name,
                node,
            )
        if ident in self.seen:
            # An alias re-uses a node we already built: count it so that a "billion
            # laughs" document fails fast instead of expanding exponentially.
            self.expanded += 1
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise _load_error(
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION} values",
                    "document/alias-expansion",
                    self.name,
                    node,
                )
        else:
            self.seen.add(ident)
        self.active.add(ident)
        try:
            return self._build(node, pointer, depth)
        finally:
            self.active.discard(ident)

    def _build(self, node: yaml.Node, pointer: str, depth: int) -> Any:
        self.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return _tagged_scalar(node, self.name)
        if isinstance(node, yaml.SequenceNode):
            self._check_collection_tag(node, "tag:yaml.org,2002:seq")
            items: list[Any] = node.value
            out = []
            for index, item in enumerate(items):
                out.append(self.build(item, f"{pointer}/{index}", depth + 1))
                if self.single_use:
                    items[index] = None
            return out
        assert isinstance(node, yaml.MappingNode)
        self._check_collection_tag(node, "tag:yaml.org,2002:map")
        return self._mapping(node, pointer, depth)

    def _check_collection_tag(self, node: yaml.Node, default: str) -> None:
        if node.tag not in (default, "!", "?", None):
            raise _load_error(
                f"tag {node.tag!r} is not allowed: OSOP documents use the YAML 1.2 core schema only",
                "document/forbidden-tag",
                self.name,
                node,
            )

    def _mapping(self, node: yaml.MappingNode, pointer: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pairs: list[Any] = node.value
        for index, (key_node, value_node) in enumerate(pairs):
            if key_node.tag == "tag:yaml.org,2002:merge" or (
                key_node.tag == _PLAIN_TAG and key_node.value == "<<"
            ):
                raise _load_error(
                    "merge keys (<<) are not part of YAML 1.2; write the keys out",
                    "document/merge-key",
                    self.name,
                    key_node,
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise _load_error(
                    "mapping keys must be plain scalars, not collections",
                    "document/complex-key",
                    self.name,
                    key_node,
                )
            raw_key = _tagged_scalar(key_node, self.name)
            # JSON-compatible data: keys are strings; keep the author's spelling.
            key = key_node.value if not isinstance(raw_key, str) else raw_key
            if key in out:
                raise _load_error(
                    f"duplicate key {key!r} (first at line "
                    f"{self.key_positions[pointer + '/' + escape_pointer_token(key)][0]})",
                    "document/duplicate-key",
                    self.name,
                    key_node,
                )
            child = f"{pointer}/{escape_pointer_token(key)}"
            self.key_positions[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[self.keys.setdefault(key, key)] = self.build(value_node, child, depth + 1)
            if self.single_use:
                pairs[index] = None
        return out


class _Unusual(Exception):
    """Something :func:`_parse_plain` leaves to the composing path (which reports it)."""


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_NO_KEY = object()


def _parse_plain(text: str, name: str) -> tuple[Any, Marks]:
    """What :class:`_Builder` makes of ``_compose(text)``, straight from parser events.

    For documents without anchors (so without aliases): no graph of composed nodes
    is held (it costs ~4 KB per workflow node, more than the data it becomes), and
    positions go to compact :class:`Marks` (no pointer strings).
    Anything unusual (an error, a tag, a merge or complex key, a duplicate key,
    too deep, a second document) raises :class:`_Unusual` or the parser's error:
    the caller then takes the composing path, which reports it exactly as always.
    """
    loader = _ComposeOnlyLoader(text)
    marks = Marks()
    at, key_at, ends, keys_of = marks.at, marks.key_at, marks.ends, marks.keys
    keys: dict[str, str] = {}
    try:
        if not isinstance(loader.get_event(), yaml.StreamStartEvent):
            raise _Unusual
        if loader.check_event(yaml.StreamEndEvent):
            return None, marks
        if not isinstance(loader.get_event(), yaml.DocumentStartEvent):
            raise _Unusual
        # one entry per open collection: [the collection, its number, its depth,
        # the key whose value comes next (mappings), that key's line, its column]
        stack: list[list[Any]] = []
        root: Any = None
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                ends[stack.pop()[1]] = len(ends)
                if stack:
                    continue
                break
            if kind not in (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent):
                raise _Unusual  # an alias, or an event out of place
            top = stack[-1] if stack else None
            mark = event.start_mark
            if top is None:
                depth = 0
                key_at.append(0)
                key_at.append(0)
                keys_of.append(None)
            elif type(top[0]) is dict:
                if top[3] is _NO_KEY:  # this event is a key
                    if kind is not yaml.ScalarEvent:
                        raise _Unusual
                    key_node = _scalar_node(loader, event)
                    if key_node.tag == "tag:yaml.org,2002:merge" or (
                        key_node.tag == _PLAIN_TAG and key_node.value == "<<"
                    ):
                        raise _Unusual
                    raw_key = _tagged_scalar(key_node, name)
                    key = key_node.value if not isinstance(raw_key, str) else raw_key
                    if key in top[0]:
                        raise _Unusual
                    top[3] = keys.setdefault(key, key)
                    top[4] = mark.line + 1
                    top[5] = mark.column + 1
                    continue
                depth = top[2] + 1
                key_at.append(top[4])
                key_at.append(top[5])
                keys_of.append(top[3])
            else:
                depth = top[2] + 1
                key_at.append(0)
                key_at.append(0)
                keys_of.append(None)
            if depth > MAX_DEPTH:
                raise _Unusual
            number = len(ends)
            at.append(mark.line + 1)
            at.append(mark.column + 1)
            ends.append(number + 1)  # a collection's is set at its end
            value: Any
            if kind is yaml.ScalarEvent:
                value = _tagged_scalar(_scalar_node(loader, event), name)
            else:
                tag = event.tag
                if tag not in (None, "!", _MAP_TAG if kind is yaml.MappingStartEvent else _SEQ_TAG):
                    raise _Unusual
                value = {} if kind is yaml.MappingStartEvent else []
            if top is None:
                root = value
            elif type(top[0]) is dict:
                top[0][top[3]] = value
                top[3] = _NO_KEY
            else:
                top[0].append(value)
            if kind is not yaml.ScalarEvent:
                stack.append([value, number, depth, _NO_KEY, 0, 0])
            elif top is None:
                break
        if not isinstance(loader.get_event(), yaml.DocumentEndEvent):
            raise _Unusual
        if not loader.check_event(yaml.StreamEndEvent):
            raise _Unusual  # a second document: the composing path says so
        return root, marks
    finally:
        loader.dispose()


def _scalar_node(loader: Any, event: Any) -> yaml.ScalarNode:
    """The node the composer would make of a scalar event (its tag resolved alike)."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    return yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        raise LoadError(
            f"binary data (NUL byte at offset {offset}): not a text document",
            rule="document/not-text",
            file=name,
            **_line_col_of_offset(raw, offset),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not valid UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})",
            rule="document/not-utf8",
            file=name,
            **_line_col_of_offset(raw, exc.start),
        ) from None


def _line_col_of_offset(raw: bytes, offset: int) -> dict[str, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return {"line": line, "column": column}


def json_loads_checked(text: str | bytes, name: str) -> Any:
    """``json.loads`` that refuses what the formats cannot hold, each with its own rule.

    Duplicate keys (``document/duplicate-key``), ``NaN``/``Infinity``, numbers that
    overflow a float and integers over :data:`MAX_INT_DIGITS` digits
    (``document/bad-number``), lone UTF-16 surrogates (``document/bad-string``),
    nesting over :data:`MAX_DEPTH` (``document/too-deep``).
    """
    try:
        data = json.loads(
            text,
            object_pairs_hook=_json_pairs,
            parse_constant=_reject_constant,
            parse_float=_checked_float,
            parse_int=_checked_int,
        )
    except json.JSONDecodeError as exc:
        raise LoadError(
            f"JSON syntax error: {exc.msg}",
            rule="document/json-syntax",
            file=name,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except BadNumber as exc:
        raise LoadError(str(exc), rule="document/bad-number", file=name) from None
    except _DuplicateKey as exc:
        raise LoadError(str(exc), rule="document/duplicate-key", file=name) from None
    except RecursionError:
        raise LoadError(
            f"nesting deeper than {MAX_DEPTH} levels", rule="document/too-deep", file=name
        ) from None
    except ValueError as exc:  # anything else json refuses (e.g. bytes that are not UTF-8)
        raise LoadError(
            f"JSON syntax error: {exc}", rule="document/json-syntax", file=name
        ) from None
    if isinstance(data, dict | list):
        _check_json_depth(data, name, text)
    check_strings(data, text, name)
    return data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|[\ud800-\udfff]")


def check_strings(data: Any, text: str | bytes, name: str) -> None:
    """Refuse lone UTF-16 surrogates (``"\\ud800"``): no UTF-8 output can carry them.

    Only text that could hold one (an escape or the character itself) is walked.
    """
    if isinstance(text, bytes) and b"\\" not in text:
        return  # bytes that decoded hold no lone surrogate unless escaped (in any encoding)
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if not _SURROGATE_ESCAPE.search(raw):
        return
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, str):
            bad = next((i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff"), None)
            if bad is not None:
                raise LoadError(
                    f"a lone UTF-16 surrogate (\\u{ord(value[bad]):04x}) in the string at "
                    f"{_printable(pointer) or '/'}: not text any UTF-8 file can hold",
                    rule="document/bad-string",
                    file=name,
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                token = escape_pointer_token(key) if isinstance(key, str) else str(key)
                stack.append((key, f"{pointer}/{token}"))
                stack.append((item, f"{pointer}/{token}"))
        elif isinstance(value, list):
            stack.extend((item, f"{pointer}/{i}") for i, item in enumerate(value))


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _DuplicateKey(ValueError):
    pass


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # built in C; a duplicate key shows as a shorter dict
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {key!r}")
            seen.add(key)
    return out


# libyaml's composer recurses in C, without Python's recursion guard: a few tens of
# thousands of nested ``[`` crash the interpreter.  Nesting needs one ``[``, ``{``,
# ``-``, ``?`` or line per level, so only text that could reach this bound is scanned.
_SCAN_NESTING_ABOVE = 4096


def check_nesting(text: str, name: str) -> None:
    """Reject nesting deeper than MAX_DEPTH from the event stream (no recursion)."""
    bound = sum(text.count(c) for c in "[{-?\n")
    if bound <= _SCAN_NESTING_ABOVE:
        return
    depth = 0
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        for event in yaml.parse(text, Loader=_ComposeOnlyLoader):
            if isinstance(event, starts):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(name, event.start_mark)
            elif isinstance(event, ends):
                depth -= 1
    except yaml.YAMLError as exc:
        raise yaml_load_error(exc, text, name) from None


def _too_deep(name: str, mark: Any) -> LoadError:
    return LoadError(
        f"nesting deeper than {MAX_DEPTH} levels",
        rule="document/too-deep",
        file=name,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def yaml_load_error(exc: yaml.YAMLError, text: str, name: str) -> LoadError:
    """Map any PyYAML error to the project's error, with the rule and the position.

    PyYAML ≥ 6.0.4 refuses deep nesting in its own scanner (it looks ahead over
    flow collections before emitting their events), so that refusal is ours too:
    ``document/too-deep``, not a syntax error.
    """
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc) or "invalid YAML"
    if "nesting depth" in problem:
        return _too_deep(name, mark)
    context_text = getattr(exc, "context", None)
    context = f" {context_text}" if context_text else ""
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        context += " (hint: YAML indents with spaces, not tabs)"
    return LoadError(
        f"YAML syntax error: {problem}{context}",
        rule="document/yaml-syntax",
        file=name,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def _compose(text: str, name: str) -> yaml.Node | None:
    try:
        check_nesting(text, name)
        stream = yaml.compose_all(text, Loader=_ComposeOnlyLoader)
        first = next(stream, None)
        second = next(stream, None) if first is not None else None
        if second is not None:
            mark = second.start_mark
            raise LoadError(
                "more than one YAML document in the stream; OSOP files hold exactly one",
                rule="document/multiple-documents",
                file=name,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        return first
    except yaml.YAMLError as exc:
        raise yaml_load_error(exc, text, name) from None
    except RecursionError:
        raise LoadError(
            f"nesting deeper than {MAX_DEPTH} levels", rule="document/too-deep", file=name
        ) from None


def _check_json_depth(data: Any, name: str, text: str | bytes | None = None) -> None:
    """The same nesting limit as YAML documents (level by level: no recursion to exhaust).

    Text with no more brackets than the limit cannot nest deeper: it is not walked.
    """
    if text is not None:
        brackets = (
            text.count("[") + text.count("{")
            if isinstance(text, str)
            else text.count(b"[") + text.count(b"{")
        )
        if brackets <= MAX_DEPTH:
            return
    if nests_too_deep(data):
        raise LoadError(
            f"nesting deeper than {MAX_DEPTH} levels", rule="document/too-deep", file=name
        )


def nests_too_deep(data: Any) -> bool:
    """Whether JSON-like data nests deeper than :data:`MAX_DEPTH` (walked level by level)."""
    level: list[Any] = [data]
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            return True
        below: list[Any] = []
        for value in level:
            children = value.values() if type(value) is dict else value
            below += [c for c in children if type(c) is dict or type(c) is list]
        depth += 1
        level = below
    return False


def parse_text(
    text: str, name: str = "<input>", *, syntax: Literal["yaml", "json"] | None = None
) -> tuple[Any, dict[str, Position], dict[str, Position], Literal["yaml", "json"]]:
    """Parse text into ``(data, positions, key_positions, syntax)``; any root type.

    JSON gives no positions here (:class:`Document` finds them when needed).
    """
    data, where, used = _parse(text, name, syntax)
    positions, key_positions = where.dicts() if where is not None else ({}, {})
    return data, positions, key_positions, used


def _parse(
    text: str, name: str, syntax: Literal["yaml", "json"] | None
) -> tuple[Any, _Where | None, Literal["yaml", "json"]]:
    """``(data, where its values are written, syntax)``; JSON's positions come later."""
    if syntax is None:
        syntax = "json" if name.lower().endswith(".json") else "yaml"
    if syntax == "json":
        data = json_loads_checked(text, name)
        # Positions come later, on demand (Document.positions_pending): JSON is
        # (almost always) YAML 1.2, so the YAML pass can locate issues when needed.
        return data, None, "json"
    if "&" not in text:  # no anchor, so no alias: no composed graph is needed
        check_nesting(text, name)
        try:
            data, marks = _parse_plain(text, name)
        except (_Unusual, yaml.YAMLError, LoadError, ValueError, RecursionError):
            pass  # the composing path below reports it
        else:
            check_strings(data, text, name)
            return data, marks, "yaml"
    node = _compose(text, name)
    if node is None:
        return None, _Table({}, {}), "yaml"
    builder = _Builder(name, text)
    try:
        data = builder.build(node, "", 0)
    except RecursionError:
        raise LoadError(
            f"nesting deeper than {MAX_DEPTH} levels", rule="document/too-deep", file=name
        ) from None
    check_strings(data, text, name)
    return data, _Table(builder.positions, builder.key_positions), "yaml"


def _where_of(text: str, name: str) -> _Where:
    """Positions of a document parsed without them (JSON), from its text."""
    if "&" not in text:
        try:
            check_nesting(text, name)
            return _parse_plain(text, name)[1]
        except (_Unusual, yaml.YAMLError, LoadError, ValueError, RecursionError):
            pass
    try:
        node = _compose(text, name)
    except LoadError:
        node = None  # valid JSON that YAML cannot read (rare): issues stay unlocated
    builder = _Builder(name, text)
    if node is not None:
        # What was located before a refusal is kept.
        with suppress(LoadError, RecursionError):
            builder.build(node, "", 0)
    return _Table(builder.positions, builder.key_positions)


def load_document(
    source: bytes | str,
    name: str = "<input>",
    *,
    kind: DocumentKind | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    path: Path | None = None,
) -> Document:
    """Parse one OSOP document from bytes or text.

    ``kind`` is taken from ``name``'s extension or the content when not given.
    Raises :class:`LoadError` for anything that is not a readable mapping.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    max_bytes = _limit(max_bytes)
    if max_bytes is not None and len(raw) > max_bytes:
        raise _too_large(len(raw), max_bytes, name)
    text = _decode(raw, name)
    syntax: Literal["yaml", "json"] | None = None
    if name.lower().endswith(".json"):
        syntax = "json"
    elif text.lstrip().startswith(("{", "[")):
        # Content sniffing for stdin and extension-less files; JSON is valid YAML 1.2,
        # but the JSON parser gives better messages for JSON authors.
        try:
            json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_reject_constant)
            syntax = "json"
        except (ValueError, RecursionError):
            syntax = None
    data, where, used = _parse(text, name, syntax)
    if data is None:
        raise LoadError("the document is empty", rule="document/empty", file=name)
    if not isinstance(data, dict):
        line, column = (where.locate("") if where is not None else None) or (1, 1)
        raise LoadError(
            f"the document's root is a {_type_name(data)}; an OSOP document is a mapping",
            rule="document/not-a-mapping",
            file=name,
            line=line,
            column=column,
        )
    resolved = kind or detect_kind(name, data)
    if resolved is None:
        raise LoadError(
            "cannot tell what kind of document this is: name it *.osop, *.osoplog or *.sop, "
            "or give it nodes/node_records/sections",
            rule="document/unknown-kind",
            file=name,
        )
    return Document(
        data=data,
        kind=resolved,
        text=text,
        name=name,
        syntax=used,
        path=path,
        where=where,
    )


def load_path(
    path: str | Path,
    *,
    kind: DocumentKind | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Document:
    """Read and parse a file; I/O problems become :class:`LoadError`."""
    file = Path(path)
    max_bytes = _limit(max_bytes)
    try:
        if max_bytes is not None and file.is_file() and file.stat().st_size > max_bytes:
            raise _too_large(file.stat().st_size, max_bytes, str(path))
        raw = file.read_bytes()
    except LoadError:
        raise
    except IsADirectoryError:
        raise LoadError("is a directory", rule="document/unreadable", file=str(path)) from None
    except FileNotFoundError:
        raise LoadError("no such file", rule="document/unreadable", file=str(path)) from None
    except OSError as exc:
        raise LoadError(
            f"cannot read: {exc.strerror or exc}", rule="document/unreadable", file=str(path)
        ) from None
    return load_document(raw, str(path), kind=kind, max_bytes=max_bytes, path=file)


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
