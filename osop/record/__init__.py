"""The ``.osoplog`` record: model, reader and atomic writer.

Names are imported on first use: reading a record (the validator, ``osop
stats``) needs the model but not the writer and its temporary-file machinery.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from osop.record.model import (
        OSOPLOG_VERSION,
        ErrorInfo,
        NodeRecord,
        RunRecord,
        normalise_status,
        parse_timestamp,
        record_from_dict,
    )
    from osop.record.writer import (
        atomic_write_text,
        record_format_for,
        record_to_text,
        write_record,
    )

_MODEL = ("OSOPLOG_VERSION", "ErrorInfo", "NodeRecord", "RunRecord")
_MODEL_FUNCTIONS = ("normalise_status", "parse_timestamp", "record_from_dict")
_WRITER = ("atomic_write_text", "record_format_for", "record_to_text", "write_record")

__all__ = [
    "OSOPLOG_VERSION",
    "ErrorInfo",
    "NodeRecord",
    "RunRecord",
    "atomic_write_text",
    "normalise_status",
    "parse_timestamp",
    "record_format_for",
    "record_from_dict",
    "record_to_text",
    "write_record",
]


def __getattr__(name: str) -> Any:
    if name in _WRITER:
        from osop.record import writer as module
    elif name in _MODEL or name in _MODEL_FUNCTIONS:
        from osop.record import model as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'osop.record' has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value
