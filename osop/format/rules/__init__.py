"""Semantic rules per document kind (what a schema cannot say)."""
