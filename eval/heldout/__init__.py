"""Held-out checks: corpora made here that nothing is fitted or tuned on (docs/corpora.md)."""
