"""Guard 3: Schemathesis against the OpenAPI schema, in-process through the WSGI app.

Every operation of ``/api/schema/`` is called with generated requests as a staff user (the
provider admin) and as the external customer user, each with a token (docs/api.md), on the test
database (the fuzzer POSTs and DELETEs: never point it at real data). Bounded: ``MAX_EXAMPLES``
requests per operation and role, a fixed seed (derandomized), no shrinking.

Checks: no 5xx (``not_a_server_error``) and every response matches its schema
(``response_schema_conformance``). Known findings are in ``KNOWN_FAILURES`` as
(role, "METHOD /path", check); a listed finding that no longer occurs fails the test too.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from servicebook.config.wsgi import application

MAX_EXAMPLES = int(os.environ.get("GUARD_FUZZ_EXAMPLES", "4"))
CHECKS = {"not_a_server_error": not_a_server_error, "schema": response_schema_conformance}
ROLES = ("admin", "external")

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
OPERATIONS = {
    f"{result.ok().method.upper()} {result.ok().path}": result.ok()
    for result in SCHEMA.get_all_operations()
}

#: Findings still open, each (as it is reported) a hole to fix and then to delete from here. The
#: 117 found on main at 5dedba5 (issue 12) are all fixed; keep this empty.
KNOWN_FAILURES: set[tuple[str, str, str]] = set()


def _summary(error) -> str:
    """A failure's title and message on one line."""
    failures = error.exceptions if isinstance(error, FailureGroup) else [error]
    parts = []
    for failure in failures:
        message = str(getattr(failure, "message", "") or "").split("Validated against")[0]
        message = " ".join(message.split())
        parts.append(f"{getattr(failure, 'title', type(failure).__name__)}: {message}"[:400])
    return " | ".join(parts)


def _failed_checks(case, response) -> dict[str, str]:
    """The checks a response fails, each with its first line."""
    failed = {}
    for name, check in CHECKS.items():
        try:
            case.validate_response(response, checks=[check])
        except (Failure, FailureGroup) as error:
            failed[name] = _summary(error)
    return failed


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through the WSGI handler, whose request signals close the database
    connection at the end of each request; inside the test's transaction that would drop it
    (PostgreSQL). Django's test client disconnects them the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_schema_describes_every_api_route():
    assert len(OPERATIONS) > 100
    assert "GET /api/agreements/" in OPERATIONS


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation(label, role, users):
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=users[role])
    headers = {"Authorization": f"Token {token.key}"}
    operation = OPERATIONS[label]
    found: dict[str, str] = {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        response = case.call(headers=headers)
        for name, detail in _failed_checks(case, response).items():
            request = f"{case.method} {case.formatted_path}"
            if case.query:
                request += f" query={case.query}"
            if case.body is not None and not isinstance(case.body, NotSet):
                request += f" body={str(case.body)[:200]}"
            found.setdefault(name, f"{request} -> {response.status_code}: {detail}")

    fuzz()
    if os.environ.get("GUARD_REPORT"):
        with open(os.environ["GUARD_REPORT"], "a") as out:
            for name, detail in found.items():
                out.write(f"{role}\t{label}\t{name}\t{detail}\n")
    new = {name: text for name, text in found.items() if (role, label, name) not in KNOWN_FAILURES}
    gone = [key for key in KNOWN_FAILURES if key[:2] == (role, label) and key[2] not in found]
    assert not new, f"{label} as {role}: " + "\n".join(f"{k}: {v}" for k, v in new.items())
    assert not gone, f"fixed, remove from KNOWN_FAILURES: {gone}"
