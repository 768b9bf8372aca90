"""Does a real API response match the OpenAPI schema the API publishes? (issue 12: the schema
must describe what the API really returns: nulls, lists, action responses)."""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

from servicebook.config.wsgi import application

_SCHEMA = None


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    return _SCHEMA


def check_conforms(user, method: str, path: str, *, query=None, path_parameters=None) -> None:
    """Call ``method path`` as ``user`` (token) and fail on any response/schema mismatch."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    operation = schema()[path][method.upper()]
    case = operation.Case(query=query or {}, path_parameters=path_parameters or {})
    response = case.call(headers={"Authorization": f"Token {token.key}"})
    assert response.status_code == 200, response.text[:300]
    case.validate_response(response, checks=[response_schema_conformance])
