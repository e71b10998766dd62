"""/openapi.json, made from the endpoint table and its pydantic models (one source)."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib import config
from chalicelib.api import models as m

_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Malformed request (body not JSON / not an object)",
    "401": "Missing or invalid bearer token",
    "403": "Forbidden, or not the lock holder",
    "404": "Not found",
    "405": "Method not allowed",
    "409": "Lock conflict, lock required or expired, concurrent modification",
    "413": "Payload too large",
    "422": "Validation error or a state rule refused the request",
    "429": "Rate limited",
    "503": "Datastore unavailable; retry (with the same Idempotency-Key)",
}


def _schema_of(annotation: Any, definitions: dict) -> dict:
    schema = TypeAdapter(annotation).json_schema(ref_template=_REF)
    definitions.update(schema.pop("$defs", {}))
    return schema


def _query_parameters(model: type, definitions: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=_REF)
    definitions.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


_TAGS = (  # first match: the section of the interactive docs an operation is listed in
    ("Dependencies", ("/dependencies",)),
    ("Locks", ("/lock", "/locks")),
    ("Atomic operations", ("/size", "/breakdown", "/refine", "/complete",
                           "/flag-refinement", "/work-log", "/commits")),
    ("Queues", ("/backlog", "/in-progress", "/needs-refinement", "/tasks/available")),
    ("Activity", ("/activity", "/history", "/agents")),
    ("Jobs", ("/jobs",)),
    ("Export and import", ("/export", "/import")),
    ("Tasks", ("/tasks",)),
    ("Projects", ("/projects",)),
)


def _tag(path: str) -> str:
    return next((tag for tag, parts in _TAGS if any(part in path for part in parts)),
                "Service")


def _operation(endpoint: Any, definitions: dict) -> dict:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", endpoint.path)
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query, definitions)
    if endpoint.idempotent:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 255}})
    operation: dict[str, Any] = {"operationId": endpoint.name, "summary": endpoint.summary,
                                 "tags": [_tag(endpoint.path)]}
    if endpoint.name == "health":
        operation["security"] = []
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        bodies = [endpoint.body] + ([endpoint.alternative_body] if endpoint.alternative_body
                                    else [])
        refs = [{"$ref": _REF.format(model=body.__name__)} for body in bodies]
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}}}
    success: dict[str, Any] = {"description": "Success"}
    if endpoint.response is not None:
        success["content"] = {"application/json": {
            "schema": _schema_of(endpoint.response, definitions)}}
    if endpoint.name == "export_project":
        success["content"]["text/markdown"] = {"schema": {"type": "string"}}
    links = _links(endpoint)
    if links:
        success["links"] = links
    responses = {str(endpoint.status): success}
    for status, model, description in endpoint.other_responses:
        other: dict[str, Any] = {"description": description}
        if model is not None:
            other["content"] = {"application/json": {"schema": _schema_of(model, definitions)}}
        responses[str(status)] = other
    for status, description in _ERRORS.items():
        responses[status] = {"description": description, "content": {"application/json": {
            "schema": {"$ref": _REF.format(model="ErrorEnvelope")}}}}
    operation["responses"] = responses
    return operation


# what a create answers -> the path parameter its `id` fills (OpenAPI links: a client, or a
# stateful fuzzer, learns which operations can use the new resource)
_CREATES = {"create_project": "project_id", "import_project": "project_id",
            "create_task": "task_id", "create_subtask": "task_id"}


def _links(endpoint: Any) -> dict:
    from chalicelib.api.endpoints import ENDPOINTS

    parameter = _CREATES.get(endpoint.name)
    if parameter is None:
        return {}
    return {
        f"{other.name}": {"operationId": other.name,
                          "parameters": {parameter: "$response.body#/id"}}
        for other in ENDPOINTS
        if re.findall(r"{(\w+)}", other.path) == [parameter]
    }


@lru_cache(maxsize=1)
def document() -> dict:
    from chalicelib.api.endpoints import ENDPOINTS

    bodies = {e.body for e in ENDPOINTS if e.body is not None}
    bodies |= {e.alternative_body for e in ENDPOINTS if e.alternative_body is not None}
    _, schemas = models_json_schema(
        [(model, "validation") for model in sorted(bodies, key=lambda b: b.__name__)]
        + [(m.ErrorEnvelope, "serialization")],
        ref_template=_REF,
    )
    definitions: dict = dict(schemas.get("$defs", {}))
    paths: dict[str, dict] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, definitions)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Chorus API", "version": config.VERSION,
                 "description": "Project management for AI coding agents. See docs/api.md."},
        "components": {
            "schemas": definitions,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
