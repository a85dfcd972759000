"""Encodings guessed and given, recorded in the manifest and shown by `--status`; the summary's file lists;
the phases of a run on stderr."""

from __future__ import annotations

import io
import json

import pytest

from indexer.build import LIST_LIMIT, build_index
from indexer.cli import main as index_main
from indexer.formats.encoding import guess, western_plausible
from indexer.formats.plain import decode_bytes, decode_text
from indexer.indexdir.store import IndexStore
from indexer.progress import Phases
from indexer.status import main as status_main
from indexer.status import status
from tests.conftest import TINY, FakeEncoder, write_corpus

# Known sentences and the encodings their files are written in: each must decode back exactly.
SENTENCES = [
    ("French", "latin-1", "Le café ouvre à 7 heures et ferme à 19 heures. On y sert des crêpes.\n"),
    ("French", "latin-1", "Où est la gare ? À gauche, après le théâtre, près de l'hôpital. Noël approche.\n"),
    ("French", "cp1252", "L’été dernier, nous avons visité la cathédrale — magnifique ! « C’est ça », dit-il.\n"),
    ("German", "latin-1", "Die Straße ist schön. Über die Brücke gehen wir zum Bäcker, der früh öffnet.\n"),
    ("Spanish", "latin-1", "El niño comió piñas en la montaña. ¿Dónde está la estación? Mañana será más fácil.\n"),
    ("Portuguese", "latin-1", "A educação é fundamental. Não há solução fácil para a questão da habitação.\n"),
    ("Italian", "latin-1", "Perché la città è così bella? Però il caffè costa più di un euro, è vero.\n"),
    ("Swedish", "latin-1", "Vi åker till Göteborg på måndag. Där är vädret ofta blåsigt och kallt.\n"),
    ("Polish", "cp1250", "Zażółć gęślą jaźń. Łódź jest dużym miastem w Polsce, a Kraków leży na południu.\n"),
    ("Polish", "cp1250", "Wczoraj poszliśmy do kina. Film był bardzo ciekawy, ale trochę za długi.\n"),
    ("Czech", "cp1250", "Příliš žluťoučký kůň úpěl ďábelské ódy. Praha je hlavní město České republiky.\n"),
    ("Slovak", "cp1250", "Bratislava je hlavné mesto Slovenska. Dunaj tečie cez mesto a v lete je tu teplo.\n"),
    ("Hungarian", "cp1250", "Budapest Magyarország fővárosa. A Duna két részre osztja a várost, Budára és Pestre.\n"),
    ("Russian", "cp1251", "Москва является столицей России. Летом в городе много туристов и тёплая погода.\n"),
    ("Russian", "utf-8", "Москва является столицей России. Летом в городе много туристов и тёплая погода.\n"),
    ("French", "utf-8", "Le café ouvre à 7 heures et ferme à 19 heures. On y sert des crêpes.\n"),
    ("French", "utf-16", "Le café ouvre à 7 heures et ferme à 19 heures. On y sert des crêpes.\n"),
    ("Czech", "utf-16", "Příliš žluťoučký kůň úpěl ďábelské ódy.\n"),
]


@pytest.mark.parametrize("times", [1, 5])
@pytest.mark.parametrize(("language", "encoding", "text"), SENTENCES)
def test_each_encoding_decodes_back_exactly(language, encoding, text, times):
    text = text * times
    got, codec = decode_text("doc.txt", text.encode(encoding))
    assert got == text, f"{language} in {encoding} decoded as {codec}"


def test_latin1_french_is_cp1252_not_cp1250():
    """The case of the issue: charset-normalizer alone ranks cp1250 first ("ouvre ŕ 7 heures")."""
    data = "Le café ouvre à 7 heures et ferme à 19 heures. On y sert des crêpes.\n".encode("latin-1")
    d = decode_bytes("fr.txt", data)
    assert (d.codec, d.how) == ("cp1252", "guessed") and "ouvre à 7" in d.text and "crêpes" in d.text
    assert 0.0 <= d.confidence <= 1.0
    assert d.record() == {"codec": "cp1252", "how": "guessed", "confidence": d.confidence}


