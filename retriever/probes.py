"""Off-topic probe questions: what confidence a folder gives questions it cannot be about.

A confidence from the answer scorer does not mean the same on every folder: a folder of short FAQ
answers scores lower than one of news articles. Asking the folder a fixed set of everyday
questions that no document folder of the kinds quarry serves answers (cooking, sport, geography,
health, ...) shows how high its confidence runs for questions it cannot answer;
``probe_threshold`` abstains below the ``quantile`` of those (``SpanConfig.probe_quantile``).
"""

from __future__ import annotations

import math

PROBES = (
    "How long should I boil pasta?", "Who won the tennis final at Wimbledon last year?",
    "What is the tallest mountain in Africa?", "How do I get rid of a sore throat?",
    "What time does the sun set in December?", "Which team has won the most basketball championships?",
    "How many legs does a spider have?", "What is a good recipe for pancakes?",
    "Where is the nearest train station?", "What is the population of Brazil?",
    "How do I train a puppy to sit?", "Who painted the Mona Lisa?",
    "What is the best way to learn to swim?", "How much sleep does a teenager need?",
    "Which wine goes well with fish?", "What causes thunderstorms?",
    "How do I knit a scarf?", "Who wrote Pride and Prejudice?",
    "What is the exchange rate of the yen?", "How do I plant tomatoes in a garden?",
    "What is the capital of Canada?", "When is the next full moon?",
    "How many players are on a football team?", "What should I pack for a beach holiday?",
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
