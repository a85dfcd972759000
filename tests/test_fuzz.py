"""HTTP fuzzing from the OpenAPI schema (schemathesis) against a live server on loopback: no 5xx, ever.

In CI: 50 examples per operation, the same ones every run. To search harder:
``QUARRY_FUZZ_EXAMPLES=1500 QUARRY_FUZZ_RANDOM=1 python -m pytest tests/test_fuzz.py -s``.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra: pip install -e '.[dev]'")
from hypothesis import HealthCheck, settings  # noqa: E402

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.serving import live_server, tiny_index  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("QUARRY_FUZZ_EXAMPLES", 50))  # per operation: in CI, well under a minute
KEY = "fuzz-key"
pytestmark = pytest.mark.slow
CASES: Counter = Counter()  # cases run per operation (printed with -s)

# The schema comes from the app itself (nothing is loaded to build it); requests go to a live server.
from schemathesis.checks import negative_data_rejection  # noqa: E402

schema = schemathesis.openapi.from_dict(create_app(Settings(index_dir="/nonexistent")).openapi())
schema.config.generation.update(max_examples=MAX_EXAMPLES)


@pytest.fixture
def url(tiny_corpus, tmp_path):
    index_dir = tiny_index(tiny_corpus, tmp_path / "idx")
    with live_server(Settings(index_dir=index_dir, watch_seconds=0, api_key=KEY)) as url:
        yield url
    print(f"\nfuzzed: {dict(CASES)}")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=not os.environ.get("QUARRY_FUZZ_RANDOM"))
def test_no_server_error_and_responses_match_the_schema(case, url):
    CASES[case.operation.label] += 1
    # a query string is text: "?source=536870911" is a valid source name, not an integer that should be refused
    untyped = [negative_data_rejection] if case.operation.label == "GET /documents" else []
    case.call_and_validate(base_url=url, timeout=60, headers={"X-API-Key": KEY}, excluded_checks=untyped)
