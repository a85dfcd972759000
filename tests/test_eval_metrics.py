"""Evaluation metrics on hand-made rankings and answers, with exact expected values."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    Outcome,
    abstention,
    answer_correct,
    exact_match,
    hit_at,
    paired_difference,
    passage_relevant,
    per_question,
    percentile,
    reciprocal_rank,
    summarize,
    token_f1,
)


def test_hit_at_k():
    ranking = [False, False, True, False]
    assert [hit_at(ranking, k) for k in (1, 2, 3, 5)] == [0.0, 0.0, 1.0, 1.0]
    assert hit_at([], 5) == 0.0


def test_reciprocal_rank():
    assert reciprocal_rank([True]) == 1.0
    assert reciprocal_rank([False, False, True, True]) == pytest.approx(1 / 3)
    assert reciprocal_rank([False] * 10 + [True], k=10) == 0.0  # rank 11 is past the cut-off
    assert reciprocal_rank([False, True], k=1) == 0.0


def test_exact_match_uses_squad_normalisation():
    assert exact_match("The $8 billion.", ["$8 billion"]) == 1.0  # article and punctuation dropped
    assert exact_match("an $8 billion investment", ["$8 billion"]) == 0.0
    assert exact_match("Dario  Amodei", ["Sam Altman", "dario amodei"]) == 1.0


def test_token_f1_exact_values():
    # prediction 4 tokens, gold 2 tokens, 2 shared: p = 1/2, r = 1, f1 = 2/3
    assert token_f1("received $8 billion investment", ["$8 billion"]) == pytest.approx(2 / 3)
    # the best of several answers counts
    assert token_f1("Amazon", ["Google", "Amazon invested"]) == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert token_f1("nothing shared", ["Amazon"]) == 0.0
    # repeated tokens count only as often as they occur in both (SQuAD's Counter intersection)
    assert token_f1("a b b", ["b c"]) == pytest.approx(2 * (1 / 2) * (1 / 2) / 1.0)  # "a" is an article


def test_answer_correct_needs_file_answer_and_length():
    text = "Anthropic, for instance, received an $8 billion investment from Amazon."
    assert answer_correct(text, "004.txt", "004.txt", ["$8 billion"])
    assert not answer_correct(text, "001.txt", "004.txt", ["$8 billion"])  # wrong file
    assert not answer_correct(text, "004.txt", "004.txt", ["$9 billion"])  # no accepted answer
    assert not answer_correct(text + " x" * 200, "004.txt", "004.txt", ["$8 billion"])  # over 300 chars
    assert not answer_correct("about $80 billions", "a", "a", ["$8 billion"])  # whole words only
    assert passage_relevant("It cost $8 billion.", "a", "a", ["8 billion"])
    assert not passage_relevant("It cost $8 billion.", "a", None, ["8 billion"])


def test_percentile_interpolates_like_numpy():
    values = [10.0, 1.0, 4.0, 2.0, 3.0]  # sorted: 1 2 3 4 10
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4 + 0.8 * 6)  # position 3.8
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 10.0
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_abstention_precision_recall_false_rate():
    abstained = [True, True, False, True, False, False]
    answerable = [False, True, False, False, True, True]
    # abstained on 3: 2 unanswerable (right), 1 answerable (wrong); 3 unanswerable in all; 3 answerable
    assert abstention(abstained, answerable) == {
        "abstain_precision": pytest.approx(2 / 3), "abstain_recall": pytest.approx(2 / 3),
        "false_abstention": pytest.approx(1 / 3)}
    assert abstention([False, False], [True, False]) == {
        "abstain_precision": None, "abstain_recall": 0.0, "false_abstention": 0.0}


def test_summarize_on_a_hand_made_run():
    outcomes = [
        Outcome("a", True, (True, False), True, correct=True, em=1.0, f1=1.0, seconds=0.010),
        Outcome("b", True, (False, False, True), True, correct=False, em=0.0, f1=0.5, seconds=0.020),
        Outcome("c", True, (False,) * 6 + (True,), False, seconds=0.030),  # abstained, hit at 7
        Outcome("d", False, (False, False), False, seconds=0.040),  # rightly abstained
        Outcome("e", False, (False,), True, seconds=0.050),  # wrongly answered
    ]
    m = summarize(outcomes)
    assert m["questions"] == 5.0
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@5"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 7) / 3)
    assert m["accuracy"] == pytest.approx(1 / 3)
    assert m["em"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(0.5)
    assert m["abstain_precision"] == pytest.approx(1 / 2)
    assert m["abstain_recall"] == pytest.approx(1 / 2)
    assert m["false_abstention"] == pytest.approx(1 / 3)
    assert m["p50_ms"] == pytest.approx(30.0)
    assert m["p95_ms"] == pytest.approx(48.0)


def test_summarize_retrieval_only_has_no_answer_metrics():
    m = summarize([Outcome("a", True, (False, True)), Outcome("b", False, ())])
    assert m["hit@1"] == 0.0 and m["hit@5"] == 1.0 and m["mrr@10"] == 0.5
    assert all(m[k] is None for k in ("accuracy", "em", "f1", "abstain_precision", "abstain_recall",
                                      "false_abstention"))


def test_per_question_values_average_to_the_summary():
    outcomes = [Outcome("a", True, (False, True), True, True, em=1.0, f1=1.0),
                Outcome("b", True, (False,) * 6, False),
                Outcome("c", False, (), True),
                Outcome("d", False, (), False),
                Outcome("e", True, (True,), True, False, f1=0.5)]
    assert per_question(outcomes, "hit@1") == [0.0, 0.0, 1.0]
    assert per_question(outcomes, "hit@5") == [1.0, 0.0, 1.0]
    assert per_question(outcomes, "mrr@10") == [0.5, 0.0, 1.0]
    assert per_question(outcomes, "accuracy") == [1.0, 0.0, 0.0]
    assert per_question(outcomes, "f1") == [1.0, 0.0, 0.5]
    assert per_question(outcomes, "abstain_recall") == [0.0, 1.0]  # over the unanswerable ones
    assert per_question(outcomes, "false_abstention") == [0.0, 1.0, 0.0]
    summary = summarize(outcomes)
    for metric in ("hit@1", "hit@5", "mrr@10", "accuracy", "f1", "abstain_recall", "false_abstention"):
        values = per_question(outcomes, metric)
        assert sum(values) / len(values) == pytest.approx(summary[metric]), metric
    passages_only = [Outcome("a", True, (True,)), Outcome("c", False, ())]
    assert per_question(passages_only, "accuracy") is None and per_question(passages_only, "hit@1") == [1.0]


def test_paired_difference_and_its_interval():
    # the same difference on every question: no spread, the interval is that difference
    assert paired_difference([1, 1, 0], [0, 0, -1]) == (1.0, 1.0, 1.0)
    assert paired_difference([0.5, 1], [0.5, 1]) == (0.0, 0.0, 0.0)
    # 84 questions, 10 won and 74 level: 0.119, and about +-1.96 * sqrt(p(1-p)/n) = +-0.069 around it
    diff, lo, hi = paired_difference([1.0] * 10 + [0.0] * 74, [0.0] * 84)
    assert diff == pytest.approx(10 / 84)
    assert lo == pytest.approx(10 / 84 - 0.069, abs=0.02) and hi == pytest.approx(10 / 84 + 0.069, abs=0.02)
    assert 0 < lo < diff < hi
    # 3 won, 3 lost: no difference the questions support
    diff, lo, hi = paired_difference([1, 1, 1, 0, 0, 0] * 5, [0, 0, 0, 1, 1, 1] * 5)
    assert diff == 0.0 and lo < 0 < hi
    won = ([1.0] * 10 + [0.0] * 74, [0.0] * 84)
    assert paired_difference(*won) == paired_difference(*won)  # seeded: the same interval every run
    with pytest.raises(ValueError):
        paired_difference([1.0, 0.0], [1.0])
    with pytest.raises(ValueError):
        paired_difference([], [])
