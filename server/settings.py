"""The server's settings: one frozen object, built from the command line and the environment."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.paths import default_index_dir
from retriever.settings import RetrieverSettings, api_key, explicit_model, model_env_values, query_encoder_choice


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know; ``python -m server --help`` documents each field."""

    index_dir: Path = field(default_factory=default_index_dir)
    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()  # Host names accepted besides the bound ones (server/security.py)
    port: int = 8000
    model: str | None = None  # sentence-transformers folder; None: $QUARRY_MODEL or the packaged MiniLM
    cross_encoder: str | None = None  # optional cross-encoder folder re-scoring answer sentences (retriever/cross.py)
    reader: str | None = None  # optional question-answering model folder scoring answer sentences (retriever/reader.py)
    reader_abstain: bool = False  # also abstain when the reader finds no span more probable than "no answer"
    answer_model: str | None = None  # the answer-sentence encoder (retriever/answer_model.py; None: packaged; off)
    api_key: str | None = None  # from $QUARRY_API_KEY only (a key on the command line leaks via ps)
    max_body_bytes: int = 16_384  # a 1,000-character question is at most ~4 KB of JSON
    max_batch: int = 32  # questions embedded together under load (1: no batching)
    batch_wait_ms: float = 0.0
    encoders: int = 1  # batches embedded at once (each on its own model thread)
    threads: int = 1  # CPU threads of the model runtime per batch
    ask_threads: int = 4  # questions answered at once; more wait (the work holds the GIL)
    context_chars: int = 1_000  # at most this many characters each side in GET /context
    warm_up: bool = True  # ask one question at startup so the first request is not slow
    access_log: bool = True
    watch_seconds: float = 2.0  # how often the index's manifest is checked for a rebuild (0: never)
    # against hostile clients (server/protocol.py): header cap, connection cap, slow or idle clients
    max_header_bytes: int = 32_768  # request line + headers; more -> 431 (browsers send under 8 KiB)
    max_headers: int = 100  # header lines; more -> 431
    max_connections: int = 512  # open connections (and requests in progress); more -> 503 (0: no cap)
    header_timeout_seconds: float = 10.0  # the request line and headers must arrive within this -> else closed
    keep_alive_seconds: float = 5.0  # an idle keep-alive connection is closed after this

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then ``QUARRY_INDEX_DIR`` / ``QUARRY_API_KEY`` / ``QUARRY_MODEL`` /
        ``QUARRY_CROSS_ENCODER`` / ``QUARRY_READER`` / ``QUARRY_READER_ABSTAIN`` /
        ``QUARRY_ANSWER_MODEL``, then ``overrides``."""
        values: dict = {"api_key": api_key(), "model": explicit_model(), "reader_abstain": False,
                        **model_env_values()}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "allowed_hosts" in values:
            values["allowed_hosts"] = tuple(values["allowed_hosts"])
        if "index_dir" in values:
            values["index_dir"] = Path(values["index_dir"]).expanduser()
        return cls(**values)

    def retriever_settings(self) -> RetrieverSettings:
        """What :meth:`retriever.pipeline.Retriever.open` needs of these settings ($QUARRY_ENCODER
        chooses the question encoder, as for ``ask``)."""
        return RetrieverSettings(index_dir=self.index_dir, query_encoder=query_encoder_choice(), model=self.model,
                                 threads=self.threads, cross_encoder=self.cross_encoder, reader=self.reader,
                                 reader_abstain=self.reader_abstain, answer_model=self.answer_model)

    def to_dict(self) -> dict:
        """The settings as JSON values, without the API key (``from_env`` reads it from the environment)."""
        values = asdict(self)
        values["index_dir"] = str(self.index_dir)
        values["allowed_hosts"] = list(self.allowed_hosts)
        del values["api_key"]
        return values
