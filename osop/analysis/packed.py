"""Many small rows of texts and numbers kept compressed, for analyses of 100,000 records.

An analysis that streams its records still has to remember a little per record
for its output: the diff of a workflow against a folder lists every record by
path and run id, and the duplicate check keeps the first path of every run. As
Python objects each such text costs ~50 bytes more than its characters (a
100,000-record folder: ~10 MB of paths and run ids); these texts are alike from
one record to the next (paths in folder order, run ids of one store), so rows are
kept in blocks of :data:`BLOCK_ROWS`, each ``marshal``-ed and ``zlib``-compressed
once full: ~5–25 bytes a row instead of ~200. ``marshal`` gives back exactly the
``str``/``int``/``None`` values it was given (lone surrogates included).
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Iterator

__all__ = ["BLOCK_ROWS", "PackedRows"]

#: Rows per compressed block: large enough to compress well (paths of one folder
#: repeat their prefix), small enough that reading one row back is cheap (~30 µs).
BLOCK_ROWS = 512
#: zlib's fastest level: 100,000 rows compress in ~20 ms; higher levels save little
#: on such short, repetitive texts.
_LEVEL = 1
Row = tuple[str | int | None, ...]


class PackedRows:
    """An append-only list of rows (tuples of texts, integers and ``None``), compressed.

    ``rows[i]`` reads one block back (the last one read is kept, so rows near each
    other are cheap); iteration reads each block once.
    """

    __slots__ = ("_blocks", "_open", "_read", "_read_at")

    def __init__(self) -> None:
        self._blocks: list[bytes] = []
        self._open: list[Row] = []  # the rows of the block being filled
        self._read: list[Row] = []  # the last block read back, and its number
        self._read_at = -1

    def append(self, row: Row) -> None:
        self._open.append(row)
        if len(self._open) == BLOCK_ROWS:
            self._blocks.append(zlib.compress(marshal.dumps(self._open), _LEVEL))
            self._open = []

    def __len__(self) -> int:
        return len(self._blocks) * BLOCK_ROWS + len(self._open)

    def _block(self, number: int) -> list[Row]:
        if number == len(self._blocks):
            return self._open
        if number != self._read_at:
            self._read = marshal.loads(zlib.decompress(self._blocks[number]))
            self._read_at = number
        return self._read

    def __getitem__(self, index: int) -> Row:
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._block(index // BLOCK_ROWS)[index % BLOCK_ROWS]

    def __iter__(self) -> Iterator[Row]:
        for block in self._blocks:
            yield from marshal.loads(zlib.decompress(block))
        yield from self._open