def test_western_reading_of_central_european_text_is_implausible():
    assert western_plausible("Le café ouvre à 7 heures, des crêpes.")
    assert not western_plausible("Zażółć gęślą jaźń".encode("cp1250").decode("cp1252"))  # "Za¿ó³æ"
    assert not western_plausible("Příliš žluťoučký".encode("cp1250").decode("cp1252", "replace"))
    assert guess("Wczoraj poszliśmy do kina. Był bardzo ciekawy.".encode("cp1250")).codec == "cp1250"


def test_given_encoding_decodes_what_is_not_utf8():
    pl = "Zażółć gęślą jaźń.\n"
    d = decode_bytes("pl.txt", pl.encode("cp1250"), encoding="cp1250")
    assert (d.text, d.codec, d.how) == (pl, "cp1250", "given")
    # valid UTF-8 stays UTF-8 whatever --encoding says
    assert decode_bytes("u.txt", pl.encode(), encoding="cp1250").codec == "utf-8"


def _corpus(root):
    write_corpus(root, TINY)
    (root / "fr.txt").write_bytes("Le café ouvre à 7 heures. On y sert des crêpes.\n".encode("latin-1"))
    (root / "notes.md").write_bytes("# Notes\n\nZa¿ó³æ: the file is cp1250 read as cp1252?\n".encode("cp1252"))
    (root / "photo.jpg").write_bytes(b"\xff\xd8")
    return root


