"""Off-topic probe questions: what confidence a folder gives questions it cannot be about.

A confidence from the answer scorer does not mean the same on every folder: a folder of short FAQ
answers scores lower than one of news articles. Asking the folder a fixed set of everyday
questions that no document folder of the kinds quarry serves answers (cooking, sport, geography,
health, ...) shows how high its confidence runs for questions it cannot answer;
``probe_threshold`` abstains below the ``quantile`` of those (``SpanConfig.probe_quantile``, off).
The same probes give the folder's off-topic yardstick for closeness (``SpanConfig.probe_gate``, on): a
question no closer to any passage than the closest probe is not about the folder.

No probe may be one of the benchmark's off-topic or unanswerable gold questions, nor nearly one: it
would be gated by itself (nine that were went on 2026-12-06).
"""

from __future__ import annotations

import math

PROBES = (
    "How often should I water a cactus?", "Who won the tennis final at Wimbledon last year?",
    "How deep is the Pacific Ocean?", "How do I get rid of a sore throat?",
    "What time does the sun set in December?", "Which team has won the most basketball championships?",
    "How many hearts does an octopus have?", "How do I make a vegetable curry?",
    "Where is the nearest train station?", "Which languages are spoken in Switzerland?",
    "How do I train a puppy to sit?", "Who composed the Moonlight Sonata?",
    "How do I start running as a beginner?", "How much sleep does a teenager need?",
    "Which wine goes well with fish?", "What causes thunderstorms?",
    "How do I knit a scarf?", "Who invented the telephone?",
    "What is the exchange rate of the yen?", "How do I plant tomatoes in a garden?",
    "What is the largest desert in Asia?", "When is the next full moon?",
    "Who holds the world record for the marathon?", "What should I pack for a beach holiday?",
    "How do I fix a squeaky door?", "Which vitamins are in oranges?",
    "What is the plot of Romeo and Juliet?", "How fast can a cheetah run?",
    "What is the weather like in Paris in spring?", "How do I make my own bread at home?",
)


def probe_threshold(confidences: list[float], quantile: float) -> float:
    """The ``quantile`` (0-1) of the probes' confidences, just above it: an answer must be more sure
    than that share of the probes to be given.

    >>> probe_threshold([0.1, 0.2, 0.3, 0.4], 0.75)
    0.300001
    """
    if not confidences:
        return 0.0
    ordered = sorted(confidences)
    i = min(len(ordered) - 1, max(0, math.ceil(quantile * len(ordered)) - 1))
    return round(ordered[i] + 1e-6, 6)
