"""Drawing workflows and documents: layout, SVG, Mermaid, stories, ``.sop`` pages, reports."""
