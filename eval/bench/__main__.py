"""``python -m eval.bench``: the list of benchmarks (each one is ``python -m eval.bench.NAME``)."""

import sys

import eval.bench

print(eval.bench.__doc__.strip())
if sys.argv[1:]:
    sys.exit("eval.bench is a package: pick a benchmark, e.g. python -m eval.bench.perf " + " ".join(sys.argv[1:]))
