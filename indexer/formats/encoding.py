"""Guessing the encoding of a text file that is not UTF-8: charset-normalizer, with a Western bias.

charset-normalizer ranks candidate codecs by how messy the decoded text looks; for short
Western-European texts several single-byte codecs tie (Latin-1 French read as cp1250 gives
"ouvre ŕ 7 heures ... crępes" at the same score as cp1252's "ouvre à 7 heures ... crêpes") and
the tie is broken by its codec order, not by what the text says. :func:`guess` prefers cp1252 (a
superset of Latin-1's printable characters) when it is a near-equal candidate and its reading is
plausible Western-European text: every accented letter belongs to one Western language's alphabet,
no symbol sits inside a word, and the common words (mostly ASCII, so the same in either reading)
are more those of a Western language than of a Central European one. A Polish, Czech, Slovak or
Hungarian text read as cp1252 fails that test (``Za¿ó³æ``; ``Pøíliš`` mixes Danish and Czech
letters; "Dunaj teèie cez mesto a v lete je" has Slovak words), so cp1250 keeps those.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

WESTERN = "cp1252"
# Codecs whose reading is already Western-European: no preference to apply.
_WESTERN_CODECS = {"cp1252", "latin_1", "iso8859_15"}
NEAR_EQUAL = 0.1  # a candidate's chaos (0 clean .. 1 noise) within this of the best one's ties with it

# The accented letters of each Western-European alphabet cp1252 covers (lower case).
ALPHABETS = {
    "French": "àâæçéèêëîïôœùûüÿ",
    "German": "äöüßé",
    "Spanish": "áéíñóúü",
    "Portuguese": "áâãàçéêíóôõú",
    "Italian": "àèéìíîòóùú",
    "Catalan": "àçèéíïòóúü",
    "Dutch": "áäéëèíïóöúü",
    "Danish/Norwegian": "æøåéèóôò",
    "Swedish/Finnish": "åäöéšž",
    "Icelandic": "áðéíóúýþæö",
}
# Common words of the languages cp1252 and cp1250 are used for: which group a text's words are from.
WESTERN_WORDS = {
    "French": "le la les et à de des du un une est il elle nous vous ils en dans pour pas que qui sur au "
              "aux avec ce ces son sa ses ou où mais plus très été être",
    "German": "der die das und ist nicht ein eine zu den dem des mit von auf für sich im wir sie es auch als "
              "an nach bei über zum zur",
    "Spanish": "el la los las y de del que en un una es por con para no se su al lo como más pero sus le ya "
               "muy está será",
    "Portuguese": "o a os as e de do da dos das que em um uma é para com não se por no na mais como mas ao há",
    "Italian": "il lo la i gli le e di del della che è un una per con non si da in al più ma sono come anche",
    "Catalan": "el la els les i de que a en és per amb no un una del al als amb però més",
    "Dutch": "de het een en van is dat op te in niet met voor zijn er was wij hij ze naar dus maar",
    "Danish/Norwegian": "og i at det en er til på med for af den som de vi han hun om ikke har",
    "Swedish": "och i att det en är på som för med av till den de vi han hon om inte har där",
    "English": "the and of to in is that it for was on are with as by this be at from or have",
}
CENTRAL_WORDS = {
    "Polish": "i w z na się do nie to jest że o jak ale po co tak był być od za przez dla",
    "Czech": "a v se na je že to s z do o jako ale by pro k po tak bylo jsou jsem",
    "Slovak": "a v sa na je že to s z do o ako ale by pre k po tak bolo sú som cez",
    "Hungarian": "a az és hogy nem is egy ez meg de van volt már csak mint ki el",
    "Croatian/Slovenian": "i u je na da se za od su kao ali ne to",
}
_WORD = re.compile(r"[^\W\d_]+")
# Punctuation and symbols that may stand between two letters of a word.
_IN_WORD = {"’", "·", "\u00ad", "‘"}


@dataclass(frozen=True)
class Guess:
    """A guessed codec, how sure the guesser is (1 - charset-normalizer's chaos), and the language."""

    codec: str
    confidence: float
    language: str | None = None
    western_bias: bool = False  # cp1252 was chosen over a near-equal guess by the Western preference


def western_plausible(text: str) -> bool:
    """Whether ``text`` reads as Western-European: its non-ASCII letters fit one alphabet of
    :data:`ALPHABETS` and no non-ASCII symbol stands between two letters."""
    letters = set()
    for i, ch in enumerate(text):
        if ch.isascii():
            continue
        if ch.isalpha():
            letters.add(ch.lower())
            continue
        if ch in _IN_WORD or unicodedata.category(ch).startswith("Z"):
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if before.isalpha() and after.isalpha():
            return False  # "Za¿ó³æ": a symbol inside a word is a letter of another codec
    return any(letters <= set(alphabet) for alphabet in ALPHABETS.values())


def _word_hits(words: list[str], groups: dict[str, str]) -> int:
    """The most common words of one language of ``groups`` found among ``words``."""
    return max(sum(w in vocab for w in words) for vocab in (set(v.split()) for v in groups.values()))


def western_words(text: str) -> bool:
    """Whether ``text``'s common words are more Western-European than Central European (or neither)."""
    words = [w.lower() for w in _WORD.findall(text[:20000])]
    west, central = _word_hits(words, WESTERN_WORDS), _word_hits(words, CENTRAL_WORDS)
    return west > central or central == 0


def _canonical(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return name


def guess(data: bytes) -> Guess | None:
    """The likeliest codec for ``data`` (not UTF-8), or None when no text encoding fits."""
    import charset_normalizer

    results = charset_normalizer.from_bytes(data)
    best = results.best()
    if best is None:
        return None
    chosen = Guess(best.encoding, round(1.0 - best.chaos, 3), best.language or None)
    if _canonical(best.encoding) in _WESTERN_CODECS:
        return chosen
    try:
        western = data.decode(WESTERN)
    except UnicodeDecodeError:
        return chosen
    same = WESTERN in best.could_be_from_charset  # cp1252 gives the very same text: say so
    rival = next((m for m in results if m.encoding == WESTERN), None)
    near = rival is not None and rival.chaos <= best.chaos + NEAR_EQUAL
    if same or (near and western_plausible(western) and western_words(western)):
        chaos = best.chaos if same or rival is None else rival.chaos
        return Guess(WESTERN, round(1.0 - chaos, 3), (rival.language if rival else best.language) or None,
                     western_bias=not same)
    return chosen
