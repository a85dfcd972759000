"""Mine (question, answer sentences) pairs from the FAQs of Debian packages (see eval.qamodel)."""

from __future__ import annotations

import gzip
import json
import random
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from indexer.formats import extract
from indexer.sentences import split_sentences

# the packages (Debian 12), and their FAQ files under usr/share
PACKAGES = ("perl-doc", "sqlite3-doc", "git-doc", "ffmpeg-doc", "dnsmasq-base", "mc-data", "lsof", "nano",
            "libxml2-doc", "fetchmail", "privoxy")
FAQS = (*(f"perl/5.36.0/pod/perlfaq{i}.pod" for i in range(1, 10)), "perl/5.36.0/pod/perlunifaq.pod",
        "doc/dnsmasq-base/FAQ.gz", "doc/nano/faq.html", "doc/git-doc/gitfaq.html",
        "doc/fetchmail/fetchmail-FAQ.html", "doc/ffmpeg/manual/faq.html", "doc/lsof/00FAQ.gz",
        "doc/libxml2-doc/FAQ.html", "doc/mc/FAQ.gz", "doc/sqlite3/faq.html",
        *(f"doc/privoxy/faq/{n}.html" for n in ("configuration", "contact", "copyright", "general", "index",
                                               "installation", "misc", "trouble")))
MAX_PER_FILE = 120  # so that one long FAQ (lsof's) does not make most of the pairs

POD_INLINE = re.compile(r"[CIBFLESX]<<+\s(.*?)\s>+>|[CIBFLESX]<([^<>]*)>")

def pod_text(src: str) -> str:
    out = []
    for para in re.split(r"\n\s*\n", src):
        if para.startswith("=head"):
            out.append(re.sub(r"^=head\d\s+", "", para).strip())
        elif para.startswith("="):
            m = re.match(r"=item\s+(.*)", para, re.S)
            if m and m.group(1).strip() not in ("*", ""):
                out.append(m.group(1).strip())
        elif para[:1] in " \t":
            out.append("    CODE")
        else:
            t = re.sub(r"X<[^<>]*>", "", para)
            t = re.sub(r"\(contributed by [^)]*\)", "", t)
            t = " ".join(t.split())
            for _ in range(3):
                t = POD_INLINE.sub(lambda m: (m.group(1) or m.group(2) or "").split("|")[0], t)
            out.append(t)
    return "\n\n".join(out)

def text_of(path: Path) -> str:
    """The text of a FAQ file as quarry reads it (POD: its paragraphs, code as a marker)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if path.suffix == ".pod":
        return pod_text(data.decode("utf-8", "replace"))
    name = path.name[:-3] if path.suffix == ".gz" else path.name
    if not name.endswith(".html"):
        name += ".txt"
    return extract(name, data).text

NUM = re.compile(r"^\s*(?:Q[:.]\s*|\(?[A-Z]?\d+(?:\.\d+)*[.):]?\s+|[A-Z]\d+\.\s+|[-*+]\s+)")

def qa_pairs(text: str):
    lines = text.split("\n")
    qs = []  # (line index of start, line index after end, question)
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        prev_blank = i == 0 or not lines[i - 1].strip() or NUM.match(lines[i])
        if line and prev_blank and len(line) < 200:
            block, j = [line], i
            while not block[-1].rstrip().endswith("?") and j + 1 < len(lines) and j - i < 2 and lines[j + 1].strip():
                j += 1
                block.append(lines[j].strip())
            q = " ".join(block)
            if q.endswith("?") and len(q) < 300 and len(q.split()) >= 3:
                qs.append((i, j + 1, NUM.sub("", q).strip()))
                i = j + 1
                continue
        i += 1
    for n, (_s, e, q) in enumerate(qs):
        end = qs[n + 1][0] if n + 1 < len(qs) else len(lines)
        body = "\n".join(lines[e:end])
        yield q, body

def prose(sent: str) -> bool:
    letters = sum(c.isalpha() for c in sent)
    return len(sent) >= 25 and letters / len(sent) > 0.6 and "CODE" not in sent and not sent.rstrip().endswith(":")



def unpack(work: Path, packages: Sequence[str] = PACKAGES, name: str = "") -> Path:
    """The ``packages`` downloaded and unpacked under ``work`` (folders ``debs``, ``root``, with ``name``
    after them; kept for a second run); their usr/share."""
    debs, root = work / f"debs{name}", work / f"root{name}"
    debs.mkdir(parents=True, exist_ok=True)
    if not any(debs.glob("*.deb")):
        subprocess.run(["apt-get", "download", *packages], cwd=debs, check=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root / "usr" / "share"


def faq_pairs(share: Path, faqs: Sequence[str], blocks: Callable[[str, str], str] | None = None) -> list[dict]:
    """The pairs of the FAQ files ``faqs`` under ``share``, at most ``MAX_PER_FILE`` of one file (a seeded
    sample); ``blocks(rel, text)``: the text made ready for :func:`qa_pairs` (default: as read)."""
    pairs: list[dict] = []
    for rel in faqs:
        text = text_of(share / rel)
        n0 = len(pairs)
        seen: set[str] = set()
        for q, body in qa_pairs(blocks(rel, text) if blocks else text):
            sents = [" ".join(body[a:b].split()) for a, b in split_sentences(body, join_wrapped=True)]
            good = [s for s in sents if prose(s)]
            if len(" ".join(good)) < 40 or q in seen:
                continue
            seen.add(q)
            pairs.append({"source": rel, "question": q, "sentences": good[:12]})
        if len(pairs) - n0 > MAX_PER_FILE:
            sub = pairs[n0:]
            random.Random(0).shuffle(sub)
            pairs[n0:] = sub[:MAX_PER_FILE]
        print(f"{rel}: {len(pairs) - n0} pairs", file=sys.stderr)
    return pairs


def write_pairs(pairs: list[dict], out: Path) -> Path:
    out.write_text(json.dumps(pairs, indent=0, ensure_ascii=False), encoding="utf-8")
    print(f"{len(pairs)} pairs in {out}", file=sys.stderr)
    return out


def mine(work: Path) -> Path:
    """Mine the pairs into ``work/pairs.json`` and return its path."""
    return write_pairs(faq_pairs(unpack(work), FAQS), work / "pairs.json")
