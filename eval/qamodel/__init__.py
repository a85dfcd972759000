"""How the packaged answer-sentence encoder (``retriever/models/answer-minilm``) is made.

``python -m eval.qamodel --work DIR`` runs the three steps in order:

1. :mod:`eval.qamodel.mine`: download the Debian packages in ``PACKAGES`` (``apt-get download``),
   unpack them and mine (question, answer sentences) pairs from their FAQs: a question heading or
   ``Q:`` line ending in "?", and the prose sentences of the answer body after it (code and
   lead-ins left out). None is a benchmark corpus (``eval/corpora``: zlib's and XZ Utils' FAQs are
   not used) or a reserved text (Debian's FAQ, python3-doc's FAQ pages, common-licenses).
2. :mod:`eval.qamodel.train`: fine-tune the packaged all-MiniLM-L6-v2 on them, multiple-negatives
   ranking loss: each question against its first answer sentence, every other answer of the
   batch and one hard negative (the closest first sentence of another answer of the same file).
3. :mod:`eval.qamodel.export`: export it to ONNX and quantise its weights to int8 (per channel),
   checked against the torch model.

``--folds DIR`` instead trains one model per benchmark corpus on the FAQ pairs and the gold pairs of
the other corpora (:mod:`eval.qamodel.goldpairs`), for ``python -m eval --corpora all
--fold-answer-models DIR``, which answers each held-out corpus with the model that never saw it.

Whether it earns its place is measured leave-one-corpus-out (``python -m eval --corpora all``,
docs/corpora.md); the model never sees a benchmark question.
"""
