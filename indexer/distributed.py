"""Embedding on a Ray cluster with Ray Data: an Encoder whose batches run on a pool of model actors.

Optional: ``pip install -e '.[distributed]'``. Chunking and writing stay on the machine that runs
the indexer (they are a small share of the work); embedding, most of it, goes to the actors::

    from indexer.build import build_index
    from indexer.distributed import RayEncoder

    build_index(src, index_dir, encoder=RayEncoder(actors=8), flush_texts=65536)

Without ``address`` (or ``RAY_ADDRESS``) Ray starts a local cluster on this machine, which is
how the tests run it; ``address="auto"`` joins a running cluster. Each ``encode`` call is one
Ray Data job, so give the indexer large flushes (``flush_texts``) to amortise starting actors.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from indexer.encoder import Encoder, SentenceTransformerEncoder
from indexer.errors import ModelError

log = logging.getLogger(__name__)


class _EmbedActor:
    """One model per Ray actor, built by ``factory`` on the worker (models do not travel)."""

    def __init__(self, factory: Callable[[], Encoder], batch_size: int):
        self.encoder = factory()
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]], batch_size=self.batch_size)
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}


class RayEncoder:
    """An :class:`~indexer.encoder.Encoder` that embeds with Ray Data across a pool of actors.

    ``factory`` builds the real encoder, here (for its name, dimension and fingerprint, which the
    index records: a Ray-built index opens with the in-process encoder of the same model) and on
    every actor. It must be picklable: a class or a ``functools.partial``, not a lambda.
    """

    def __init__(self, factory: Callable[[], Encoder] = SentenceTransformerEncoder, actors: int | None = None,
                 rows_per_task: int = 1024, cpus_per_actor: float = 1.0, address: str | None = None,
                 init_kwargs: dict[str, Any] | None = None):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ModelError("Ray is not installed: pip install -e '.[distributed]'") from None
        self.factory = factory
        self._local = factory()
        self.name, self.dim = self._local.name, self._local.dim
        self.actors = actors
        self.rows_per_task = rows_per_task
        self.cpus_per_actor = cpus_per_actor
        self.address = address or os.environ.get("RAY_ADDRESS")
        self.init_kwargs = init_kwargs or {}

    @property
    def fingerprint(self) -> str:
        return self._local.fingerprint

    def _ray(self):
        import ray

        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            ray.init(address=self.address, **{**kwargs, **self.init_kwargs})
        return ray

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        ray = self._ray()
        actors = self.actors or max(1, int(ray.available_resources().get("CPU", 1) // self.cpus_per_actor))
        rows = np.arange(len(texts), dtype=np.int64)
        ds = ray.data.from_items([{"row": int(i), "text": t} for i, t in zip(rows, texts)])
        out = ds.map_batches(_EmbedActor, fn_constructor_kwargs={"factory": self.factory, "batch_size": batch_size},
                             batch_size=self.rows_per_task, batch_format="numpy", concurrency=actors,
                             num_cpus=self.cpus_per_actor)
        result = np.empty((len(texts), self.dim), dtype=np.float32)
        seen = 0
        for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
            result[batch["row"]] = np.stack(batch["vector"]) if batch["vector"].dtype == object else batch["vector"]
            seen += len(batch["row"])
        if seen != len(texts):
            raise RuntimeError(f"Ray returned {seen} vectors for {len(texts)} texts")
        return result


def local_encoder(path: str | None = None) -> Callable[[], Encoder]:
    """A picklable factory for the packaged model (or the model folder at ``path``)."""
    return functools.partial(SentenceTransformerEncoder, path)
