"""The hub server: the HTTP API (:mod:`.app`), its pages (:mod:`.pages`), its limits."""
