"""Evaluation: gold question sets, metrics, the configuration comparison table; benchmarks in ``eval.bench``."""
