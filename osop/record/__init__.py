"""The ``.osoplog`` record: model, reader and atomic writer."""

from __future__ import annotations

from osop.record.model import (
    OSOPLOG_VERSION,
    ErrorInfo,
    NodeRecord,
    RunRecord,
    normalise_status,
    parse_timestamp,
    record_from_dict,
)
from osop.record.writer import atomic_write_text, record_format_for, record_to_text, write_record

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
