"""The OpenAPI 3.1 document of the control API, served at `/api/v1/openapi.json`.

Written out rather than derived from the handlers, so it reads as the contract it is; the
request and record schemas are the very ones the handlers check and return (`calls`, `jobs`),
and a test compares its paths with the routes served, so neither can drift from the other."""

from __future__ import annotations

from typing import Any

from .calls import CALL_REQUEST, CALL_RESULT, COMPONENT, KINDS, MODEL_OBJECT
from .jobs import JOB_STATUS, MAX_RUNS, RUN_RECORD

PREFIX = "/api/v1"

ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": ["string", "integer"],
                    "description": "Stable: unknown_component, unknown_job, no_scheduler, "
                    "invalid_arguments, bad_request, malformed_json, bad_model, denied, "
                    "rate_limited, timeout, component_failed...",
                },
                "message": {"type": "string"},
                "data": {"type": "object", "description": "e.g. suggestions for a typo"},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

_WHY = {
    "400": "Malformed JSON, a body or query that breaks the schema, or a model that cannot run",
    "401": "No or bad credentials (with auth configured)",
    "403": "The policy does not let this caller call it",
    "404": "No such component, job, or no scheduler in this process",
    "413": "The body is over the gateway's limit",
    "422": "The input breaks the component's input schema",
    "429": "Over the caller's rate; Retry-After says when to retry",
    "502": "The model provider failed",
    "503": "Unavailable: an upstream is down, or the call was cancelled",
    "504": "The call ran past its timeout",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: str) -> dict[str, Any]:
    return {s: _json(_ref("Error"), _WHY[s]) for s in statuses}


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def _job_op(summary: str, ok: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tags": ["jobs"],
        "summary": summary,
        "parameters": [_NAME, *extra.pop("parameters", [])],
        "responses": {**ok, **_errors("404")},
        **extra,
    }


def _paths() -> dict[str, Any]:
    jobs = {"type": "array", "items": _ref("JobStatus")}
    runs = {"type": "array", "items": _ref("RunRecord")}
    paths: dict[str, Any] = {
        "/jobs": {
            "get": {
                "tags": ["jobs"],
                "summary": "Every scheduled job and where it stands",
                "operationId": "listJobs",
                "responses": {"200": _json(jobs, "The jobs"), **_errors("404")},
            }
        },
        "/jobs/{name}": {
            "get": _job_op(
                "One job", {"200": _json(_ref("JobStatus"), "The job")}, operationId="getJob"
            )
        },
        "/jobs/{name}/runs": {
            "get": _job_op(
                "The job's latest runs, newest first",
                {"200": _json(runs, "The runs")},
                operationId="listRuns",
                parameters=[
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RUNS},
                    }
                ],
            )
        },
        "/jobs/{name}/run": {
            "post": _job_op(
                "Run the job now (paused or not)",
                {
                    "202": _json(_ref("RunRecord"), "Started: the run as it begins"),
                    "200": _json(_ref("RunRecord"), "With wait=true: the finished run"),
                },
                operationId="runJob",
                parameters=[{"name": "wait", "in": "query", "schema": {"type": "boolean"}}],
            )
        },
        "/jobs/{name}/pause": {
            "post": _job_op(
                "Stop the job's scheduled runs (a run in progress finishes)",
                {"200": _json(_ref("JobStatus"), "The job, paused")},
                operationId="pauseJob",
            )
        },
        "/jobs/{name}/resume": {
            "post": _job_op(
                "Schedule the job's runs again",
                {"200": _json(_ref("JobStatus"), "The job, resumed")},
                operationId="resumeJob",
            )
        },
        "/components": {
            "get": {
                "tags": ["calls"],
                "summary": "The components this caller may call",
                "operationId": "listComponents",
                "parameters": [{"name": "kind", "in": "query", "schema": {"enum": list(KINDS)}}],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Component")}, "Components"),
                    **_errors("400"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["meta"],
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
            }
        },
    }
    for kind in KINDS:
        paths[f"/{kind}s/{{name}}"] = {
            "post": {
                "tags": ["calls"],
                "summary": f"Call a {kind} through the gateway's pipeline",
                "operationId": f"call{kind.capitalize()}",
                "parameters": [_NAME],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CallRequest")}},
                },
                "responses": {
                    "200": _json(_ref("CallResult"), "The result (is_error: it failed)"),
                    **_errors("400", "403", "404", "413", "422", "429", "502", "503", "504"),
                },
            }
        }
    return {f"{PREFIX}{path}": item for path, item in paths.items()}


def document(
    *, title: str, version: str, server: str | None = None, auth: bool = False
) -> dict[str, Any]:
    """The document for a gateway named `title`; `auth` declares the bearer and API key
    schemes the gateway's `[auth]` accepts, and a 401 on every operation but this one."""
    paths = _paths()
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": f"{title} control API",
            "version": version,
            "description": "Scheduled jobs, and the catalog's tools, agents and workflows, "
            "over plain JSON. Errors are {error: {code, message, data?}}.",
        },
        "servers": [{"url": server or "/"}],
        "paths": paths,
        "components": {
            "schemas": {
                "Error": ERROR,
                "JobStatus": JOB_STATUS,
                "RunRecord": RUN_RECORD,
                "Component": COMPONENT,
                "CallRequest": CALL_REQUEST,
                "CallResult": CALL_RESULT,
                "Model": MODEL_OBJECT,
            }
        },
    }
    if auth:
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A JWT or an API key"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        doc["security"] = [{"bearer": []}, {"apiKey": []}]
        for item in paths.values():
            for operation in item.values():
                operation["responses"].update(_errors("401"))
    return doc
