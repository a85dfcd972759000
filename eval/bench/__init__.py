"""Benchmarks and tuning scripts, beside the evaluation harness (``eval.cli``, ``eval.harness``, ...).

Each is run as ``python -m eval.bench.NAME`` (``--help`` for its options) and prints its figures:

* ``perf``: indexer throughput against bare ``SentenceTransformer.encode`` on the same texts, the ONNX
  export's cost, warm ``ask`` p50/p95 (ONNX and torch query encoders), cold ``ask``, peak memory.
* ``ask``: cold ``ask "question"`` wall time and question-embedding latency, ONNX vs torch (medians,
  min/max, the machine's load).
* ``index``: indexing speed against txtai on the same folder, an incremental update of one file in
  1,000, 1 vs 2 embedding threads (wall and CPU time, peak RSS).
* ``scale``: a real corpus with the packaged model, one huge file's memory by size, the vector layer.
* ``vector``: exact vs HNSW vs IVF search: build time and memory, file size, open time, query
  latency p50/p95 and recall@10 over a sweep of efSearch and nprobe.
* ``load``: ``python -m server`` under C clients: requests/s and p50/p95/p99 latency per concurrency.
* ``soak``: mixed valid and invalid requests for a while: requests/s, p50/p99, the statuses, any 5xx
  or unexpected status (exit 1), the server's memory at start, end and peak.
* ``attack``: a header flood and connection exhaustion against a server: what each connection got,
  the server's memory, whether ``/health`` still answers.
* ``encoding``: encoding guesses on known sentences, charset-normalizer alone vs quarry: counts, misses.
* ``twice``: each benchmark corpus held twice (the folder and a copy): repeated passages in the top k,
  hit@k and answer accuracy, with the duplicates left out (as shipped) and kept.
* ``formats``: each benchmark corpus's text and Markdown files made PDFs (``--format pdf``, ``--columns 2``) or
  Word files (``--format docx``), the gold ranges carried over: hit@1/5, MRR, answer accuracy and abstention
  on the text folder and on the other.
* ``tune``: fits the answer scorer on the dev split (ranking weights, answerability, off-topic gate,
  abstention threshold; ``--grid``: fusion settings) and prints what it found.
"""
