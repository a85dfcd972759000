"""The autouse isolation in conftest.py: no QUARRY_* variable of the shell reaches a test."""

from __future__ import annotations

import os

from tests.conftest import LIBRARY_VARIABLES


def test_every_variable_the_library_reads_is_cleared():
    assert {"QUARRY_READER", "QUARRY_READER_ABSTAIN", "QUARRY_SEEDS", "QUARRY_MODEL", "QUARRY_API_KEY",
            "QUARRY_CROSS_ENCODER"} <= LIBRARY_VARIABLES
    assert [n for n in LIBRARY_VARIABLES if n in os.environ] == ["QUARRY_INDEX_DIR"]  # pointed into tmp_path
    assert os.environ["QUARRY_INDEX_DIR"].endswith("default-index")
