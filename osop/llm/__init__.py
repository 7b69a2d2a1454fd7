"""Language-model support shared by agent nodes, session import and stats.

:mod:`osop.llm.prices` is the one price table (per model, dated, overridable).
"""
