"""Property-based API tests from the OpenAPI spec: no input may cause a server error.

For every operation, schemathesis generates valid and invalid requests (sent with a valid
key, so writes are exercised too) against a real server; every response must be a non-5xx
that matches the documented status codes, content type and schema. Bounded to a few dozen
examples per operation and mode to stay around a minute.

(schemathesis' own pytest plugin does not work with pytest 9, so the operations are driven
with plain Hypothesis `@given` over `operation.as_strategy()`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from web_fixtures import API_KEY, ingest_small_doc, make_service, running_server

pytestmark = [pytest.mark.slow]

OPERATIONS = [("GET", "/health"), ("POST", "/ask"), ("GET", "/search"), ("GET", "/documents"),
              ("POST", "/documents"), ("GET", "/documents/{document}"),
              ("DELETE", "/documents/{document}"),
              ("GET", "/documents/{document}/file"), ("POST", "/feedback"),
              ("POST", "/compare"), ("GET", "/documents/{document}/editions"),
              ("GET", "/documents/{document}/changes"), ("GET", "/feedback"), ("GET", "/gaps")]
EXAMPLES = 60
# Operations without parameters or body (or only a free-form id): nothing to make invalid.
NOTHING_TO_BREAK = {("GET", "/health"), ("GET", "/documents"), ("GET", "/documents/{document}"),
                    ("GET", "/documents/{document}/editions"),
                    ("GET", "/documents/{document}/file")}
# Only optional parameters and the bearer key: schemathesis' invalid case is often a missing
# key, which this test always sends, so a negative run would flag valid requests.
ONLY_THE_KEY_TO_BREAK = {("GET", "/feedback")}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("schemathesis")
    service = make_service(root / "data", max_upload_mb=1, max_question_chars=300)
    ingest_small_doc(service, root / "docs")
    with running_server(service) as base:
        yield schemathesis.openapi.from_url(f"{base}/api/openapi.json", timeout=30)


def test_every_operation_in_the_spec_is_fuzzed(api_schema: Any) -> None:
    found = {(operation.ok().method.upper(), operation.ok().path)
             for operation in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_never_cause_server_errors(
        api_schema: Any, method: str, path: str, mode: GenerationMode) -> None:
    if mode == GenerationMode.NEGATIVE and (method, path) in NOTHING_TO_BREAK:
        pytest.skip("no parameters or body to make invalid")
    if mode == GenerationMode.NEGATIVE and (method, path) in ONLY_THE_KEY_TO_BREAK:
        pytest.skip("the invalid requests schemathesis makes here lack only the key; "
                    "tests/test_ui_owner_browser.py checks that it is required")
    operation = api_schema[path][method]
    # An upload's type and readability are checked on its content and name, which a schema
    # cannot express: a schema-valid random file is rightly refused with 400/415.
    # Likewise a compare request's region names must be regions the documents have.
    excluded = [positive_data_acceptance] if (method, path) in {
        ("POST", "/documents"), ("POST", "/compare")} else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60,
                               excluded_checks=excluded)

    check()
