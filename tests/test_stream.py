"""Streaming: a document read in blocks and chunked a window at a time gives the same spans, in bounded memory."""

from __future__ import annotations

import hashlib
import json
import random
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indexer.build import build_index
from indexer.chunker import ChunkerSettings, chunk_stream, chunk_text
from indexer.errors import FileSkipped, SourceError
from indexer.indexdir.store import MANIFEST, IndexStore
from indexer.sources import SourceFile
from indexer.stream import TextStream
from retriever.index import Index
from retriever.pipeline import Retriever
from tests.conftest import FakeEncoder, assert_visible_text_covered, write_corpus
from tests.test_chunker import chunker_settings, texts


def _pieces(text: str, rng: random.Random, most: int = 40) -> list[str]:
    out, i = [], 0
    while i < len(text):
        k = rng.randint(1, most)
        out.append(text[i:i + k])
        i += k
    return out


def _stream(text: str, cfg: ChunkerSettings, window: int, seed: int = 0):
    sentences, chunks, parts = [], [], []
    for batch in chunk_stream(_pieces(text, random.Random(seed)), "doc.txt", cfg, window=window):
        assert batch.start_char == sum(len(p) for p in parts)
        parts.append(batch.text)
        sentences += batch.sentences
        chunks += batch.chunks
    return "".join(parts), sentences, chunks


@settings(max_examples=300, deadline=None)
@given(text=texts, cfg=chunker_settings, window=st.integers(8, 120), seed=st.integers(0, 1000))
def test_chunk_stream_equals_chunk_text_when_lines_fit_the_window(text, cfg, window, seed):
    longest_line = max((len(line) for line in re.split(r"\r\n|\r|\n", text)), default=0)
    assume(longest_line < window)
    blank_run = max(window, cfg.max_chars)
    assume(not re.search(rf"[\s\ufeff\u200b]{{{blank_run},}}", text))
    whole, sentences, chunks = _stream(text, cfg, window, seed)
    assert whole == text
    assert (sentences, chunks) == chunk_text(text, "doc.txt", cfg)


@settings(max_examples=300, deadline=None)
@given(text=texts, cfg=chunker_settings, window=st.integers(1, 40), seed=st.integers(0, 1000))
def test_chunk_stream_keeps_the_contract_with_long_lines(text, cfg, window, seed):
    whole, sentences, chunks = _stream(text, cfg, window, seed)
    assert whole == text
    assert [s.id for s in sentences] == list(range(len(sentences)))
    assert [c.id for c in chunks] == list(range(len(chunks)))
    for a, b in zip(sentences, sentences[1:]):
        assert a.end_char <= b.start_char
    for s in sentences:
        assert text[s.start_char:s.end_char] == s.text and len(s.text) <= cfg.max_sentence_chars
    assert_visible_text_covered(text, sentences)
    for c in chunks:
        assert text[c.start_char:c.end_char] == c.text and len(c.text) <= cfg.max_chars
        assert c.start_char == sentences[c.first_sentence].start_char
        assert c.end_char == sentences[c.last_sentence].end_char
        assert (c.start_line, c.end_line) == (sentences[c.first_sentence].start_line,
                                              sentences[c.last_sentence].end_line)


def test_text_stream_decodes_across_blocks_and_hashes(tmp_path):
    text = "naïve café — 😀 déjà vu\r\nsecond line ✓\n" * 50
    data = text.encode("utf-8")
    (tmp_path / "a.txt").write_bytes(data)
    stream = TextStream(SourceFile(tmp_path / "a.txt", "a.txt"), block=3)  # splits multi-byte characters
    assert "".join(stream) == text
    assert stream.sha256 == hashlib.sha256(data).hexdigest() and stream.size == len(data)


@pytest.mark.parametrize(("data", "message"), [
    (b"good text\n" * 20 + b"\xff bad", "not valid UTF-8 at byte 200"),
    (b"abc\xe2\x82", "not valid UTF-8 at byte 3"),  # cut inside a character at the end
    (b"abc\x00def", "binary file"),
])
def test_text_stream_refuses_bad_bytes(tmp_path, data, message):
    (tmp_path / "b.txt").write_bytes(data)
    with pytest.raises(SourceError, match=message):
        list(TextStream(SourceFile(tmp_path / "b.txt", "b.txt"), block=7))


