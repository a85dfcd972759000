"""``python -m retriever "question"``: the same as ``ask``."""

import sys

from retriever.cli import main

sys.exit(main())
