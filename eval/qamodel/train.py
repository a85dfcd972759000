"""Fine-tune the packaged MiniLM as a question -> answer-sentence encoder (see eval.qamodel)."""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SCALE = 20.0  # the cosine scale of the multiple-negatives ranking loss (sentence-transformers' default)
BATCH = 32
LEARNING_RATE = 2e-5
VALIDATION = 70  # pairs kept out of training, to report the model's own validation MRR


def validation_mrr(model, pairs: list[dict], val: list[dict]) -> float:
    """MRR of each held-out question's first answer sentence among the first three of every answer of its file."""
    by_src: dict[str, list[dict]] = {}
    for p in pairs:
        by_src.setdefault(p["source"], []).append(p)
    rr = []
    for p in val:
        pool = [(s, q is p and i == 0) for q in by_src[p["source"]] for i, s in enumerate(q["sentences"][:3])]
        e = model.encode([p["question"]] + [s for s, _ in pool], normalize_embeddings=True, batch_size=64)
        order = np.argsort(-(e[1:] @ e[0]))
        rr.append(1 / (next(i for i, j in enumerate(order) if pool[j][1]) + 1))
    return float(np.mean(rr))


def train(pairs_file: Path | Sequence[Path], out: Path, epochs: int = 3, positives: int = 1, seed: int = 0) -> Path:
    """Train on the pairs of ``pairs_file`` (eval.qamodel.mine, eval.qamodel.goldpairs; one file or several)
    and save the model in ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer

    from indexer.encoder import default_model_path

    torch.manual_seed(seed)
    random.seed(seed)
    files = [pairs_file] if isinstance(pairs_file, (str, Path)) else list(pairs_file)
    pairs = [p for f in files for p in json.loads(Path(f).read_text(encoding="utf-8"))]
    random.shuffle(pairs)
    val, training = pairs[:VALIDATION], pairs[VALIDATION:]
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    print(f"validation MRR before: {validation_mrr(model, pairs, val):.3f}", file=sys.stderr)
    by_src: dict[str, list[dict]] = {}
    for p in training:
        by_src.setdefault(p["source"], []).append(p)
    examples = []
    for ps in by_src.values():  # the hard negative: the closest of the first sentences of the file's other
        # answers and of the sentences its pairs name as answering none of them (eval.qamodel.goldpairs)
        cand = list(dict.fromkeys([s for p in ps for s in p["sentences"][:3]] +
                                  [s for p in ps for s in p.get("negatives", ())]))
        ce = model.encode(cand, normalize_embeddings=True, batch_size=64)
        qe = model.encode([p["question"] for p in ps], normalize_embeddings=True, batch_size=64)
        sims = qe @ ce.T
        for i, p in enumerate(ps):
            own = set(p["sentences"])
            order = [j for j in np.argsort(-sims[i]) if cand[j] not in own]
            neg = cand[order[0]] if order else random.choice(training)["sentences"][0]
            examples.extend((p["question"], s, neg) for s in p["sentences"][:positives])
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    steps = epochs * (len(examples) // BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))

    def embed(texts):
        return torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)

    model.train()
    t0 = time.time()
    for epoch in range(epochs):
        random.shuffle(examples)
        for b in range(0, len(examples) - BATCH + 1, BATCH):
            batch = examples[b:b + BATCH]
            q = embed([x[0] for x in batch])
            d = embed([x[1] for x in batch] + [x[2] for x in batch])
            logits = SCALE * q @ d.T
            same = torch.tensor([[i != j and a[0] == c[0] for j, c in enumerate(batch)] for i, a in enumerate(batch)])
            logits = torch.cat([logits[:, :len(batch)].masked_fill(same, -1e4), logits[:, len(batch):]], dim=1)
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
        print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, {time.time() - t0:.0f} s", file=sys.stderr)
    model.eval()
    print(f"validation MRR after: {validation_mrr(model, pairs, val):.3f}", file=sys.stderr)
    model.save(str(out))
    return out
