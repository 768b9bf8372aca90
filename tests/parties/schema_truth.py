"""Test helper: every way a real API response differs from the OpenAPI schema it declares.

The fuzz guard (tests/guards/test_api_fuzz.py) reports only the first difference of an
operation; this lists all of them, so a test can assert that a route's answer is what its
schema says (nulls, absent fields, lists declared as objects)."""

from __future__ import annotations

import functools

import jsonschema


def _json_schema(node):
    """OpenAPI 3.0 → JSON Schema: ``nullable: true`` becomes "or null"."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return _json_schema(SchemaGenerator().get_schema(request=None, public=True))


def response_schema(path: str, method: str = "get", status: str = "200") -> dict:
    """The declared JSON schema of a response, e.g. ``response_schema("/api/customers/")``."""
    operation = _document()["paths"][path][method]
    return operation["responses"][status]["content"]["application/json"]["schema"]


def violations(data, path: str, method: str = "get", status: str = "200") -> list[str]:
    """Every difference between ``data`` and the schema of that response, as readable lines."""
    schema = {**response_schema(path, method, status), "components": _document()["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:200]}"
        for error in validator.iter_errors(data)
    )
