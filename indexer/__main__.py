"""``python -m indexer SOURCE_DIR --index-dir DIR``."""

import sys

from indexer.cli import main

sys.exit(main())
