"""Analysis of records: diff, conformance, stats, synthesis, process-mining export.

Names are imported lazily so that a command needing one analysis does not pay
for all of them.  (Synthesis with or without a base is
:func:`osop.analysis.synthesize.synthesize`; the package attribute ``synthesize``
is that module.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from osop.analysis.conformance import ConformanceResult, ConformanceSummary, replay, summarise
    from osop.analysis.diff_records import RecordDiff, diff_records
    from osop.analysis.diff_workflows import WorkflowDiff, diff_workflows
    from osop.analysis.export_ocel import build_ocel, write_ocel
    from osop.analysis.export_xes import write_xes
    from osop.analysis.infer import infer_workflow
    from osop.analysis.llm_proposals import propose_with_llm
    from osop.analysis.records import read_record, read_records
    from osop.analysis.stats import NodeStats, WorkflowStats, compute_stats
    from osop.analysis.synthesize import SynthesisResult, improve

__all__ = [
    "ConformanceResult",
    "ConformanceSummary",
    "NodeStats",
    "RecordDiff",
    "SynthesisResult",
    "WorkflowDiff",
    "WorkflowStats",
    "build_ocel",
    "compute_stats",
    "diff_records",
    "diff_workflows",
    "improve",
    "infer_workflow",
    "propose_with_llm",
    "read_record",
    "read_records",
    "replay",
    "summarise",
    "write_ocel",
    "write_xes",
]

_WHERE = {
    "ConformanceResult": "conformance",
    "ConformanceSummary": "conformance",
    "replay": "conformance",
    "summarise": "conformance",
    "RecordDiff": "diff_records",
    "diff_records": "diff_records",
    "WorkflowDiff": "diff_workflows",
    "diff_workflows": "diff_workflows",
    "build_ocel": "export_ocel",
    "write_ocel": "export_ocel",
    "write_xes": "export_xes",
    "infer_workflow": "infer",
    "propose_with_llm": "llm_proposals",
    "read_record": "records",
    "read_records": "records",
    "NodeStats": "stats",
    "WorkflowStats": "stats",
    "compute_stats": "stats",
    "SynthesisResult": "synthesize",
    "improve": "synthesize",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'osop.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(f"osop.analysis.{module}"), name)