def _big_text(mb: float, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = "alpha beta gamma delta river mountain cloud power grid model vector chunk".split()
    out, size = [], 0
    while size < mb * 1_000_000:
        line = " ".join(" ".join(rng.choice(words) for _ in range(rng.randint(5, 15))).capitalize() + "."
                        for _ in range(rng.randint(1, 6))) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out)


class ConstantEncoder:
    """Cheap vectors (the test is about memory, not meaning)."""

    name = "constant"
    dim = 8
    fingerprint = "constant-8"

    def __init__(self):
        self.texts = 0

    def encode(self, texts, batch_size=64):
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


def _peak_traced(corpus, index_dir) -> int:
    tracemalloc.start()
    try:
        # a quarter of the default flush (1024 texts waiting for vectors, ~1.6 MB here): like the small windows
        # below, so that the constant buffers do not hide what grows with the file
        build_index(corpus, index_dir, encoder=ConstantEncoder(), progress=False, flush_texts=256)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_a_large_file_is_indexed_in_memory_that_does_not_grow_with_it(tmp_path, monkeypatch):
    # small windows and read blocks, so that a few MB show what 50 MB would with the defaults (and a file
    # that small streams: by default one is read whole, to be cut into sections at its headings)
    monkeypatch.setattr("indexer.build.STREAM_ABOVE", 0)
    monkeypatch.setattr("indexer.chunker.STREAM_WINDOW", 1 << 15)
    monkeypatch.setattr("indexer.stream.READ_BLOCK", 1 << 15)
    build_index(write_corpus(tmp_path / "warm", {"a.txt": "Warm up."}), tmp_path / "idx-warm",
                encoder=ConstantEncoder(), progress=False)  # imports and caches do not count
    small = write_corpus(tmp_path / "small", {"big.txt": _big_text(1)})
    large = write_corpus(tmp_path / "large", {"big.txt": _big_text(4)})
    peak_small = _peak_traced(small, tmp_path / "idx-small")
    peak_large = _peak_traced(large, tmp_path / "idx-large")
    size = (large / "big.txt").stat().st_size
    # Python-side peak (text, spans, vectors): a small fraction of the file, about the same for a 4x larger
    # file. Reading a file whole, as before, held its bytes, its text and all its spans: several times its size.
    assert peak_large < size / 2, (peak_small, peak_large, size)
    assert peak_large < 1.25 * peak_small + 200_000, (peak_small, peak_large)
    store = IndexStore(tmp_path / "idx-large")
    assert store.document_text("big.txt") == (large / "big.txt").read_text(encoding="utf-8")
    whole_s, whole_c = chunk_text(store.document_text("big.txt"), "big.txt")
    assert store.n_chunks == len(whole_c)
    c = store.chunks([len(whole_c) // 2])[len(whole_c) // 2]
    assert c.text == whole_c[len(whole_c) // 2].text
    assert [s.text for s in store.sentences_of(c)] == [
        s.text for s in whole_s[whole_c[len(whole_c) // 2].first_sentence:whole_c[len(whole_c) // 2].last_sentence + 1]]
    assert store.document_slice("big.txt", 1_000_000, 1_000_050) == store.document_text("big.txt")[1_000_000:1_000_050]


def test_progress_reports_bytes_and_an_eta(tmp_path):
    corpus = write_corpus(tmp_path / "c", {f"d{i}.txt": _big_text(0.2, seed=i) for i in range(3)})
    total = sum(p.stat().st_size for p in corpus.iterdir())
    seen = []
    build_index(corpus, tmp_path / "idx", encoder=ConstantEncoder(), progress=False, on_progress=seen.append)
    assert seen and all(i.total_bytes == total for i in seen)
    assert [i.done_bytes for i in seen] == sorted(i.done_bytes for i in seen)
    assert seen[-1].done_bytes == total and seen[-1].eta_s == 0
    assert seen[0].eta_s is None and any(i.eta_s is not None and i.eta_s > 0 for i in seen[1:-1])
    assert seen[-1].chunks == json.loads((tmp_path / "idx" / MANIFEST).read_text())["counts"]["chunks"]


@pytest.mark.slow
def test_a_file_that_breaks_mid_stream_is_dropped_whole_or_kept_as_before(tmp_path, monkeypatch):
    monkeypatch.setattr("indexer.build.STREAM_ABOVE", 0)  # a file of a few MB streams
    good = _big_text(2.5, seed=1)
    corpus = write_corpus(tmp_path / "c", {"big.txt": good, "small.txt": "Penguins live in Antarctica."})
    index_dir = tmp_path / "idx"
    enc = FakeEncoder()
    build_index(corpus, index_dir, encoder=enc, progress=False)
    before = IndexStore(index_dir)
    n_before = before.n_chunks
    before.close()
    # the file changes and now has a bad byte after 2.5 MB (read in blocks of 256 KiB); the scan
    # saw it as plain UTF-8 (it changed in between), so it is streamed and breaks mid-stream
    import indexer.build as build

    real_scan = build.scan_file
    monkeypatch.setattr(build, "scan_file", lambda path: (real_scan(path)[0], True, 1 << 30))
    (corpus / "big.txt").write_bytes(good.encode() + b"\xff more text\n")
    (corpus / "new.txt").write_bytes(b"x" * 10 + b"\xff")
    report = build_index(corpus, index_dir, encoder=enc, progress=False)
    assert sorted(s.source for s in report.skipped) == ["big.txt", "new.txt"]
    assert "previous version kept" in next(s.reason for s in report.skipped if s.source == "big.txt")
    assert report.unchanged == ["small.txt", "big.txt"] and report.added == report.changed == []
    store = IndexStore(index_dir)
    assert store.n_chunks == n_before and store.document_text("big.txt") == good
    assert store.document_text("new.txt") is None
    index = Index(index_dir)  # vectors, FAISS and rows agree
    assert index.faiss.ntotal == index.n_chunks
    result = Retriever(index, enc).ask("Where do penguins live?", k=1)
    assert result.passages[0].source == "small.txt"


# plain-text lines, some of them headings (numbered, in capitals, underlined, at the margin over indented text),
# joined by any line break: a large file's sections are found while it streams, as a small file's are
_LINES = st.sampled_from(["1. Introduction", "1.1 What is it?", "INSTALLATION", "Usage", "=====", "-----",
                          "   Indented text under a title.", "Some text. More text here", "", "", "How do I run it?",
                          "Chapter 2. Setup", "A contents line . . . . . 5", "plain words", "\t\ttabbed line"])
# a blank line half the time; a form feed (a page break) ends a line for str.splitlines, not for line numbers
_BREAKS = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n \n", "\n\x0c\n", "\x0c", "\u2028"])
_SECTIONED = st.lists(st.tuples(_LINES, _BREAKS), max_size=40).map(lambda t: "".join(a + b for a, b in t))


@settings(max_examples=300, deadline=None)
@given(text=_SECTIONED, seed=st.integers(0, 1000))
def test_a_streamed_texts_sections_are_a_whole_texts(text, seed):
    from indexer.formats.layout import section_regions
    from indexer.formats.plain import headings, stream_regions

    found = headings(text)
    assert stream_regions(_pieces(text, random.Random(seed))) == (section_regions(text, found) if found else ())


@settings(max_examples=200, deadline=None)
@given(text=_SECTIONED, cfg=chunker_settings, window=st.integers(100, 400), seed=st.integers(0, 1000))
def test_chunk_stream_with_sections_equals_chunk_regions(text, cfg, window, seed):
    from indexer.chunker import _BLANK_LINE, chunk_regions
    from indexer.formats.plain import stream_regions

    # a window is cut at a blank line, where no sentence runs on; every window holds one here (else the cut is at
    # a line break, which a sentence may run on over: a wrapped paragraph, a form feed's page break)
    ends = [0, *(m.end() for m in _BLANK_LINE.finditer(text)), len(text)]
    assume(all(b - a <= window for a, b in zip(ends, ends[1:])))
    regions = stream_regions(_pieces(text, random.Random(seed)))
    parts, sentences, chunks = [], [], []
    for batch in chunk_stream(_pieces(text, random.Random(seed + 1)), "doc.txt", cfg, window=window, regions=regions):
        parts.append(batch.text)
        sentences += batch.sentences
        chunks += batch.chunks
    assert "".join(parts) == text
    assert (sentences, chunks) == chunk_regions(text, "doc.txt", regions, cfg)


def test_stream_regions_of_long_lines_and_blocks_in_bounded_memory():
    from indexer.formats.plain import BLOCK_KEPT, stream_regions

    long_line = "x" * (3 * BLOCK_KEPT)
    text = f"INTRODUCTION\n\n{long_line}\n\nUSAGE\n\nRun it.\r\n" + "word " * BLOCK_KEPT + "\n"
    regions = stream_regions(_pieces(text, random.Random(0), most=500))
    assert [(text[r.start:r.end].split("\n", 1)[0], r.section) for r in regions] == [
        ("INTRODUCTION", "INTRODUCTION"), ("USAGE", "USAGE")]
    assert regions[-1].end == len(text)
    assert stream_regions(["no headings\n", "at all\n"]) == ()


def test_a_streamed_file_has_the_sections_it_has_read_whole(tmp_path, monkeypatch):
    parts = []
    for n in range(1, 30):
        parts.append(f"{n}. Chapter number {n}\n\n")
        parts += [f"Paragraph {k} of chapter {n} says something about rivers and hills.\n\n" for k in range(6)]
        parts.append(f"{n}.1 A question of chapter {n}?\n\n   Its answer, indented under it.\n\n")
    corpus = write_corpus(tmp_path / "c", {"book.txt": "".join(parts)})
    build_index(corpus, tmp_path / "whole", encoder=FakeEncoder(), progress=False)
    monkeypatch.setattr("indexer.build.STREAM_ABOVE", 0)
    monkeypatch.setattr("indexer.chunker.STREAM_WINDOW", 700)  # many windows, many sections in each
    monkeypatch.setattr("indexer.stream.READ_BLOCK", 500)
    build_index(corpus, tmp_path / "streamed", encoder=FakeEncoder(), progress=False)
    whole, streamed = IndexStore(tmp_path / "whole"), IndexStore(tmp_path / "streamed")
    assert streamed.n_chunks == whole.n_chunks

    def spans(store):
        chunks = store.chunks(range(store.n_chunks))
        return [(c.text, c.start_line, c.section, [(s.text, s.section) for s in store.sentences_of(c)])
                for c in chunks.values()]

    assert spans(streamed) == spans(whole)
    sections = {c.section for c in whole.chunks(range(whole.n_chunks)).values()}
    assert "29. Chapter number 29 > 29.1 A question of chapter 29?" in sections


def test_a_streamed_files_last_chunk_finds_its_sentences_after_a_flush(tmp_path, monkeypatch):
    # a streamed file's last chunk is carried to the end of the file: its sentences may have been embedded
    # (flushed) before it is queued, and the next file begins before the next flush (which failed with
    # "chunk N names sentence M, which was not queued" on a folder of two text files over 1 MiB)
    monkeypatch.setattr("indexer.build.STREAM_ABOVE", 0)
    monkeypatch.setattr("indexer.chunker.STREAM_WINDOW", 300)
    monkeypatch.setattr("indexer.stream.READ_BLOCK", 200)
    text = "".join(f"Sentence {i} tells of rivers and hills, one of many.\n" for i in range(60))
    corpus = write_corpus(tmp_path / "c", {"a.txt": text, "b.txt": "Another file.\n"})
    chunks = set()
    for flush in range(3, 40):
        build_index(corpus, tmp_path / f"idx{flush}", encoder=FakeEncoder(), progress=False, flush_texts=flush)
        chunks.add(IndexStore(tmp_path / f"idx{flush}").n_chunks)
    assert len(chunks) == 1


_FOLDER_LINES = ["1. Introduction", "INSTALLATION", "Usage", "=====", "   Indented text under a title.",
                 "Some text. More text here.", "", "", "How do I run it?", "2.1 Setup", "\x0c", "word " * 30,
                 "plain words of a wrapped paragraph that goes on and on until it reaches the wrap column of seventy"]


def _spans(store: IndexStore) -> list:
    chunks = store.chunks(list(range(store.n_chunks)))
    out = []
    for c in chunks.values():
        assert store.document_slice(c.source, c.start_char, c.end_char) == c.text
        out.append((c.source, c.start_char, c.end_char, c.section,
                    tuple((s.start_char, s.end_char, s.section) for s in store.sentences_of(c))))
    return sorted(out)


@pytest.mark.parametrize("seed", range(10))
def test_streamed_folders_built_and_updated_equal_folders_read_whole(tmp_path, monkeypatch, seed):
    # files of headings, wrapped paragraphs, form feeds and any line break, streamed with small reads and flushes
    # (but windows wider than any line, each with a blank line in it): the same sentences, chunks, sections and
    # vectors as read whole, after the first build and after an update that changes and removes files
    rng = random.Random(seed)

    def text() -> str:
        return "".join(rng.choice(_FOLDER_LINES) + rng.choice(["\n", "\n", "\r\n", "\n\n"])
                       for _ in range(rng.randint(1, 300)))

    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(rng.randint(2, 4)):
        (corpus / f"f{i}.txt").write_text(text() + "Last words.\n", encoding="utf-8")

    def build(name: str, streamed: bool) -> IndexStore:
        monkeypatch.setattr("indexer.build.STREAM_ABOVE", rng.choice([0, 3000]) if streamed else 1 << 30)
        monkeypatch.setattr("indexer.chunker.STREAM_WINDOW", rng.choice([1500, 5000]))
        monkeypatch.setattr("indexer.stream.READ_BLOCK", rng.choice([100, 700]))
        build_index(corpus, tmp_path / name, encoder=FakeEncoder(), progress=False, flush_texts=rng.choice([3, 40]))
        return IndexStore(tmp_path / name)

    whole, streamed = build("whole", False), build("streamed", True)
    assert _spans(streamed) == _spans(whole)
    assert np.allclose(np.array(streamed.chunk_vectors), np.array(whole.chunk_vectors), atol=1e-6)
    files = sorted(corpus.iterdir())
    (corpus / "f0.txt").write_text(text() + "Changed.\n", encoding="utf-8")
    files[-1].unlink()
    assert _spans(build("streamed", True)) == _spans(build("whole-after", False))


def test_gunzipped_in_pieces_equals_gunzip_whole():
    import gzip

    from indexer.formats import gunzip, gunzipped

    payload = "".join(f"Line {i} of a log.\n" for i in range(3000)).encode()
    data = gzip.compress(payload[:20000]) + b"\0\0" + gzip.compress(payload[20000:])  # two members, padded
    for size in (1, 7, 100, 5000):
        blocks = [data[i:i + size] for i in range(0, len(data), size)]
        assert b"".join(gunzipped(blocks, "log.gz")) == gunzip("log.gz", data) == payload
    for bad, why in ((data[:len(data) // 2], "cut short"), (b"not gzip at all", "damaged gzip file"),
                     (gzip.compress(payload), "holds more than")):
        with pytest.raises(FileSkipped, match=why):
            limit = 1000 if why == "holds more than" else 1 << 30
            b"".join(gunzipped([bytes([b]) for b in bad], "x.gz", limit))


def test_a_large_gzip_text_streams_as_its_text_reads_whole(tmp_path, monkeypatch):
    import gzip

    from indexer.stream import scan_file

    text = "".join(f"{n}. Part {n}\n\n" + "Rivers run to the sea, and hills stand by them.\n" * 30 + "\n"
                   for n in range(1, 40))
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "book.txt.gz").write_bytes(gzip.compress(text.encode()))
    (corpus / "broken.txt.gz").write_bytes(gzip.compress(text.encode())[:500])
    sha, plain, size = scan_file(corpus / "book.txt.gz")
    assert plain and size == len(text.encode())
    assert not scan_file(corpus / "broken.txt.gz")[1]  # not streamed: read whole, it says what is wrong
    whole = build_index(corpus, tmp_path / "whole", encoder=FakeEncoder(), progress=False)
    monkeypatch.setattr("indexer.build.STREAM_ABOVE", 1000)
    monkeypatch.setattr("indexer.stream.READ_BLOCK", 300)
    monkeypatch.setattr("indexer.chunker.STREAM_WINDOW", 2000)
    streamed = build_index(corpus, tmp_path / "streamed", encoder=FakeEncoder(), progress=False)
    assert [(s.source, s.reason) for s in streamed.skipped] == [(s.source, s.reason) for s in whole.skipped] == [
        ("broken.txt.gz", "damaged gzip file (cut short)")]
    a, b = IndexStore(tmp_path / "whole"), IndexStore(tmp_path / "streamed")
    assert b.document_text("book.txt.gz") == text
    assert _spans(b) == _spans(a) and a.documents() == b.documents()
