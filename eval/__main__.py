"""``python -m eval``: the gold-question evaluation (see ``eval.cli``)."""

import sys

from eval.cli import main

sys.exit(main())
