"""The server process's own settings: how it logs, and how many threads its models and FAISS use."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(name)s: %(message)s")
    for name in ("server", "retriever", "indexer"):
        logging.getLogger(name).setLevel(level.upper())


def set_model_threads(n: int) -> None:
    """Intra-op threads of torch (the ONNX runtime gets them from Settings.threads) and FAISS's OpenMP
    threads. Few threads per request and requests in parallel use a small machine's cores better than
    many threads on one short question (OpenMP's idle threads spin, burning the other requests' CPU).

    ``omp_set_num_threads`` only holds for the calling thread, and requests run on the thread pool's
    threads, which start from OpenMP's process-wide default: OMP_NUM_THREADS, read when FAISS loads.
    So it is set before the first ``import faiss`` (measured: one spinning OpenMP thread doubled the
    server's CPU per request at concurrency 1, 16 ms instead of 8). torch reads it too when it loads;
    it is not imported here (the ONNX query path never needs it: ~200 MB less per server process)."""
    os.environ["OMP_NUM_THREADS"] = str(n)
    import faiss

    faiss.omp_set_num_threads(n)
    torch = sys.modules.get("torch")
    if torch is not None:  # already loaded: the variable came too late for it
        torch.set_num_threads(n)
