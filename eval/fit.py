"""Fitting the answer scorer: ranking weights, answerability model, abstention threshold.

Shared by ``python -m eval.bench.tune`` (one corpus, printed for a person) and the leave-one-corpus-out
benchmark (``eval.loco``: fitted on some corpora, scored on another).
"""

from __future__ import annotations

import numpy as np

from eval.metrics import answer_correct
from retriever.pipeline import answer_span, scored_sentences


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (scikit-learn's, the bias not shrunk).

    Features are standardised for the fit (so the penalty treats them alike) and the weights
    mapped back; a constant feature gets weight 0. The penalty is ``l2 / 2 * |w|^2`` against the
    summed log-loss (scikit-learn's ``C`` is ``1 / l2``).
    """
    from sklearn.linear_model import LogisticRegression

    mean, std = x.mean(axis=0), x.std(axis=0)
    live = std > 1e-12
    z = np.where(live, (x - mean) / np.where(live, std, 1.0), 0.0)
    model = LogisticRegression(C=1.0 / l2, tol=1e-10, max_iter=10_000).fit(z, y)
    weights = np.where(live, model.coef_[0] / np.where(live, std, 1.0), 0.0)
    return weights, float(model.intercept_[0] - np.sum(weights * mean))


def fit_ranker(x: np.ndarray, y: np.ndarray, owner: list[int], l2: float = 0.05) -> np.ndarray:
    """Weights of a conditional logit: per question, a softmax over its candidates; maximises the mean
    log-probability of the right ones, L2-regularised (``l2 / 2 * |w|^2``), with SciPy's L-BFGS.
    Questions without a right candidate carry no information and are left out."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    owner_a = np.asarray(owner)
    groups = [np.flatnonzero(owner_a == g) for g in sorted(set(owner)) if y[owner_a == g].any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = 0.5 * l2 * w @ w, l2 * w
        for rows in groups:
            xg, right = x[rows], y[rows] > 0
            s = xg @ w
            every, hit = logsumexp(s), logsumexp(s[right])
            value -= (hit - every) / len(groups)
            p = np.exp(s - every)
            q = np.where(right, np.exp(s - hit), 0.0)
            grad = grad - xg.T @ (q - p) / len(groups)
        return value, grad

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"gtol": 1e-10}).x


def choose_threshold(confs: list[float], answerable: list[bool], max_false: float) -> float:
    """The threshold with the best abstention recall whose false-abstention rate is at most
    ``max_false`` (ties: the lowest, which answers the most), halfway between two confidences."""
    n_ans = max(1, sum(answerable))
    n_un = max(1, len(answerable) - sum(answerable))
    levels = sorted(set(confs))
    cuts = [0.0] + [(a + b) / 2 for a, b in zip(levels, levels[1:])] + [levels[-1] + 1e-6 if levels else 1.0]
    best = (-1.0, 0.0)
    for t in cuts:
        false = sum(c < t and a for c, a in zip(confs, answerable)) / n_ans
        recall = sum(c < t and not a for c, a in zip(confs, answerable)) / n_un
        if false <= max_false + 1e-12 and recall > best[0]:
            best = (recall, t)
    return round(best[1], 4)


def candidate_table(retriever, questions, qvecs) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Features and labels of every candidate sentence, and the question index of each row."""
    rows, labels, owner = [], [], []
    for i, q in enumerate(questions):
        for s in scored_sentences(retriever, q.question, qvec=qvecs[i]):
            span = answer_span(retriever, s)
            rows.append(s.features)
            labels.append(float(q.answerable and answer_correct(span.text, span.source, q.source, q.answers,
                                                                where=(span.start_char, span.end_char),
                                                                ranges=q.ranges)))
            owner.append(i)
    return np.array(rows), np.array(labels), owner