def test_manifest_records_guesses_and_status_lists_them(tmp_path, capsys):
    root, idx = _corpus(tmp_path / "src"), tmp_path / "idx"
    report = build_index(root, idx, encoder=FakeEncoder(), progress=False)
    assert set(report.guessed) == {"fr.txt", "notes.md"}
    docs = {d["source"]: d for d in IndexStore(idx).manifest["documents"]}
    fr = docs["fr.txt"]["encoding"]
    assert fr["codec"] == "cp1252" and fr["how"] == "guessed" and 0 <= fr["confidence"] <= 1
    assert all("encoding" not in docs[s] for s in TINY)  # UTF-8: nothing recorded
    manifest = json.loads((idx / "manifest.json").read_text())
    assert manifest["skipped"] == [{"source": "photo.jpg", "reason": "unsupported extension .jpg"}]
    assert manifest["decoding"]["encoding"] is None

    text = status(idx)
    assert f"built from: {root.resolve()}" in text
    assert f"documents: {len(TINY) + 2}" in text
    assert "decoded by a guessed encoding" in text
    assert f"fr.txt: cp1252, a guess (confidence {fr['confidence']:.2f}" in text
    assert "photo.jpg: unsupported extension .jpg" in text

    # the command line: `--status DIR`, `--status --index-dir DIR`, and the status module's main
    for argv in (["--status", str(idx)], ["--status", "--index-dir", str(idx)]):
        assert index_main(argv) == 0
        assert capsys.readouterr().out.strip() == text
    assert status_main([str(idx)]) == 0 and capsys.readouterr().out.strip() == text
    assert index_main(["--status", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.startswith(f"error: no index at {tmp_path / 'none'}")

    # a second run with nothing to do still says which files were guessed, at an earlier run
    again = build_index(root, idx, encoder=FakeEncoder(), progress=False)
    assert not again.written and set(again.guessed) == {"fr.txt", "notes.md"}


def test_status_of_an_index_built_before_the_records(tmp_path):
    root, idx = _corpus(tmp_path / "src"), tmp_path / "idx"
    build_index(root, idx, encoder=FakeEncoder(), progress=False)
    m = json.loads((idx / "manifest.json").read_text())
    del m["skipped"], m["decoding"]
    for d in m["documents"]:
        d.pop("encoding", None)
    (idx / "manifest.json").write_text(json.dumps(m))
    text = status(idx)
    assert "encodings: not recorded" in text and "skipped: not recorded" in text
    # the next run re-reads the files that are not UTF-8 (a newer guesser) and records them
    report = build_index(root, idx, encoder=FakeEncoder(), progress=False)
    assert sorted(report.changed) == ["fr.txt", "notes.md"] and "newer encoding guesser" in report.note
    assert "fr.txt: cp1252, a guess" in status(idx)


def test_encoding_option_rereads_and_records(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("indexer.encoder.SentenceTransformerEncoder", lambda model=None, **kw: FakeEncoder())
    root, idx = _corpus(tmp_path / "src"), tmp_path / "idx"
    assert index_main([str(root), "--index-dir", str(idx), "-q"]) == 0
    out = capsys.readouterr().out
    assert "  note fr.txt: not UTF-8: decoded as cp1252 (a guess, confidence" in out
    # nothing changed: up to date, and the guesses of the first run are still mentioned
    assert index_main([str(root), "--index-dir", str(idx), "-q"]) == 0
    out = capsys.readouterr().out
    assert "index already up to date" in out
    assert "note: 2 files were decoded by a guessed encoding at an earlier run" in out
    # the user knows better: --encoding re-reads the files that are not UTF-8, and only those
    assert index_main([str(root), "--index-dir", str(idx), "-q", "--encoding", "cp1250"]) == 0
    out = capsys.readouterr().out
    assert "0 added, 2 changed, 0 removed" in out and "--encoding changed" in out
    assert "  changed fr.txt" in out and "  changed notes.md" in out
    store = IndexStore(idx)
    assert "Zażółć" in store.document_text("notes.md")
    rec = {d["source"]: d.get("encoding") for d in store.manifest["documents"]}
    assert rec["notes.md"] == {"codec": "cp1250", "how": "given"}
    assert "notes.md: cp1250 (--encoding)" in status(idx)
    # an unknown codec is a usage error
    assert index_main([str(root), "--index-dir", str(idx), "--encoding", "klingon"]) == 2
    assert "error: --encoding: unknown encoding 'klingon'" in capsys.readouterr().err


def test_summary_names_files_added_changed_removed(tmp_path):
    root, idx = tmp_path / "src", tmp_path / "idx"
    write_corpus(root, {f"n{i:02d}.txt": f"Note number {i} says hello." for i in range(LIST_LIMIT + 3)})
    first = build_index(root, idx, encoder=FakeEncoder(), progress=False).summary()
    assert "  added n00.txt" in first and f"  added n{LIST_LIMIT - 1:02d}.txt" in first
    assert f"  added n{LIST_LIMIT:02d}.txt" not in first and "  ... and 3 more added" in first
    (root / "n01.txt").write_text("Note one changed.")
    (root / "n02.txt").unlink()
    (root / "new.txt").write_text("A new note.")
    lines = build_index(root, idx, encoder=FakeEncoder(), progress=False).summary().splitlines()
    assert lines[1:] == ["  added new.txt", "  changed n01.txt", "  removed n02.txt"]
    same = build_index(root, idx, encoder=FakeEncoder(), progress=False).summary()
    assert same.startswith("index already up to date") and "\n" not in same


def test_phases_are_shown_on_stderr(tmp_path):
    root, idx = _corpus(tmp_path / "src"), tmp_path / "idx"
    out = io.StringIO()
    build_index(root, idx, encoder=FakeEncoder(), progress=False, phases=Phases(True, stream=out))
    lines = out.getvalue().splitlines()
    said = [line.split("] ", 1)[1] for line in lines]
    assert said[0] == f"scanning {root}"
    assert said[1].startswith(f"reading and embedding {len(TINY) + 2} file(s)")
    assert said[-1] == "writing the vector index and checksums"  # (no ONNX export of a fake encoder)
    assert all(line.startswith("[") and " s] " in line for line in lines)
    quiet = io.StringIO()
    build_index(root, tmp_path / "idx2", encoder=FakeEncoder(), progress=False, phases=Phases(False, stream=quiet))
    assert quiet.getvalue() == ""
