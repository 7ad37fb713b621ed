"""Property-based API testing from the OpenAPI document (schemathesis): no server error and no
response that breaks the schema (status codes, content types, headers, bodies), for every
operation, called anonymously and with tokens of an admin and of a member.

The ``positive_data_acceptance`` check is left out: requests that fit the schema can still be
refused on purpose — unknown vocabulary ids in a transfer or a pack text that does not validate
(422), a lifecycle change the pack's state forbids (409) — and each such answer is a documented
problem document, which the remaining checks verify.

Operations are driven one by one from ``schema.get_all_operations()`` with a bounded Hypothesis
budget (schemathesis' fixture-based pytest loader does not run on this pytest version).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from conftest import World

pytestmark = pytest.mark.slow

#: Examples per operation; raise it for a deeper run (e.g. ACCORD_SCHEMATHESIS_EXAMPLES=200).
MAX_EXAMPLES = int(os.environ.get("ACCORD_SCHEMATHESIS_EXAMPLES", "10"))


def test_api_conforms_to_its_schema(app: Any, world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    identities = {
        "anonymous": {},
        "admin": world["admin"].headers,
        "member": world["member_a"].headers,
    }
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            for headers in identities.values():
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
