"""Errors as the control API answers them: `{"error": {"code", "message", "data"?}}` with the
HTTP status that says the same thing, whatever raised them (the pipeline, the scheduler, a bad
request, a route that does not exist)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.schema import CompiledSchema
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNKNOWN_COMPONENT: 404,
    ErrorCode.INVALID_ARGUMENTS: 422,
    ErrorCode.DENIED: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.CANCELLED: 503,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.NOT_CONFIGURED: 503,
    ErrorCode.PROVIDER_ERROR: 502,
}
"""The pipeline's codes that are not a plain failure of the component (500)."""


class ApiError(Exception):
    """A refusal of the API itself (a malformed body, an unknown job): status, code, message."""

    def __init__(
        self, status: int, code: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data or {}


def error_response(
    status: int,
    code: str,
    message: str,
    data: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if data:
        error["data"] = data
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.data)


async def pipeline_error(request: Request, exc: Exception) -> Response:
    """A call the pipeline refused or that failed: its stable code, the matching status."""
    assert isinstance(exc, LLMSpellError)
    headers = None
    retry = exc.data.get("retry_after")
    if exc.code is ErrorCode.RATE_LIMITED and isinstance(retry, int | float):
        headers = {"Retry-After": str(max(1, round(retry)))}
    return error_response(STATUS.get(exc.code, 500), str(exc.code), exc.message, exc.data, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, wrong method) in the same shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


HANDLERS = {ApiError: api_error, LLMSpellError: pipeline_error, HTTPException: http_error}


async def json_body(request: Request, schema: CompiledSchema) -> dict[str, Any]:
    """The request's JSON object, checked against `schema`; 400 saying what is wrong."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    try:
        schema.check("body", body)
    except LLMSpellError as exc:
        field, reason = exc.data.get("field"), exc.data.get("reason", exc.message)
        where = f" at '{field}'" if field else ""
        raise ApiError(400, "bad_request", f"invalid body{where}: {reason}", exc.data) from None
    return body


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(400, "bad_request", f"{name} must be a whole number from {low} to {high}")
    return int(text)


def query_flag(request: Request, name: str) -> bool:
    text = (request.query_params.get(name) or "false").lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise ApiError(400, "bad_request", f"{name} must be true or false")
    return text in ("true", "1", "yes")
