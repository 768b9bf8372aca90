"""Validate a real API response against the OpenAPI schema the API publishes."""

from __future__ import annotations

import copy

import jsonschema


def published_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def json_schema(node, components):
    """OpenAPI 3.0 → JSON Schema: resolve $ref, ``nullable`` → a null type allowed."""
    if isinstance(node, list):
        return [json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {key: json_schema(value, components) for key, value in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def check_response(schema, path, method, response, status=200):
    """The response has the status and matches what the schema declares for it."""
    assert response.status_code == status, response.content[:300]
    operation = schema["paths"][path][method]
    declared = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    components = copy.deepcopy(schema["components"]["schemas"])
    jsonschema.validate(response.json(), json_schema(declared, components))
    return declared
