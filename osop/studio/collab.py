"""Co-editing: one shared document per file, kept in a CRDT and persisted to disk.

Browsers edit a Yjs document whose text ``source`` is the file's YAML; the
server holds the same document with pycrdt (Yrs) and speaks the y-websocket
protocol through pycrdt-websocket, so concurrent edits of different parts merge
without conflicts.  The server is the one that writes the file: shortly after
the shared text changes (and when a participant saves), it writes the merged
text if it still reads as YAML.  A hand edit of the file on disk is noticed and
merged into the shared text as a minimal change, so every browser sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Text
from pycrdt.websocket import WebsocketServer, YRoom

from osop.errors import LoadError, OsopError
from osop.studio.workspace import Workspace, text_sha

__all__ = ["TEXT_NAME", "CollabRooms", "apply_minimal_change", "three_way_merge"]

#: The name of the shared text in the Yjs document (the browser uses the same).
TEXT_NAME = "source"
#: Quiet time after the last change before the file is written (seconds).
PERSIST_DELAY = 0.3
#: How often an open room looks for hand edits of its file (seconds).
DISK_POLL = 0.5

_log = logging.getLogger("osop.studio")


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def apply_minimal_change(shared: Text, new: str) -> None:
    """Turn ``shared`` into ``new`` by replacing only the span that differs.

    pycrdt's text positions are UTF-8 byte offsets (Yrs's default); the span is
    found on characters and turned into bytes, so a character outside the BMP
    stays whole (the browser's Yjs counts UTF-16 units; Yrs converts).
    """
    old = str(shared)
    if old == new:
        return
    start, end_old, end_new = _span(old, new)
    at = _utf8_len(old[:start])
    if end_old > start:
        del shared[at : at + _utf8_len(old[start:end_old])]
    if end_new > start:
        shared.insert(at, new[start:end_new])


def _span(old: str, new: str) -> tuple[int, int, int]:
    """The one span that differs: ``old[start:end_old]`` became ``new[start:end_new]``."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, end_old, end_new


def three_way_merge(base: str, ours: str, theirs: str) -> str | None:
    """Both changes of ``base`` together, or ``None`` when they touch the same span.

    Each side's change is taken as the one span that differs from the base (a
    change of a few lines, as an edit in the studio or a quick hand edit is).
    """
    if ours == base:
        return theirs
    if theirs in (base, ours):
        return ours
    o_start, o_end, o_new_end = _span(base, ours)
    t_start, t_end, t_new_end = _span(base, theirs)
    if o_end <= t_start:  # ours first, then theirs
        return (
            base[:o_start]
            + ours[o_start:o_new_end]
            + base[o_end:t_start]
            + theirs[t_start:t_new_end]
            + base[t_end:]
        )
    if t_end <= o_start:
        return (
            base[:t_start]
            + theirs[t_start:t_new_end]
            + base[t_end:o_start]
            + ours[o_start:o_new_end]
            + base[o_end:]
        )
    return None


class _FileRoom:
    """The shared document of one file and the task that keeps the file in step."""

    def __init__(self, workspace: Workspace, path: str) -> None:
        self.workspace = workspace
        self.path = path
        text = workspace.read(path)
        self.doc: Doc[Any] = Doc()
        self.text = Text(text)
        self.doc[TEXT_NAME] = self.text
        self.disk_sha = text_sha(text)
        #: The file's text as last read or written: the base of a three-way merge.
        self.disk_text = text
        self.dirty = asyncio.Event()
        self.text.observe(lambda _event: self.dirty.set())

    def persist(self) -> bool:
        """Write the shared text when it differs from the file and reads as YAML.

        A hand edit of the file since it was last read is merged in first, so
        writing never drops it.
        """
        from osop.format.loader import parse_text

        self.take_hand_edit()
        current = str(self.text)
        if text_sha(current) == self.disk_sha:
            return True
        try:
            parse_text(current, self.path)
        except LoadError:
            return False  # half-typed YAML: wait for the next change
        self.workspace.write(self.path, current)
        self.disk_sha = text_sha(current)
        self.disk_text = current
        return True

    def take_hand_edit(self) -> None:
        """Merge a change of the file on disk into the shared text."""
        try:
            on_disk = self.workspace.read(self.path)
        except OsopError:
            return  # removed or unreadable: keep what the browsers hold
        sha = text_sha(on_disk)
        if sha == self.disk_sha:
            return
        merged = three_way_merge(self.disk_text, str(self.text), on_disk)
        if merged is None:
            # Both changed the same lines: the file on disk is the source of truth.
            _log.warning("%s: changed on disk and in the studio at the same place; "
                         "the file's version is kept", self.path)  # fmt: skip
            merged = on_disk
        self.disk_sha = sha
        self.disk_text = on_disk
        with self.doc.transaction():
            apply_minimal_change(self.text, merged)

    async def keep_in_step(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), DISK_POLL)
            if self.dirty.is_set():
                await asyncio.sleep(PERSIST_DELAY)
                self.dirty.clear()
                try:
                    self.persist()
                except OsopError as exc:
                    _log.warning("%s: not saved: %s", self.path, exc)
            else:
                self.take_hand_edit()


class _Server(WebsocketServer):
    def __init__(self, rooms: CollabRooms) -> None:
        super().__init__(auto_clean_rooms=True, log=_log)
        self._owner = rooms

    async def get_room(self, name: str) -> YRoom:
        if name not in self.rooms:
            file_room = _FileRoom(self._owner.workspace, name)
            self.rooms[name] = YRoom(ready=True, ydoc=file_room.doc, log=_log)
            self._owner.open_room(name, file_room)
        room = self.rooms[name]
        await self.start_room(room)
        return room

    async def delete_room(self, *, name: str | None = None, room: YRoom | None = None) -> None:
        if name is None and room is not None:
            name = self.get_room_name(room)
        await super().delete_room(name=name)
        if name is not None:
            self._owner.close_room(name)


class _Channel:
    """A Starlette WebSocket as the channel pycrdt-websocket reads and writes."""

    def __init__(self, websocket: Any, path: str) -> None:
        self._ws = websocket
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> _Channel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except Exception:  # the browser went away
            raise StopAsyncIteration() from None

    async def send(self, message: bytes) -> None:
        await self._ws.send_bytes(message)

    async def recv(self) -> bytes:
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise StopAsyncIteration()
        data = message.get("bytes")
        return bytes(data) if data is not None else b""


class CollabRooms:
    """Every shared document the studio has open, by file."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.server = _Server(self)
        self._rooms: dict[str, _FileRoom] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.on_error: Callable[[Exception], None] | None = None

    async def __aenter__(self) -> CollabRooms:
        await self.server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for name in list(self._rooms):
            self.flush(name)
            self.close_room(name)
        await self.server.__aexit__(None, None, None)  # type: ignore[no-untyped-call]

    def open_room(self, name: str, room: _FileRoom) -> None:
        self._rooms[name] = room
        self._tasks[name] = asyncio.create_task(room.keep_in_step())

    def close_room(self, name: str) -> None:
        room = self._rooms.pop(name, None)
        if room is not None:
            with contextlib.suppress(OsopError):
                room.persist()
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()

    def flush(self, name: str) -> bool | None:
        """Write the room's text now; ``None`` when no room is open for the file."""
        room = self._rooms.get(name)
        return None if room is None else room.persist()

    def text_of(self, name: str) -> str | None:
        room = self._rooms.get(name)
        return None if room is None else str(room.text)

    async def serve(self, websocket: Any, path: str) -> None:
        await self.server.serve(_Channel(websocket, path))
