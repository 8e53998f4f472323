"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis): whatever
the request, valid by the schema or not, the service never answers 5xx, and its refusals are
JSON.

Bounded: :data:`EXAMPLES` examples per operation and generation mode (the whole test well
under a minute); requests carry a key with every scope, so the fuzzing reaches the searches,
the registry updates and the jobs, not only the 401s.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.service.conftest import Sample, Service, build_index  # noqa: E402

#: Examples per API operation and generation mode.
EXAMPLES = 8


def _check(service: Service, case: Any) -> None:
    response = case.call_and_validate(headers=service.auth(), checks=[not_a_server_error])
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400 and response.content:
        assert "error" in response.json() or "ready" in response.json()


@pytest.fixture(scope="module")
def own_index(sample: Sample) -> Any:
    """An index of its own: the fuzzing adds random persons to it."""
    return build_index(sample)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_makes_a_server_error(
    make_service: Any, own_index: Any, mode: GenerationMode
) -> None:
    # at most 3 queries per envelope (more: a quick 413), no rate limit in the way
    service = make_service(index=own_index, max_queries=3, rate_per_second=1e6, rate_burst=10**6)
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            _check(service, case)

        try:
            fuzz()
        except Unsatisfiable:  # nothing to make invalid (e.g. GET /health in negative mode)
            assert mode is GenerationMode.NEGATIVE
