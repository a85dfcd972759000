"""The answer-sentence encoder (retriever.answer_model) and the gate on questions the folder has no word of."""

from __future__ import annotations

from dataclasses import replace

import pytest

from indexer.errors import ModelError
from retriever.answer import FEATURES, confidence
from retriever.answer_model import PACKAGED, AnswerModel, open_answer_model
from retriever.pipeline import scored_sentences
from retriever.settings import RetrieverSettings


@pytest.fixture(scope="module")
def answer_model():
    return open_answer_model(None)


def test_the_packaged_answer_model_ships_and_loads(answer_model):
    assert (PACKAGED / "encoder.json").is_file() and (PACKAGED / "model.onnx").is_file()
    assert isinstance(answer_model, AnswerModel) and open_answer_model(None) is answer_model  # once per process


def test_it_places_a_question_nearer_its_answer_than_an_echo(answer_model):
    texts = {1: "Use the -k option to keep the input file when compressing.",
             2: "The weather in Lisbon is mild in spring."}
    s = answer_model.scores("How do I keep the original file when compressing?", texts)
    assert set(s) == {1, 2} and all(0.0 <= v <= 1.0 for v in s.values())
    assert s[1] > s[2]
    again = answer_model.scores("How do I keep the original file when compressing?", {7: texts[1]})
    assert again[7] == s[1]  # the same text is kept, so the cosine is the same under any key


def test_a_sentence_scores_the_same_whatever_is_new_beside_it():
    """int8 activations are quantised per batch: encoded together with other new sentences, a sentence's
    cosine moved by up to 0.01 with what had been asked before. Each is encoded alone now."""
    q = "How do I keep the original file when compressing?"
    target = "Use the -k option to keep the input file when compressing."
    others = {i: f"Line {i} of a long and quite unrelated paragraph about gardening, tides and {i * 7} cats."
              for i in range(2, 30)}
    alone = AnswerModel(PACKAGED).scores(q, {1: target})[1]
    crowded = AnswerModel(PACKAGED).scores(q, {1: target, **others})[1]
    assert alone == crowded


def test_off_and_bad_folders(tmp_path):
    assert open_answer_model("off") is None and open_answer_model("OFF") is None
    with pytest.raises(ModelError, match="no answer model"):
        open_answer_model(tmp_path / "missing")
    with pytest.raises(ModelError, match="not an answer model"):
        open_answer_model(tmp_path)


def test_settings_read_the_answer_model_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUARRY_ANSWER_MODEL", "off")
    assert RetrieverSettings.from_env().answer_model == "off"
    assert RetrieverSettings.from_env(answer_model="/m").answer_model == "/m"
    monkeypatch.delenv("QUARRY_ANSWER_MODEL")
    assert RetrieverSettings.from_env().answer_model is None  # the packaged one


def test_the_qa_feature_is_the_answer_models_cosine(seeds_retriever, answer_model):
    q = "How much will the hyperscalers spend on AI infrastructure?"
    plain = scored_sentences(seeds_retriever, q)
    assert plain and all(s.features[FEATURES.index("qa")] == 0.0 for s in plain)  # no model: 0
    r = replace_model(seeds_retriever, answer_model)
    with_model = scored_sentences(r, q)
    assert any(s.features[FEATURES.index("qa")] > 0.2 for s in with_model)


def replace_model(retriever, model):
    other = retriever.with_config()
    other.answer_model = model
    return other


def test_a_question_with_no_word_the_folder_uses_is_not_answered(seeds_retriever):
    q = "qqq jjj xxkz plom"
    scored = scored_sentences(seeds_retriever, q)
    assert scored and all(s.known == 0.0 for s in scored)
    assert seeds_retriever.ask(q).answer is None
    span = seeds_retriever.config.span
    assert confidence(scored[0], span) == 0.0
    # the gate alone decides: switched off, the same candidate gets a confidence above zero
    assert confidence(scored[0], replace(span, min_known=None, min_topical=0.0)) > 0.0
    known = scored_sentences(seeds_retriever, "How much will the hyperscalers spend?")
    assert 0.0 < known[0].known <= 1.0
